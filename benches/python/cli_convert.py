#!/usr/bin/env python3
"""The `fastmarc` command's conversions on one and on N parser threads.

    python3 benches/python/cli_convert.py [--records 100000] [--rounds 11] [--threads 2]

Builds the standalone binary (release), makes the fixture if needed, then times
`fastmarc convert --threads T FIXTURE OUT --to F` for every output format F and T in
{1, N}, each run its own process, in a new random order every round, output on /dev/shm
when it exists. Prints each format's median times and the median of the rounds' ratios
(time with 1 thread / time with N), so the machine's drift stays out of the comparison.
With 2 threads, each format's speed-up is also given as a share of this machine's ceiling
for the same job, taken in the same rounds: two one-thread conversions at once, each of
one half of the file.
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

from fixture import REPO, fixture, machine, split_records

FORMATS = ["iso2709", "xml", "json", "text"]


def build() -> str:
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "fastmarc-cli"], cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "fastmarc")


def seconds(exe: str, sources: list[Path], out: Path, to: str, threads: int) -> float:
    """Wall time of one conversion per source, all started at once."""
    start = time.perf_counter()
    procs = [subprocess.Popen([exe, "convert", "--threads", str(threads), "--to", to, str(src), f"{out}.{i}"],
                              stdout=subprocess.DEVNULL) for i, src in enumerate(sources)]
    if any(proc.wait() for proc in procs):
        raise RuntimeError(f"fastmarc convert --to {to} failed")
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
    halves = split_records(src, 2)
    # Thread count 0 stands for the ceiling: one-thread conversions of the halves at once.
    runs = [(to, t) for to in FORMATS for t in (1, a.threads, 0)]
    times: dict[tuple[str, int], list[float]] = {r: [] for r in runs}
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        out = Path(tmp) / "out"
        for _ in range(a.rounds):
            order = runs[:]
            random.shuffle(order)
            for to, t in order:
                times[(to, t)].append(seconds(exe, halves if t == 0 else [src], out, to, t or 1))
    print(f"{a.records} records, {src.stat().st_size / 1e6:.1f} MB; {machine()}; {a.rounds} rounds in random order\n")
    print(f"| output | 1 thread | {a.threads} threads | speed-up (median of rounds) "
          "| 2 halves at once (the ceiling) | share of the ceiling |")
    print("|---|---:|---:|---:|---:|---:|")
    for to in FORMATS:
        one, many, ceiling = times[(to, 1)], times[(to, a.threads)], times[(to, 0)]
        ratio = statistics.median(o / m for o, m in zip(one, many))
        top = statistics.median(o / c for o, c in zip(one, ceiling))
        share = statistics.median(c / m for c, m in zip(ceiling, many)) if a.threads == 2 else float("nan")
        print(f"| {to} | {statistics.median(one):.3f} s | {statistics.median(many):.3f} s | {ratio:.2f}× "
              f"| {top:.2f}× | {share:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
