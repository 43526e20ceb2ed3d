#!/usr/bin/env python3
"""fastmarc against pymarc, side by side in one run, on the same generated records.

    python3 benches/python/bench_vs_pymarc.py [--records 10000] [--repeat 5] [--json OUT]

Prints a Markdown table of median wall times and speed-ups for:
- iterate: read every record (`for record in MARCReader(...)`), from an open file (as
  pymarc users do), and for fastmarc also from a path and from bytes;
- title + value(): `record.title` and `field.value()` of every field, on records already
  read (fresh for every run, read untimed, so fastmarc pays for making its field objects);
- as_marc(): serialise every record, on records already read (fresh for every run).
pymarc is run fewer times than fastmarc (it is slow); each figure is a median. Build
fastmarc in release mode first (`bash scripts/install.sh` does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import pymarc

import fastmarc
from fixture import fixture, machine, median_seconds

TARGETS = {"iterate": 100, "title + value()": 30, "as_marc()": 100}


def iterate_file(lib, path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in lib.MARCReader(handle))


def title_and_values(records) -> int:
    n = 0
    for record in records:
        record.title
        for field in record.fields:
            field.value()
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each fastmarc measurement")
    ap.add_argument("--pymarc-repeat", type=int, default=3, help="runs of each pymarc measurement")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    path = fixture(args.records)
    data = path.read_bytes()
    size = len(data)
    reps = {pymarc: args.pymarc_repeat, fastmarc: args.repeat}
    rows = []

    def row(name, slow, fast, note=""):
        rows.append({"operation": name, "pymarc_s": slow, "fastmarc_s": fast,
                     "speedup": slow / fast, "target": TARGETS.get(name), "note": note})

    # Check first that both read the same records.
    assert iterate_file(pymarc, path) == iterate_file(fastmarc, path) == args.records

    slow = median_seconds(lambda: iterate_file(pymarc, path), reps[pymarc])
    fast = median_seconds(lambda: iterate_file(fastmarc, path), reps[fastmarc])
    row("iterate", slow, fast, "open file object")
    for label, source in (("path", str(path)), ("bytes", data)):
        fast_src = median_seconds(lambda: sum(1 for _ in fastmarc.MARCReader(source)), reps[fastmarc])
        row(f"iterate ({label})", slow, fast_src, f"fastmarc reads a {label}; pymarc an open file")

    marc8 = fixture(args.records, marc8=True)
    slow = median_seconds(lambda: iterate_file(pymarc, marc8), reps[pymarc])
    fast = median_seconds(lambda: iterate_file(fastmarc, marc8), reps[fastmarc])
    row("iterate, MARC-8 to Unicode", slow, fast, "open file object, MARC-8 fixture")

    import tempfile
    out_dir = tempfile.mkdtemp(prefix="fastmarc-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    out = os.path.join(out_dir, "out.mrc")

    def write_with(lib, records, to_path):
        if to_path:
            writer = lib.MARCWriter(out)
            for r in records:
                writer.write(r)
            writer.close()
        else:
            with open(out, "wb") as handle:
                writer = lib.MARCWriter(handle)
                for r in records:
                    writer.write(r)
                writer.close(close_fh=False)

    for label, to_path in (("MARCWriter (file object)", False), ("MARCWriter (path)", True)):
        timings = {}
        for lib in (pymarc, fastmarc):
            box = {}

            def setup(lib=lib, box=box):
                box["records"] = list(lib.MARCReader(data))

            path_here = to_path and lib is fastmarc  # pymarc's MARCWriter takes a file object
            timings[lib] = median_seconds(lambda lib=lib, box=box, p=path_here: write_with(lib, box["records"], p),
                                          reps[lib], setup)
        row(label, timings[pymarc], timings[fastmarc],
            "records in memory; pymarc writes to a file object" if to_path else "records in memory")
    shutil.rmtree(out_dir, ignore_errors=True)

    for name, work in (("title + value()", title_and_values), ("as_marc()", lambda rs: [r.as_marc() for r in rs])):
        timings = {}
        for lib in (pymarc, fastmarc):
            box = {}

            def setup(lib=lib, box=box):
                box["records"] = list(lib.MARCReader(data))

            timings[lib] = median_seconds(lambda box=box: work(box["records"]), reps[lib], setup)
        row(name, timings[pymarc], timings[fastmarc], "records in memory, fresh each run")
    # The same on records whose field objects already exist (a second pass).
    warm = {}
    for lib in (pymarc, fastmarc):
        records = list(lib.MARCReader(data))
        title_and_values(records)
        warm[lib] = median_seconds(lambda records=records: title_and_values(records), reps[lib])
    row("title + value(), second pass", warm[pymarc], warm[fastmarc], "field objects already made")

    print(f"{args.records} records, {size / 1e6:.1f} MB ({size // args.records} bytes/record); {machine()}")
    print(f"pymarc {pymarc.__version__ if hasattr(pymarc, '__version__') else '5.4.0'}, "
          f"fastmarc {fastmarc.__version__}; medians of {reps[pymarc]} (pymarc) and {reps[fastmarc]} (fastmarc) runs\n")
    print("| operation | pymarc | fastmarc | speed-up | target |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        target = f"≥ {r['target']}×" if r["target"] else ""
        print(f"| {r['operation']} | {r['pymarc_s']:.3f} s | {r['fastmarc_s']:.4f} s | {r['speedup']:.0f}× | {target} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"records": args.records, "bytes": size, "machine": machine(), "rows": rows}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
