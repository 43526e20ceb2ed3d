#!/usr/bin/env python3
"""The `fastmarc` command's conversions on one and on N parser threads.

    python3 benches/python/cli_convert.py [--records 100000] [--rounds 11] [--threads 2]

Builds the standalone binary (release), makes the fixture if needed, then times
`fastmarc convert --threads T FIXTURE OUT --to F` for every output format F and T in
{1, N}, each run its own process, in a new random order every round, output on /dev/shm
when it exists. Prints each format's median times and the median of the rounds' ratios
(time with 1 thread / time with N), so the machine's drift stays out of the comparison.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fixture import REPO, fixture, machine

FORMATS = ["iso2709", "xml", "json", "text"]


def build() -> str:
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "fastmarc-cli"], cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "fastmarc")


def seconds(exe: str, src: Path, out: Path, to: str, threads: int) -> float:
    start = time.perf_counter()
    subprocess.run([exe, "convert", "--threads", str(threads), "--to", to, str(src), str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    exe = build()
    src = fixture(a.records)
    shm = Path("/dev/shm")
    runs = [(to, t) for to in FORMATS for t in (1, a.threads)]
    times: dict[tuple[str, int], list[float]] = {r: [] for r in runs}
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        out = Path(tmp) / "out"
        for _ in range(a.rounds):
            order = runs[:]
            random.shuffle(order)
            for to, t in order:
                times[(to, t)].append(seconds(exe, src, out, to, t))
    print(f"{a.records} records, {src.stat().st_size / 1e6:.1f} MB; {machine()}; {a.rounds} rounds in random order\n")
    print(f"| output | 1 thread | {a.threads} threads | speed-up (median of rounds) |")
    print("|---|---:|---:|---:|")
    for to in FORMATS:
        one, many = times[(to, 1)], times[(to, a.threads)]
        ratio = statistics.median(o / m for o, m in zip(one, many))
        print(f"| {to} | {statistics.median(one):.3f} s | {statistics.median(many):.3f} s | {ratio:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
