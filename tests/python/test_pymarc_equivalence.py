"""fastmarc against the real pymarc 5.4.0, record by record, on every file of pymarc's test data.

Each file is read with both libraries; for every record we compare what a pymarc user can
observe (leader, fields, the convenience properties, the serialisations) and, for every
record a reader could not parse, the exception it reports. A difference names the file,
the record and the attribute.

Needs the real pymarc importable as `pymarc`: run this file in a pytest process *without*
the suite's redirect plugin (scripts/test.sh does).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fastmarc
import pymarc

# pymarc 5.4.0's test data (pinned version, so the list is fixed; test_data_files_are_all_listed
# catches a file that would otherwise be silently left out).
ISO2709_FILES = [
    "1251.dat",
    "alphatag.dat",
    "bad_eacc_encoding.dat",
    "bad_indicator.dat",
    "bad_marc8_escape.dat",
    "bad_records.mrc",
    "bad_subfield_code.dat",
    "diacritic.dat",
    "marc.dat",
    "marc8-to-unicode.dat",
    "marc8.dat",
    "multi_isbn.dat",
    "one.dat",
    "regression45.dat",
    "test.dat",
    "testunimarc.dat",
    "utf8_errors.dat",
    "utf8_invalid.mrc",
    "utf8_with_leader_flag.dat",
    "utf8_without_leader_flag.dat",
]
XML_FILES = ["bad_tag.xml", "batch.xml", "utf8.xml"]
JSON_FILES = ["batch.json", "one.json", "test.json"]
MARC8_LINE_FILES = ["test_marc8.txt"]
SAMPLE = "<sample>"  # data/sample.mrc, the project's own sample

# MARCReader keyword arguments worth comparing under: (pass the data as bytes?, options).
READER_VARIANTS: dict[str, tuple[bool, dict[str, Any]]] = {
    "default": (False, {}),
    "bytes-input": (True, {}),
    "to_unicode=False": (False, {"to_unicode": False}),
    "force_utf8": (False, {"force_utf8": True}),
    "force_utf8+replace": (False, {"force_utf8": True, "utf8_handling": "replace"}),
}
# With to_unicode=False pymarc keeps field values as bytes, and its text accessors (str(),
# value(), title, ...) then raise TypeError; what such records are for is the raw values and
# writing them back, so only those are compared.
RAW_VARIANTS = {"to_unicode=False"}

STRING_PROPERTIES = ["title", "issn_title", "author", "isbn", "issn", "issnl", "sudoc",
                     "publisher", "pubyear", "uniformtitle"]
FIELD_LIST_PROPERTIES = ["series", "subjects", "addedentries", "location", "notes",
                         "physicaldescription"]
MAX_REPORTED = 25
MISSING = "<no such attribute>"


def outcome(compute: Callable[[], Any]) -> tuple:
    """What a call gives: its value, or the exception a user would see (class name, message)."""
    try:
        return ("value", compute())
    except Exception as exc:  # noqa: BLE001 - any exception is an observable result to compare
        return ("raises", type(exc).__name__, str(exc))


def get_subfields_outcomes(field, when: str) -> dict[str, tuple]:
    """`get_subfields` with one code, several (repeated ones and codes no field has), none,
    and codes that are not one-character strings."""
    asks = [("a",), ("a", "b", "z"), ("6", "6", "9"), (), ("ab", None, 1)]
    return {f"get_subfields{codes} {when}": outcome(lambda codes=codes: field.get_subfields(*codes))
            for codes in asks}


def field_snapshot(field, raw: bool) -> dict[str, tuple]:
    def indicators():
        value = field.indicators
        return None if value is None else tuple(value)

    snapshot = {
        "tag": outcome(lambda: field.tag),
        "is_control_field": outcome(field.is_control_field),
        "data": outcome(lambda: getattr(field, "data", MISSING)),
        "indicators": outcome(indicators),
        # Asked of a field fresh from the record, then again once its subfields are a list.
        **get_subfields_outcomes(field, "read"),
        "iterated": outcome(lambda: [tuple(sub) for sub in field]),
        "iterator": outcome(lambda: (iter(field) is field, tuple(next(field, ())), len(list(field)))),
        "subfields": outcome(lambda: [tuple(sub) for sub in getattr(field, "subfields", [])]),
        **get_subfields_outcomes(field, "listed"),
    }
    if not raw:
        snapshot["value"] = outcome(field.value)
        snapshot["format_field"] = outcome(field.format_field)
        snapshot["str"] = outcome(lambda: str(field))
    return snapshot


def record_snapshot(lib, record, raw: bool = False) -> dict[str, tuple]:
    """Everything compared for one record, in an order both libraries run identically
    (as_marc() rewrites leader positions, so what follows it sees the rewritten leader)."""
    snapshot = {
        "leader": outcome(lambda: str(record.leader)),
        "fields": outcome(lambda: [field_snapshot(f, raw) for f in record.fields]),
    }
    if raw:
        snapshot["as_marc"] = outcome(record.as_marc)
        snapshot["leader after as_marc"] = outcome(lambda: str(record.leader))
        return snapshot
    for name in STRING_PROPERTIES:
        snapshot[name] = outcome(lambda name=name: getattr(record, name))
    for name in FIELD_LIST_PROPERTIES:
        snapshot[name] = outcome(lambda name=name: [str(f) for f in getattr(record, name)])
    snapshot["str"] = outcome(lambda: str(record))
    snapshot["as_dict"] = outcome(record.as_dict)
    snapshot["as_json"] = outcome(record.as_json)
    snapshot["record_to_xml"] = outcome(lambda: lib.record_to_xml(record))
    snapshot["as_marc"] = outcome(record.as_marc)
    snapshot["leader after as_marc"] = outcome(lambda: str(record.leader))
    snapshot["str after as_marc"] = outcome(lambda: str(record))
    return snapshot


def snapshots_of(lib, records, reader=None, raw: bool = False) -> list[tuple]:
    """One entry per item the iteration yields, ending with the exception if iteration raised."""
    items = []
    try:
        for record in records:
            if record is None:
                error = getattr(reader, "current_exception", None)
                items.append(("None", type(error).__name__, str(error), getattr(reader, "current_chunk", None)))
            else:
                items.append(("record", record_snapshot(lib, record, raw)))
    except Exception as exc:  # noqa: BLE001
        items.append(("iteration raised", type(exc).__name__, str(exc)))
    return items


def read_iso2709(lib, path: Path, variant: str) -> list[tuple]:
    as_bytes, options = READER_VARIANTS[variant]
    raw = variant in RAW_VARIANTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if as_bytes:
            reader = lib.MARCReader(path.read_bytes(), **options)
            return snapshots_of(lib, reader, reader, raw)
        with path.open("rb") as handle:
            reader = lib.MARCReader(handle, **options)
            return snapshots_of(lib, reader, reader, raw)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + "..."


def field_differences(where: str, expected: list[dict], actual: list[dict]) -> list[str]:
    problems = []
    if len(expected) != len(actual):
        problems.append(f"{where}: pymarc has {len(expected)} fields, fastmarc {len(actual)}")
    for index, (want, got) in enumerate(zip(expected, actual)):
        for key, value in want.items():
            if got.get(key) != value:
                problems.append(f"{where} field {index} ({short(want['tag'][-1])}) {key}: "
                                f"pymarc {short(value)} != fastmarc {short(got.get(key))}")
    return problems


def differences(expected: list[tuple], actual: list[tuple]) -> list[str]:
    problems = []
    if len(expected) != len(actual):
        problems.append(f"pymarc yields {len(expected)} items, fastmarc {len(actual)}")
    for index, (want, got) in enumerate(zip(expected, actual)):
        where = f"item {index}"
        if want[0] != got[0] or want[0] != "record":
            if want != got:
                problems.append(f"{where}: pymarc {short(want)} != fastmarc {short(got)}")
            continue
        want_snapshot, got_snapshot = want[1], got[1]
        for key, value in want_snapshot.items():
            other = got_snapshot.get(key)
            if other == value:
                continue
            if key == "fields" and value[0] == "value" and other and other[0] == "value":
                problems.extend(field_differences(where, value[1], other[1]))
            else:
                problems.append(f"{where} {key}: pymarc {short(value)} != fastmarc {short(other)}")
    return problems


def assert_equivalent(expected: list[tuple], actual: list[tuple]) -> None:
    # A file that pymarc reads to nothing would make the comparison vacuous.
    assert expected, "pymarc produced nothing for this input"
    problems = differences(expected, actual)
    if problems:
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        pytest.fail(f"{len(problems)} difference(s):\n" + "\n".join(shown)
                    + (f"\n... and {more} more" if more else ""), pytrace=False)


def data_path(pymarc_test_dir: Path, sample_path: Path, name: str) -> Path:
    path = sample_path if name == SAMPLE else pymarc_test_dir / name
    if not path.is_file():
        pytest.fail(f"test data file missing: {path}", pytrace=False)
    return path


def test_reference_is_the_real_pymarc():
    assert pymarc is not fastmarc
    assert pymarc.__name__ == "pymarc" and "fastmarc" not in (pymarc.__file__ or "")
    assert pymarc.Record.__module__ == "pymarc.record"


def test_data_files_are_all_listed(pymarc_test_dir: Path):
    listed = set(ISO2709_FILES + XML_FILES + JSON_FILES + MARC8_LINE_FILES)
    present = {p.name for p in pymarc_test_dir.iterdir()
               if p.suffix in {".dat", ".mrc", ".xml", ".json"} or p.name == "test_marc8.txt"}
    assert present == listed


@pytest.mark.parametrize("variant", list(READER_VARIANTS))
@pytest.mark.parametrize("name", ISO2709_FILES + [SAMPLE])
def test_marcreader(name: str, variant: str, pymarc_test_dir: Path, sample_path: Path):
    path = data_path(pymarc_test_dir, sample_path, name)
    expected = read_iso2709(pymarc, path, variant)
    actual = read_iso2709(fastmarc, path, variant)
    assert_equivalent(expected, actual)


@pytest.mark.parametrize("name", XML_FILES)
def test_parse_xml_to_array(name: str, pymarc_test_dir: Path, sample_path: Path):
    path = data_path(pymarc_test_dir, sample_path, name)

    def read(lib):
        result = outcome(lambda: lib.parse_xml_to_array(str(path)))
        if result[0] != "value":
            return [("parse raised", *result[1:])]
        return snapshots_of(lib, result[1])

    assert_equivalent(read(pymarc), read(fastmarc))


@pytest.mark.parametrize("name", JSON_FILES)
def test_jsonreader(name: str, pymarc_test_dir: Path, sample_path: Path):
    text = data_path(pymarc_test_dir, sample_path, name).read_text(encoding="utf-8")

    def read(lib):
        result = outcome(lambda: lib.JSONReader(text))
        if result[0] != "value":
            return [("constructor raised", *result[1:])]
        return snapshots_of(lib, result[1])

    assert_equivalent(read(pymarc), read(fastmarc))


@pytest.mark.parametrize("name", MARC8_LINE_FILES)
def test_marc8_to_unicode_lines(name: str, pymarc_test_dir: Path, sample_path: Path):
    lines = data_path(pymarc_test_dir, sample_path, name).read_bytes().splitlines()

    def convert(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [outcome(lambda line=line: lib.marc8_to_unicode(line)) for line in lines]

    expected, actual = convert(pymarc), convert(fastmarc)
    assert len(expected) > 100
    problems = [f"line {i + 1}: pymarc {short(want)} != fastmarc {short(got)}"
                for i, (want, got) in enumerate(zip(expected, actual)) if want != got]
    if problems:
        pytest.fail(f"{len(problems)} line(s) differ:\n" + "\n".join(problems[:MAX_REPORTED]), pytrace=False)


@pytest.mark.parametrize("subfields", ["list", "tuple", "none"])
def test_field_iteration_over_subfields_the_program_set(subfields: str):
    """Iterating a field whose subfields the program replaced (a list, a tuple, nothing),
    and calling next() past the end: as pymarc does."""

    def run(lib):
        field = lib.Field("245", lib.Indicators("1", "0"), [lib.Subfield("a", "Title"), lib.Subfield("c", "x")])
        if subfields == "tuple":
            field.subfields = tuple(field.subfields)
        elif subfields == "none":
            field.subfields = []
        seen = [tuple(sub) for sub in field]
        return seen, outcome(lambda: next(field)), [tuple(sub) for sub in field]

    assert run(fastmarc) == run(pymarc)
