#!/usr/bin/env python3
"""fastmarc against pymarc at everything people do with records, first access.

    python3 benches/python/bench_matrix.py [--records 20000] [--rounds 3] [--data real,fixture]
        [--only OP,...] [--baseline-python PYTHON] [--json OUT]

Each operation runs on records just read and not yet touched (read untimed before each run,
as a program reads a record and then uses it), except the reading rows, which time the
reading itself. Each library runs in its own process (`import fastmarc as pymarc` in one,
pymarc in the other), one process per library and round, alternating, so neither warms the
other's caches; the speed-up is the median over rounds of pymarc's time over fastmarc's.
With --baseline-python, a third process per round runs fastmarc from that interpreter (an
earlier build, say) and a column compares the two fastmarc builds.

Data sets:
- real: pymarc 5.4.0's own test files (the `.dat` files under cache/pymarc-5.4.0/test that
  pymarc reads without an error), concatenated and repeated to --records records;
- fixture: the generated fixture of fixture.py (~1.1 KB realistic UTF-8 records).
The MARCXML and MARC-in-JSON documents are written from the same records by pymarc.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYMARC_TESTS = REPO / "cache" / "pymarc-5.4.0" / "test"

SUBJECT_TAGS = ("600", "610", "650", "651")


def _title_author_isbn_subjects(records):
    for r in records:
        r.title
        r.author
        r.isbn
        r.subjects


def _get_fields(records):
    for r in records:
        r.get_fields("020", "100", "650", "700")


def _tag_code(records):
    for r in records:
        try:
            r["245"]["a"]
        except KeyError:
            pass


def _get_subfields(records):
    for r in records:
        for f in r.get_fields():
            f.get_subfields("a", "b")


def _value(records):
    for r in records:
        for f in r.get_fields():
            f.value()


def _format_field(records):
    for r in records:
        for f in r.get_fields():
            f.format_field()


def _walk_subfields(records):
    # A converter's walk (marctable's, say): every field, and every subfield of a data field.
    for r in records:
        for f in r.fields:
            if f.is_control_field():
                f.data  # noqa: B018
            else:
                for sf in f.subfields:
                    sf.code, sf.value  # noqa: B018


def _add_remove(lib):
    def run(records):
        for r in records:
            f = lib.Field("500", lib.Indicators(" ", " "), [lib.Subfield("a", "A note.")])
            r.add_ordered_field(f)
            r.remove_field(f)

    return run


def _writer(name: str, buffer):
    def for_lib(lib):
        def run(records):
            writer = getattr(lib, name)(buffer())
            for r in records:
                writer.write(r)
            writer.close(close_fh=False)

        return run

    return for_lib


# Operations on records just read: name -> work(lib) -> (records -> None).
ON_RECORDS = {
    "as_marc()": lambda lib: lambda rs: [r.as_marc() for r in rs],
    "as_json()": lambda lib: lambda rs: [r.as_json() for r in rs],
    "str(record)": lambda lib: lambda rs: [str(r) for r in rs],
    "title/author/isbn/subjects": lambda lib: _title_author_isbn_subjects,
    "get_fields(tags)": lambda lib: _get_fields,
    "record[tag][code]": lambda lib: _tag_code,
    "get_subfields": lambda lib: _get_subfields,
    "value()": lambda lib: _value,
    "format_field()": lambda lib: _format_field,
    "fields + subfields walk": lambda lib: _walk_subfields,
    "add_ordered_field + remove_field": _add_remove,
    "JSONWriter": _writer("JSONWriter", io.StringIO),
    "as_dict()": lambda lib: lambda rs: [r.as_dict() for r in rs],
    "record_to_xml()": lambda lib: lambda rs: [lib.record_to_xml(r) for r in rs],
    "XMLWriter": _writer("XMLWriter", io.BytesIO),
}


def _read_iso(lib, paths):
    with open(paths["mrc"], "rb") as handle:
        for _ in lib.MARCReader(handle):
            pass


def _common_loop(lib, paths):
    with open(paths["mrc"], "rb") as handle:
        for record in lib.MARCReader(handle):
            record.title
            for f in record.get_fields():
                f.value()


def _json_reader(lib, paths):
    for _ in lib.JSONReader(paths["json"]):
        pass


# Operations that read (reading timed): name -> work(lib, paths).
READING = {
    "read ISO 2709": _read_iso,
    "parse_xml_to_array": lambda lib, paths: lib.parse_xml_to_array(paths["xml"]),
    "JSONReader": _json_reader,
    "loop: read + title + value() of every field": _common_loop,
}

ORDER = [
    "read ISO 2709", "as_marc()", "as_json()", "str(record)", "parse_xml_to_array", "JSONReader",
    "title/author/isbn/subjects", "get_fields(tags)", "record[tag][code]", "get_subfields",
    "value()", "format_field()", "fields + subfields walk", "add_ordered_field + remove_field", "JSONWriter", "as_dict()",
    "record_to_xml()", "XMLWriter", "loop: read + title + value() of every field",
]

TARGETS = {name: 1.2 for name in ORDER}
TARGETS.update({"parse_xml_to_array": 20, "JSONReader": 20, "JSONWriter": 20, "record_to_xml()": 20,
                "XMLWriter": 20, "as_dict()": 5, "loop: read + title + value() of every field": 25})


def worker(lib_name: str, paths: dict, ops: list[str]) -> dict:
    """Time each op once in this process; seconds by op name."""
    if lib_name == "pymarc":
        import pymarc as lib
    else:
        import fastmarc as lib
    data = Path(paths["mrc"]).read_bytes()
    # Both libraries' records are read, as a program has them, not copied: pymarc's times
    # move with the state of its heap (unpickled copies, made after the read records were
    # freed, made its as_dict() a quarter faster and its value() slower).
    fresh = lambda: list(lib.MARCReader(data))  # noqa: E731
    times = {}
    for op in ops:
        if op in READING:
            work = READING[op]
            start = time.perf_counter()
            work(lib, paths)
            times[op] = time.perf_counter() - start
        else:
            records = fresh()
            work = ON_RECORDS[op](lib)
            start = time.perf_counter()
            work(records)
            times[op] = time.perf_counter() - start
            del records
    return times


def _well_formed(xml: bytes) -> bool:
    import xml.etree.ElementTree as ET

    try:
        ET.fromstring(xml)
    except ET.ParseError:
        return False
    return True


def real_records(count: int, out: Path) -> list[str]:
    """pymarc's test files that pymarc reads cleanly, repeated to `count` records."""
    import pymarc

    import contextlib
    import logging
    import warnings

    class Noticed(logging.Handler):
        def emit(self, record):
            self.seen = True

    chunks = []
    for path in sorted(PYMARC_TESTS.glob("*.dat")):
        data = path.read_bytes()
        # Clean: no error, no warning, nothing logged or printed (MARC-8 it cannot map).
        noticed, printed = Noticed(), io.StringIO()
        noticed.seen = False
        logging.getLogger("pymarc").addHandler(noticed)
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(printed):
                warnings.simplefilter("error")
                records = list(pymarc.MARCReader(data))
        except Exception:
            continue
        finally:
            logging.getLogger("pymarc").removeHandler(noticed)
        clean = records and all(r is not None for r in records) and not noticed.seen and not printed.getvalue()
        # and whose MARCXML is well-formed (pymarc writes control characters as they are).
        if clean and all(_well_formed(pymarc.record_to_xml(r)) for r in records):
            chunks.append((path.name, data, len(records)))
    if not chunks:
        raise SystemExit(f"no pymarc test files under {PYMARC_TESTS}: run scripts/install.sh first")
    per_pass = sum(n for _, _, n in chunks)
    passes = max(1, round(count / per_pass))
    out.write_bytes(b"".join(d for _, d, _ in chunks) * passes)
    return [name for name, _, _ in chunks]


