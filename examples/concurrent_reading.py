#!/usr/bin/env python3
"""Read several MARC files at once from a ThreadPoolExecutor, and measure the speed-up.

fastmarc's MARCReader reads and parses with the GIL released, so threads reading different
files run on different cores. This script makes FILES copies of a MARC file (each the
records of SOURCE repeated COPIES times) in a temporary directory, reads them all on one
thread, then on WORKERS threads (one reader per file), checks that both runs saw the same
records, and prints the times and the speed-up it measured.

    python3 examples/concurrent_reading.py                     # data/sample.mrc, small
    python3 examples/concurrent_reading.py big.mrc --files 8 --copies 1 --workers 4

The speed-up depends on the machine and what else it is doing; see docs/THREADING.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fastmarc

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample.mrc"


def read_file(path: Path) -> tuple[int, int]:
    """Read every record of `path`; returns (records, characters of title text)."""
    records = title_chars = 0
    # A path: Rust does the file I/O. One parser thread per file: the threads reading the
    # files are what this measures (a reader on the main thread would take a second one).
    for record in fastmarc.MARCReader(str(path), threads=1):
        if record is None:
            raise ValueError(f"{path}: record {records + 1} cannot be read")
        records += 1
        title_chars += len(record.title or "")
    return records, title_chars


def read_all(paths: list[Path], workers: int) -> list[tuple[int, int]]:
    """Read `paths` on `workers` threads (1: one after the other on this thread)."""
    if workers == 1:
        return [read_file(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(read_file, paths))


def median_seconds(run, repeats: int) -> tuple[float, object]:
    """The median time of `repeats` calls of `run`, and what the last call returned."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=SAMPLE, help="ISO 2709 file [data/sample.mrc]")
    parser.add_argument("--files", type=int, default=4, help="files to read [4]")
    parser.add_argument("--copies", type=int, default=40, help="copies of SOURCE's records per file [40]")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 1), help="threads [cores, at least 2]")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each; the median is shown [3]")
    args = parser.parse_args()
    if min(args.files, args.copies, args.workers, args.repeats) < 1:
        parser.error("--files, --copies, --workers and --repeats must be at least 1")

    data = args.source.read_bytes() * args.copies
    with tempfile.TemporaryDirectory(prefix="fastmarc-example-") as tmp:
        paths = [Path(tmp) / f"copy{i:02d}.mrc" for i in range(args.files)]
        for path in paths:
            path.write_bytes(data)
        one_time, one = median_seconds(lambda: read_all(paths, 1), args.repeats)
        many_time, many = median_seconds(lambda: read_all(paths, args.workers), args.repeats)

    if one != many:
        print("error: the threaded run saw different records from the single-threaded one", file=sys.stderr)
        return 1
    records = sum(n for n, _ in one)
    print(f"read {args.files} files of {one[0][0]} records each ({len(data) / 1e6:.1f} MB each), "
          f"{records} records in all")
    print(f"1 thread:   {one_time:.3f} s")
    print(f"{args.workers} threads: {many_time:.3f} s")
    print(f"speed-up:   {one_time / many_time:.2f}x with {args.workers} threads "
          f"on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
