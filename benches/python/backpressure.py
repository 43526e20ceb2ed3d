#!/usr/bin/env python3
"""Memory stays bounded however slow the consumer: the parallel reader reads ahead only a
few batches.

    python3 benches/python/backpressure.py [--records 260000] [--slow 3000] [--threads 2]

Generates a fixture of --records records (about 1.1 KB each: 260,000 is some 300 MB), then
in a fresh process reads it with MARCReader(path, threads=N) and with the plain reader,
sleeping 1 ms after each of the first --slow records (a consumer far slower than the
parser threads), then reading the rest at full speed. Prints resident memory (VmRSS) before
the reader exists, its peak while the consumer is slow, and its peak over the whole file.
Without backpressure the parser threads would read the whole file while the consumer
sleeps. Not a test: it reports figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from fixture import fixture, machine

CHILD = r"""
import sys, time
import fastmarc

def rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

path, threads, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = rss_mib()
reader = fastmarc.MARCReader(path, threads=threads)
slow_peak = peak = start
n = 0
began = time.perf_counter()
for record in reader:
    n += 1
    if n <= slow:
        time.sleep(0.001)
        slow_peak = max(slow_peak, rss_mib())
    elif n % 1000 == 0:
        peak = max(peak, rss_mib())
peak = max(peak, slow_peak, rss_mib())
print(f"{threads}\t{n}\t{start:.1f}\t{slow_peak:.1f}\t{peak:.1f}\t{time.perf_counter() - began:.1f}")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=260_000)
    ap.add_argument("--slow", type=int, default=3000, help="records read with a 1 ms sleep after each")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    path = fixture(args.records)
    size = path.stat().st_size
    print(f"{args.records} records, {size / 1e6:.0f} MB; {machine()}")
    print("| reader | records | RSS before (MiB) | peak while slow | peak, whole file | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for threads in (args.threads, 1):
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(threads), str(args.slow)],
                             check=True, capture_output=True, text=True).stdout.split()
        label = f"MARCReader(path, threads={threads})"
        print(f"| {label} | {out[1]} | {out[2]} | {out[3]} | {out[4]} | {out[5]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