def documents(mrc: Path) -> dict:
    """The MARCXML and MARC-in-JSON forms of `mrc`'s records, written by pymarc."""
    import pymarc

    records = list(pymarc.MARCReader(mrc.read_bytes()))
    xml, js = mrc.with_suffix(".xml"), mrc.with_suffix(".json")
    with open(xml, "wb") as handle:
        writer = pymarc.XMLWriter(handle)
        for r in records:
            writer.write(r)
        writer.close(close_fh=False)
    with open(js, "w") as handle:
        writer = pymarc.JSONWriter(handle)
        for r in records:
            writer.write(r)
        writer.close(close_fh=False)
    return {"mrc": str(mrc), "xml": str(xml), "json": str(js), "records": len(records)}


def run_worker(python: str, lib: str, paths: dict, ops: list[str]) -> dict:
    cmd = [python, __file__, "--worker", lib, "--paths", json.dumps(paths), "--only", ",".join(ops)]
    # Run outside the repository so that `import fastmarc` is the installed package.
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode:
        raise SystemExit(f"{lib} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", default="real,fixture", help="comma-separated: real, fixture")
    ap.add_argument("--only", help="comma-separated operations (default: all)")
    ap.add_argument("--baseline-python", help="also run fastmarc from this interpreter")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--paths", help=argparse.SUPPRESS)
    args = ap.parse_args()
    ops = args.only.split(",") if args.only else ORDER
    unknown = [op for op in ops if op not in ORDER]
    if unknown:
        ap.error(f"unknown operations {unknown}; known: {ORDER}")
    bad = [d for d in args.data.split(",") if d not in ("real", "fixture")]
    if bad:
        ap.error(f"unknown data sets {bad}; known: real, fixture")

    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.paths), ops)))
        return 0

    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory(prefix="fastmarc-matrix-") as tmp:
        report = measure(args, ops, Path(tmp))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 0


