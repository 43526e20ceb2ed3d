#!/usr/bin/env python3
"""The core's readers side by side: the Rust table of docs/PERFORMANCE.md.

    python3 benches/python/rust_readers.py [--records 100000] [--rounds 15] [--threads 2]
        [--file FILE] [--other-exe READ_BENCH]

Builds `read_bench` (release), makes the fixture if needed, then runs these modes of it,
each in its own process, in a new random order every round:

- `sequential`: the plain `iso2709::Reader`, full validation;
- `marc crate`: the `marc` crate 3.1 over the same file (every field and subfield);
- `pipeline 1`, `pipeline N`: the ordered `ParallelReader` with 1 and N parser threads;
- `map N`: the same pipeline as a `ParallelMap`, each record's counts taken on the thread
  that parsed it (only the counts reach the consumer);
- `N independent`: N sequential readers at once, each over the whole file, sharing
  nothing (N times the work): what N threads can get from this machine at all;
- `N halves`: N sequential reader processes at once, each on its own 1/N of the file (split
  at record boundaries), timed by the slowest: this machine's ceiling for the job, against
  which the pipeline's and the map's speed-ups are also given as a share.

`--file` reads a file of your own (real catalogue records, say) instead of the generated
fixture. `--other-exe` adds the modes run by another build of `read_bench` (the main
branch's, say), interleaved with these in every round, for a side-by-side comparison.

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
from pathlib import Path

from fixture import REPO, fixture, machine, split_records


def build() -> str:
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "fastmarc", "--example", "read_bench"],
                   cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "examples" / "read_bench")


def seconds(exe: str, path: str, args: list[str]) -> float:
    out = subprocess.run([exe, path, *args], check=True, capture_output=True, text=True).stdout
    return float(out.split("seconds=")[1])


def slowest_of(exe: str, paths: list[str]) -> float:
    """Sequential readers on `paths`, one process each, all at once: the slowest's time."""
    procs = [subprocess.Popen([exe, p], stdout=subprocess.PIPE, text=True) for p in paths]
    outs = [proc.communicate()[0] for proc in procs]
    if any(proc.returncode for proc in procs):
        raise RuntimeError("read_bench failed")
    return max(float(out.split("seconds=")[1]) for out in outs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--file", type=Path, help="read this file instead of the generated fixture")
    ap.add_argument("--other-exe", help="another read_bench build to compare, mode by mode")
    a = ap.parse_args()
    n = a.threads
    path = a.file or fixture(a.records)
    exe = build()
    halves = [str(p) for p in split_records(path, n)]
    modes = {
        "sequential": (exe, [], 1),
        "marc crate": (exe, ["--marc-crate"], 1),
        "pipeline 1": (exe, ["--threads", "1"], 1),
        f"pipeline {n}": (exe, ["--threads", str(n)], 1),
        f"map {n}": (exe, ["--threads", str(n), "--map"], 1),
        f"{n} independent": (exe, ["--independent", str(n)], n),
        f"{n} halves": (exe, None, 1),
    }
    if a.other_exe:
        for m in ["sequential", "pipeline 1", f"pipeline {n}", f"map {n}"]:
            modes[f"{m} (other)"] = (a.other_exe, modes[m][1], 1)
    size = path.stat().st_size
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(a.rounds):
        order = list(modes)
        random.shuffle(order)
        for m in order:
            run, args, _ = modes[m]
            times[m].append(slowest_of(run, halves) if args is None else seconds(run, str(path), args))
    base = times["sequential"]
    ceiling = times[f"{n} halves"]
    print(f"{path.name}: {size / 1e6:.1f} MB; {machine()}; {a.rounds} rounds in random order\n")
    print("| reader | median | throughput | speed-up over sequential (median of rounds) "
          "| share of the ceiling |")
    print("|---|---:|---:|---:|---:|")
    for m, (_, _, work) in modes.items():
        med = statistics.median(times[m])
        ratio = statistics.median(work * b / t for b, t in zip(base, times[m]))
        share = statistics.median(c / t for c, t in zip(ceiling, times[m]))
        print(f"| {m} | {med * 1e3:.0f} ms | {work * size / med / 1e6:,.0f} MB/s | {ratio:.2f}× "
              f"| {share:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
