#!/usr/bin/env python3
"""The core's readers side by side: the Rust table of docs/PERFORMANCE.md.

    python3 benches/python/rust_readers.py [--records 100000] [--rounds 15] [--threads 2]

Builds `read_bench` (release), makes the fixture if needed, then runs these modes of it,
each in its own process, in a new random order every round:

- `sequential`: the plain `iso2709::Reader`, full validation;
- `marc crate`: the `marc` crate 3.1 over the same file (every field and subfield);
- `pipeline 1`, `pipeline N`: the ordered `ParallelReader` with 1 and N parser threads;
- `map N`: the same pipeline as a `ParallelMap`, each record's counts taken on the thread
  that parsed it (only the counts reach the consumer);
- `N independent`: N sequential readers at once, each over the whole file, sharing
  nothing (N times the work): what N threads can get from this machine at all.

Prints each mode's median time and throughput, and each mode's speed-up over the
sequential reader as the median of the rounds' ratios (for `N independent`, N times its
ratio, since it does N times the work). Random order and per-round ratios keep this
machine's drift (its speed changes by half within minutes) out of the comparison.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys

from fixture import REPO, fixture, machine


def build() -> str:
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "fastmarc", "--example", "read_bench"],
                   cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "examples" / "read_bench")


def seconds(exe: str, path: str, args: list[str]) -> float:
    out = subprocess.run([exe, path, *args], check=True, capture_output=True, text=True).stdout
    return float(out.split("seconds=")[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    n = a.threads
    modes = {
        "sequential": ([], 1),
        "marc crate": (["--marc-crate"], 1),
        "pipeline 1": (["--threads", "1"], 1),
        f"pipeline {n}": (["--threads", str(n)], 1),
        f"map {n}": (["--threads", str(n), "--map"], 1),
        f"{n} independent": (["--independent", str(n)], n),
    }
    exe = build()
    path = fixture(a.records)
    size = path.stat().st_size
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(a.rounds):
        order = list(modes)
        random.shuffle(order)
        for m in order:
            times[m].append(seconds(exe, str(path), modes[m][0]))
    base = times["sequential"]
    print(f"{a.records} records, {size / 1e6:.1f} MB; {machine()}; {a.rounds} rounds in random order\n")
    print("| reader | median | throughput | speed-up over sequential (median of rounds) |")
    print("|---|---:|---:|---:|")
    for m, (_, work) in modes.items():
        med = statistics.median(times[m])
        ratio = statistics.median(work * b / t for b, t in zip(base, times[m]))
        print(f"| {m} | {med * 1e3:.0f} ms | {work * size / med / 1e6:,.0f} MB/s | {ratio:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