def measure(args: argparse.Namespace, ops: list[str], work_dir: Path) -> dict:
    """Run the matrix on each data set in `work_dir` (its documents are written there),
    print a table per data set and return the figures."""
    from fixture import fixture, machine

    libs = [("pymarc", sys.executable), ("fastmarc", sys.executable)]
    if args.baseline_python:
        libs.append(("baseline", args.baseline_python))
    report = {"machine": machine(), "rounds": args.rounds, "data": {}}
    for data_set in args.data.split(","):
        mrc = work_dir / f"{data_set}.mrc"
        if data_set == "real":
            sources = real_records(args.records, mrc)
            print(f"real: pymarc's {', '.join(sources)}, repeated")
        else:
            mrc.write_bytes(fixture(args.records).read_bytes())
        paths = documents(mrc)
        times = {lib: {op: [] for op in ops} for lib, _ in libs}
        for _ in range(args.rounds):
            for lib, python in libs:
                got = run_worker(python, "pymarc" if lib == "pymarc" else "fastmarc", paths, ops)
                for op in ops:
                    times[lib][op].append(got[op])
        rows = []
        for op in ops:
            row = {"operation": op, "target": TARGETS[op]}
            for lib, _ in libs:
                row[f"{lib}_s"] = statistics.median(times[lib][op])
            row["speedup"] = statistics.median(
                p / f for p, f in zip(times["pymarc"][op], times["fastmarc"][op]))
            if args.baseline_python:
                row["baseline_speedup"] = statistics.median(
                    p / f for p, f in zip(times["pymarc"][op], times["baseline"][op]))
            rows.append(row)
        report["data"][data_set] = {"records": paths["records"],
                                    "bytes": os.path.getsize(paths["mrc"]), "rows": rows}

        print(f"\n{data_set}: {paths['records']} records, {os.path.getsize(paths['mrc']) / 1e6:.1f} MB; "
              f"{report['machine']}; median of {args.rounds} rounds\n")
        head = "| operation | pymarc | fastmarc | speed-up | target |"
        rule = "|---|---:|---:|---:|---:|"
        if args.baseline_python:
            head += " baseline | baseline speed-up |"
            rule += "---:|---:|"
        print(head)
        print(rule)
        for r in rows:
            line = (f"| {r['operation']} | {r['pymarc_s']:.3f} s | {r['fastmarc_s']:.4f} s | "
                    f"{r['speedup']:.1f}× | ≥ {r['target']}× |")
            if args.baseline_python:
                line += f" {r['baseline_s']:.4f} s | {r['baseline_speedup']:.1f}× |"
            print(line)
    return report


if __name__ == "__main__":
    sys.exit(main())
