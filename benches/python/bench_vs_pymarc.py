#!/usr/bin/env python3
"""fastmarc against pymarc, side by side in one run, on the same generated records.

    python3 benches/python/bench_vs_pymarc.py [--records 10000] [--rounds 5] [--repeat 5] [--json OUT]

Prints a Markdown table of median wall times and speed-ups for:
- iterate: read every record (`for record in MARCReader(...)`), from an open file (as
  pymarc users do), and for fastmarc also from a path and from bytes;
- title + value(): `record.title` and `field.value()` of every field, on records already
  read (fresh for every run, read untimed, so fastmarc pays for making its field objects);
- as_marc(): serialise every record, on records already read (fresh for every run);
- the ceiling for title + value(): pymarc's title + value() against fastmarc's same loop
  with a do-nothing native method in place of value(), on records whose fields exist.
The two run in alternation: each round times pymarc once, then fastmarc --repeat times
(their median), and the speed-up is the median over --rounds rounds of the round's ratio.
This machine's speed drifts by up to half from one minute to the next; timing all of
pymarc first and all of fastmarc after would put that drift into the ratio. Times shown
are medians too. Build fastmarc in release mode first (`bash scripts/install.sh` does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import pymarc

import fastmarc
from fixture import fixture, machine, paired_seconds, real_fixture

TARGETS = {"iterate": 100, "title + value()": 30, "as_marc()": 100}


def iterate_file(lib, path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in lib.MARCReader(handle, **one_thread(lib)))


def one_thread(lib) -> dict:
    """fastmarc parsing on the calling thread, as pymarc does (its default parses a large
    file on a second core too)."""
    return {"threads": 1} if lib is fastmarc else {}


def title_and_values(records) -> int:
    n = 0
    for record in records:
        record.title
        for field in record.fields:
            field.value()
            n += 1
    return n


def loop_floor(records) -> int:
    """title_and_values' loop with a method that does nothing (returns a constant) for
    value(): what the interpreter costs per field whatever value() does."""
    n = 0
    for record in records:
        record.title
        for field in record.fields:
            field.is_control_field()
            n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5, help="rounds of pymarc-then-fastmarc runs")
    ap.add_argument("--repeat", type=int, default=5, help="fastmarc runs per round")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--real", action="store_true",
                    help="real catalogue records (pymarc's test files, repeated) instead of generated ones")
    args = ap.parse_args()

    path = real_fixture(args.records) if args.real else fixture(args.records)
    data = path.read_bytes()
    size = len(data)
    rows = []

    def row(name, timing, note=""):
        slow, fast, ratio = timing
        rows.append({"operation": name, "pymarc_s": slow, "fastmarc_s": fast,
                     "speedup": ratio, "target": TARGETS.get(name), "note": note})

    def compare(slow, fast, setup_slow=None, setup_fast=None):
        return paired_seconds(slow, fast, args.rounds, args.repeat, setup_slow, setup_fast)

    # Check first that both read the same records.
    assert iterate_file(pymarc, path) == iterate_file(fastmarc, path) == args.records

    row("iterate", compare(lambda: iterate_file(pymarc, path), lambda: iterate_file(fastmarc, path)),
        "open file object")
    for label, source in (("path", str(path)), ("bytes", data)):
        row(f"iterate ({label})",
            compare(lambda: iterate_file(pymarc, path), lambda s=source: sum(1 for _ in fastmarc.MARCReader(s, threads=1))),
            f"fastmarc reads a {label}; pymarc an open file")

    marc8 = fixture(args.records, marc8=True)
    row("iterate, MARC-8 to Unicode",
        compare(lambda: iterate_file(pymarc, marc8), lambda: iterate_file(fastmarc, marc8)),
        "open file object, MARC-8 fixture")

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

    # Records in memory, read untimed before each run, fresh for every run.
    boxes = {pymarc: {}, fastmarc: {}}
    setups = {lib: (lambda lib=lib: boxes[lib].__setitem__("records", list(lib.MARCReader(data))))
              for lib in (pymarc, fastmarc)}

    def on_records(work_for):
        """compare() of work_for(lib)(records) on fresh records."""
        return compare(lambda: work_for(pymarc)(boxes[pymarc]["records"]),
                       lambda: work_for(fastmarc)(boxes[fastmarc]["records"]),
                       setups[pymarc], setups[fastmarc])

    for label, to_path in (("MARCWriter (file object)", False), ("MARCWriter (path)", True)):
        # pymarc's MARCWriter takes a file object only.
        timing = on_records(lambda lib, p=to_path: (lambda rs: write_with(lib, rs, p and lib is fastmarc)))
        row(label, timing, "records in memory; pymarc writes to a file object" if to_path else "records in memory")
    shutil.rmtree(out_dir, ignore_errors=True)

    row("title + value()", on_records(lambda lib: title_and_values), "records in memory, fresh each run")
    row("as_marc()", on_records(lambda lib: (lambda rs: [r.as_marc() for r in rs])),
        "records in memory, fresh each run")
    # The same on records whose field objects already exist (a second pass).
    warm = {lib: list(lib.MARCReader(data)) for lib in (pymarc, fastmarc)}
    for records in warm.values():
        title_and_values(records)
    row("title + value(), second pass",
        compare(lambda: title_and_values(warm[pymarc]), lambda: title_and_values(warm[fastmarc])),
        "field objects already made")
    # The ceiling: the same loop with value() replaced by a native method that computes
    # nothing. No implementation of value() can beat this speed-up.
    row("ceiling: the loop with a no-op native method",
        compare(lambda: title_and_values(warm[pymarc]), lambda: loop_floor(warm[fastmarc])),
        "pymarc: title + value(); fastmarc: title + is_control_field()")

    print(f"{args.records} records, {size / 1e6:.1f} MB ({size // args.records} bytes/record); {machine()}")
    print(f"pymarc {pymarc.__version__ if hasattr(pymarc, '__version__') else '5.4.0'}, "
          f"fastmarc {fastmarc.__version__}; {args.rounds} rounds of one pymarc run and {args.repeat} fastmarc runs; "
          f"speed-up: median of the rounds' ratios\n")
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
