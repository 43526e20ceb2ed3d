#!/usr/bin/env python3
"""Write several MARC files at once from a ThreadPoolExecutor, and measure the speed-up.

fastmarc serialises a record (`record.as_marc()`, which `MARCWriter.write` calls) with the
GIL released, so threads writing different files run on different cores. This script reads
SOURCE's records repeated COPIES times, once for each of FILES files, then writes the
files (one MARCWriter per file, each writing its own records) on one thread and then on
WORKERS threads, checks that every file reads back as the records written, and prints the
times and the speed-up it measured.

    python3 examples/concurrent_writing.py                     # data/sample.mrc, small
    python3 examples/concurrent_writing.py big.mrc --files 8 --copies 1 --workers 4

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


def write_file(path: Path, records: list) -> None:
    """Write `records` to `path`, with a MARCWriter of its own."""
    writer = fastmarc.MARCWriter(str(path))  # fastmarc also takes a path here
    try:
        for record in records:
            writer.write(record)
    finally:
        writer.close()


def write_all(paths: list[Path], batches: list[list], workers: int) -> None:
    """Write batch i to file i, on `workers` threads (1: one after the other)."""
    if workers == 1:
        for path, records in zip(paths, batches):
            write_file(path, records)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # list() so that an exception in a worker is raised here.
        list(pool.map(write_file, paths, batches))


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=SAMPLE, help="ISO 2709 file [data/sample.mrc]")
    parser.add_argument("--files", type=int, default=4, help="files to write [4]")
    parser.add_argument("--copies", type=int, default=40, help="copies of SOURCE's records per file [40]")
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 1), help="threads [cores, at least 2]")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each; the median is shown [3]")
    args = parser.parse_args()
    if min(args.files, args.copies, args.workers, args.repeats) < 1:
        parser.error("--files, --copies, --workers and --repeats must be at least 1")

    data = args.source.read_bytes() * args.copies
    # Each file gets Record objects of its own: a thread works on its own records.
    batches = [[r for r in fastmarc.MARCReader(data) if r is not None] for _ in range(args.files)]
    expected = [r.as_marc() for r in batches[0]]
    with tempfile.TemporaryDirectory(prefix="fastmarc-example-") as tmp:
        one_dir, many_dir = Path(tmp) / "one", Path(tmp) / "many"
        one_dir.mkdir()
        many_dir.mkdir()
        one = [one_dir / f"out{i:02d}.mrc" for i in range(args.files)]
        many = [many_dir / f"out{i:02d}.mrc" for i in range(args.files)]
        one_time = median_seconds(lambda: write_all(one, batches, 1), args.repeats)
        many_time = median_seconds(lambda: write_all(many, batches, args.workers), args.repeats)
        for path in one + many:
            written = [r.as_marc() for r in fastmarc.MARCReader(str(path))]
            if written != expected:
                print(f"error: {path.name} does not hold the records written", file=sys.stderr)
                return 1
        size = one[0].stat().st_size

    print(f"wrote {args.files} files of {len(expected)} records each ({size / 1e6:.1f} MB each), "
          f"{args.files * len(expected)} records in all")
    print(f"1 thread:   {one_time:.3f} s")
    print(f"{args.workers} threads: {many_time:.3f} s")
    print(f"speed-up:   {one_time / many_time:.2f}x with {args.workers} threads "
          f"on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
