"""Hostile input through the Python API: broken ISO 2709 framing and structure, extreme
sizes, truncation, random bytes, bad encodings, entity expansion and deep nesting.

pymarc 5.4.0's behaviour is the specification for the Python API, so most cases read the
same bytes with the real pymarc and with fastmarc (every input backend, one and two parser
threads) and require the same records, the same `None`s with the same `current_exception`,
and the same end. A bad record is `None` and reading goes on, except after a
`FatalReaderError` (broken framing), which ends pymarc's stream. pymarc ignores
`permissive`; fastmarc's permissive reader gives exactly what pymarc gives up to that error,
then resynchronises on the next record terminator and goes on. Where fastmarc deliberately
does better than pymarc (it never silently merges or corrupts records), the test says so and
asserts fastmarc's behaviour.

Beyond pymarc, every case must finish without a panic (a `PanicException` is not an
`Exception`, so it escapes the comparison and fails the test) or a hang, and reading must
not use memory out of proportion to the input.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import warnings
import xml.sax
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastmarc
import pymarc
from marc_bytes import (
    BACKENDS,
    BASE,
    F245,
    MARC8_LEADER,
    UTF8_LEADER,
    put,
    raw_record,
    reader_input,
    small_record,
)
from test_pymarc_equivalence import differences, snapshots_of

GOOD = small_record("good")
BAD = small_record("rec1")
LENGTH = len(BAD)
# Offset of the directory entry of field n (0-based) and of its length/offset digits.
ENTRY = [24 + 12 * n for n in range(3)]


def with_length(n: int) -> bytes:
    return put(BAD, 0, b"%05d" % n)


def with_base(text: bytes) -> bytes:
    return put(BAD, 12, text)


def with_245(content: bytes, leader: bytes = UTF8_LEADER) -> bytes:
    return raw_record(leader, [("001", b"rec1"), ("245", content)])


def between_good(bad: bytes) -> bytes:
    """A good record, `bad`, another good record: what comes before and after must survive."""
    return GOOD + bad + GOOD


def ten_thousand_tiny_fields() -> bytes:
    """What a naive writer makes of 10,000 one-character fields: a record far longer than
    five digits can say, with its length and base address cut to their last five digits."""
    directory = b"".join(b"500%04d%05d" % (5, (5 * i) % 100_000) for i in range(10_000)) + b"\x1e"
    data = b"  \x1fax\x1e" * 10_000
    body = UTF8_LEADER + directory + data + b"\x1d"
    body = put(body, 0, b"%05d" % (len(body) % 100_000))
    return put(body, 12, b"%05d" % ((24 + len(directory)) % 100_000))


def largest_record() -> bytes:
    """A valid record of exactly 99,999 bytes: 11 fields of about 9 KB."""
    fields = [("500", b"  \x1fa" + b"x" * (9_076 - 5)) for _ in range(10)]
    fields.append(("500", b"  \x1fa" + b"y" * (9_081 - 5)))
    record = raw_record(UTF8_LEADER, fields)
    assert len(record) == 99_999
    return record


# Hostile ISO 2709 on which fastmarc must give exactly what pymarc gives.
SAME_AS_PYMARC: dict[str, bytes] = {
    # Record length that lies, or is not a number.
    "length longer than the data, at the end": GOOD + with_length(LENGTH + 10),
    "length longer than the record, mid-stream": between_good(with_length(LENGTH + 10)),
    "length shorter than the record": between_good(with_length(LENGTH - 10)),
    "length below a leader": between_good(with_length(24)),
    "length with a letter": between_good(put(BAD, 2, b"x")),
    "length with a non-ASCII byte": between_good(put(BAD, 2, b"\xc3")),
    # Base address.
    "base address past the end": between_good(with_base(b"%05d" % (LENGTH + 1))),
    "base address 99999": between_good(with_base(b"99999")),
    "base address zero": between_good(with_base(b"00000")),
    "base address not digits": between_good(with_base(b"0006a")),
    "base address padded with blanks": between_good(with_base(b"   61")),
    "base address just after the leader": between_good(with_base(b"00025")),
    # Directory.
    "directory entry pointing past the data": between_good(
        put(BAD, ENTRY[2] + 3, b"%04d%05d" % (LENGTH - 1 - BASE - F245, 9_999))
    ),
    "directory entry reaching the record terminator": between_good(
        put(BAD, ENTRY[2] + 3, b"%04d%05d" % (LENGTH - BASE - F245, F245))
    ),
    "directory entry of length zero": between_good(put(BAD, ENTRY[2] + 3, b"%04d%05d" % (0, F245))),
    "overlapping directory entries": between_good(put(BAD, ENTRY[1] + 3, b"000500000")),
    "directory not a multiple of 12": between_good(with_base(b"%05d" % (BASE + 1))),
    "directory entry not digits": between_good(put(BAD, ENTRY[1] + 5, b"x")),
    "directory not ASCII": between_good(put(BAD, ENTRY[1], b"\xc3")),
    "directory terminator missing": between_good(put(BAD, BASE - 1, b"0")),
    "no fields": between_good(raw_record(UTF8_LEADER, [])),
    # Terminators.
    "field terminator missing": between_good(put(BAD, BASE + 5 + 40, b" ")),
    "record terminator missing": between_good(put(BAD, LENGTH - 1, b"x")),
    "record terminator missing at the end": GOOD + put(BAD, LENGTH - 1, b"x"),
    "record terminator inside a data field": between_good(with_245(b"10\x1faBefore\x1dafter")),
    "record terminator inside a control field": between_good(raw_record(UTF8_LEADER, [("001", b"a\x1db")])),
    "stray bytes after the last record": GOOD + b"\r\n",
    # Content.
    "leader not ASCII": between_good(put(BAD, 6, b"\xe9")),
    "indicators missing": between_good(with_245(b"\x1faNo indicators")),
    "subfield code not ASCII": between_good(with_245("10\x1faOk\x1fété".encode())),
    "invalid UTF-8 under leader/09 a": between_good(with_245(b"10\x1faCaf\xe9 society\x1fbok")),
    "invalid UTF-8 in a control field": between_good(raw_record(UTF8_LEADER, [("001", b"ab\xffc")])),
    "truncated UTF-8 sequence": between_good(with_245(b"10\x1faa\xf0\x9f\x98b")),
    "MARC-8 G1 escape cut short": between_good(with_245(b"10\x1faabc\x1b)", MARC8_LEADER)),
    "MARC-8 lone escape": between_good(with_245(b"10\x1faabc\x1b", MARC8_LEADER)),
    "MARC-8 multibyte escape cut short": between_good(with_245(b"10\x1fa\x1b$,", MARC8_LEADER)),
    "MARC-8 escape to an unknown set": between_good(with_245(b"10\x1fa\x1b(Zab\xa1", MARC8_LEADER)),
    "MARC-8 EACC triple cut short": between_good(with_245(b"10\x1fa\x1b$1\x21\x30", MARC8_LEADER)),
    # Sizes.
    "empty file": b"",
    "a record of 99,999 bytes": between_good(largest_record()),
    "10,000 tiny fields": between_good(ten_thousand_tiny_fields()),
    # Regressions (each once differed from pymarc). A directory entry whose span ends inside
    # a UTF-8 character: pymarc decodes the span and reports UnicodeDecodeError.
    "directory entry ending inside a UTF-8 character": between_good(put(BAD, ENTRY[0] + 3, b"000500050")),
    "directory entry longer, ending inside a UTF-8 character": between_good(put(BAD, ENTRY[0] + 3, b"005500000")),
    # A base address inside the leader: pymarc finds an empty directory (NoFieldsFound).
    "base address inside the leader": between_good(with_base(b"00010")),
    # pymarc's UnicodeDecodeError covers a subfield up to the next delimiter, record
    # terminators included.
    "invalid UTF-8 before a record terminator": between_good(with_245(b"10\x1faCaf\xc3\x1d society")),
    # Numbers pymarc reads with int(), which allows ASCII white space around the digits, a
    # sign and underscores.
    "length padded with a blank": between_good(put(BAD, 0, b" %04d" % LENGTH)),
    "base address with an underscore": between_good(with_base(b"00_61")),
    "base address negative": between_good(with_base(b"-0061")),
    "directory offset followed by a vertical tab": between_good(put(BAD, ENTRY[1] + 11, b"\x0b")),
}

SETTINGS = [
    pytest.param(False, 1, id="strict"),
    pytest.param(True, 1, id="permissive"),
    pytest.param(False, 2, id="strict-2threads"),
    pytest.param(True, 2, id="permissive-2threads"),
]


def pymarc_items(data: bytes) -> list[tuple]:
    # pymarc prints its complaints about odd indicators on stdout.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        reader = pymarc.MARCReader(io.BytesIO(data))
        return snapshots_of(pymarc, reader, reader)


def fastmarc_items(data: bytes, backend: str, tmp_path: Path, **options) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = fastmarc.MARCReader(reader_input(backend, data, tmp_path), **options)
        items = snapshots_of(fastmarc, reader, reader)
        reader.close()
        return items


FATAL = {"RecordLengthInvalid", "TruncatedRecord", "EndOfRecordNotFound"}


def up_to_first_fatal(items: list[tuple]) -> list[tuple]:
    """The items up to and including the first broken framing (where pymarc's stream ends)."""
    for n, item in enumerate(items):
        if item[0] == "None" and item[1] in FATAL:
            return items[: n + 1]
    return items


def assert_same_as_pymarc(data: bytes, backend: str, tmp_path: Path, permissive: bool, threads: int) -> None:
    expected = pymarc_items(data)
    actual = fastmarc_items(data, backend, tmp_path, permissive=permissive, threads=threads)
    if permissive:
        # The same up to broken framing; after it, more than pymarc gives (resynchronised).
        problems = differences(expected, up_to_first_fatal(actual))
        if expected != up_to_first_fatal(expected):
            problems.append("pymarc went on after broken framing")
        if data.endswith(GOOD) and expected[-1][0] == "None" and expected[-1][1] in FATAL:
            if actual[-1] != pymarc_items(GOOD)[0]:
                problems.append(f"the good record after the damage is lost: {kinds(actual)}")
    else:
        problems = differences(expected, actual)
    assert not problems, "\n".join(problems[:10])


@pytest.mark.parametrize("permissive,threads", SETTINGS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(SAME_AS_PYMARC))
def test_hostile_iso2709_reads_as_in_pymarc(case: str, backend: str, permissive: bool, threads: int,
                                            tmp_path: Path) -> None:
    assert_same_as_pymarc(SAME_AS_PYMARC[case], backend, tmp_path, permissive, threads)


def kinds(items: list[tuple]) -> list:
    """Each item as "record" or the name of the exception behind a None."""
    return [item[0] if item[0] == "record" else item[1] for item in items]


@pytest.mark.parametrize("case", [name for name, data in SAME_AS_PYMARC.items() if data.startswith(GOOD)
                                  and data.endswith(GOOD) and data != GOOD * 2])
def test_permissive_reading_delivers_the_good_records_around_a_bad_one(case: str, tmp_path: Path) -> None:
    """A bad record is one None between the good records, and so is broken framing: the
    reader resynchronises on the next record terminator instead of ending the stream."""
    items = fastmarc_items(SAME_AS_PYMARC[case], "bytes", tmp_path, permissive=True)
    assert items[0][0] == "record"
    assert len(items) >= 3 and items[-1] == items[0], kinds(items)


def test_not_permissive_broken_framing_ends_the_stream_as_in_pymarc(tmp_path: Path) -> None:
    data = SAME_AS_PYMARC["length shorter than the record"]
    items = fastmarc_items(data, "bytes", tmp_path, permissive=False)
    assert kinds(items) == ["record", "EndOfRecordNotFound"] == kinds(pymarc_items(data))


def test_a_length_below_five_is_a_fatal_error_not_the_rest_of_the_stream(tmp_path: Path) -> None:
    """pymarc reads a record length below five as `read(length - 5)`, a negative size, and so
    takes the whole rest of the stream as one record, swallowing every record after it.
    fastmarc reports the broken framing instead (and, as after any FatalReaderError, stops;
    a permissive reader resynchronises and reads the record after it)."""
    for length in (0, 3):
        data = between_good(with_length(length))
        assert kinds(pymarc_items(data)) == ["record", "record"]  # the second is a merge
        for backend in BACKENDS:
            for threads in (1, 2):
                items = fastmarc_items(data, backend, tmp_path, permissive=False, threads=threads)
                assert kinds(items) == ["record", "EndOfRecordNotFound"]
                assert items[0] == pymarc_items(GOOD)[0]
                items = fastmarc_items(data, backend, tmp_path, permissive=True, threads=threads)
                assert kinds(items) == ["record", "EndOfRecordNotFound", "record"]
                assert items[0] == items[2] == pymarc_items(GOOD)[0]


def test_a_record_too_long_for_iso2709_is_an_error_not_a_corrupt_record() -> None:
    """pymarc writes 10,000 fields as a record with a six-digit length that no reader can
    frame; fastmarc refuses to write it, and the record still goes through MARCXML and
    MARC-in-JSON unchanged."""
    record = fastmarc.Record()
    record.add_field(*[fastmarc.Field("500", fastmarc.Indicators(" ", " "), [fastmarc.Subfield("a", str(i))])
                       for i in range(10_000)])
    with pytest.raises(ValueError, match="too long for ISO 2709"):
        record.as_marc()
    xml = b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + fastmarc.record_to_xml(record) + b"</collection>"
    (from_xml,) = fastmarc.parse_xml_to_array(io.BytesIO(xml))
    (from_json,) = fastmarc.JSONReader(record.as_json())
    for copy in (from_xml, from_json):
        assert [f.value() for f in copy.fields] == [str(i) for i in range(10_000)]


@pytest.mark.parametrize("permissive", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_record_cut_at_every_byte_reads_as_in_pymarc(backend: str, permissive: bool, tmp_path: Path) -> None:
    for cut in range(LENGTH + 1):
        for data in (GOOD + BAD[:cut], GOOD + BAD[:cut] + GOOD):
            announced = data[len(GOOD) : len(GOOD) + 5]
            if len(announced) == 5 and announced.isdigit() and int(announced) < 5:
                # The cut-off digits and the next record's make a length below five, which
                # pymarc reads as "the rest of the stream" (see the test above).
                items = fastmarc_items(data, backend, tmp_path, permissive=permissive)
                assert kinds(items)[:2] == ["record", "EndOfRecordNotFound"], f"cut at {cut}"
                continue
            expected = pymarc_items(data)
            actual = fastmarc_items(data, backend, tmp_path, permissive=permissive)
            if permissive:
                actual = up_to_first_fatal(actual)
            problems = differences(expected, actual)
            assert not problems, f"cut at {cut}: " + "\n".join(problems[:5])


def test_a_record_cut_at_every_byte_reads_the_same_with_two_threads(tmp_path: Path) -> None:
    for cut in range(LENGTH + 1):
        data = GOOD * 3 + BAD[:cut]
        assert fastmarc_items(data, "bytes", tmp_path, threads=2) == fastmarc_items(data, "bytes", tmp_path)


def read_without_panic(data: bytes, **options) -> list:
    """Every item fastmarc's reader yields for `data` (with the exception behind each None);
    any panic or non-Exception escapes and fails the caller. The count is bounded: each
    item consumes at least one byte."""
    reader = fastmarc.MARCReader(data, **options)
    items = []
    for record in reader:
        if record is None:
            assert isinstance(reader.current_exception, Exception)
            items.append(type(reader.current_exception))
        else:
            # Touch everything a program might read.
            str(record), record.as_dict(), [f.value() for f in record.fields]
            with contextlib.suppress(ValueError):
                record.as_marc()
            items.append(record)
        assert len(items) <= len(data) + 1, "reader does not terminate"
    return items


def test_random_bytes_never_crash() -> None:
    rng = random.Random(2709)
    for size in (1, 5, 24, 25, 100, 1_000, 100_000):
        for _ in range(20):
            data = bytes(rng.randrange(256) for _ in range(size))
            for threads in (1, 2):
                read_without_panic(data, threads=threads)
    # Digits announcing huge records, over and over, with terminators here and there.
    garbage = b"".join(b"99999" + (b"\x1d" if i % 7 == 0 else b"") for i in range(2_000))
    assert read_without_panic(garbage) == [fastmarc.TruncatedRecord]
    assert kinds(pymarc_items(garbage)) == ["TruncatedRecord"]


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, LENGTH - 1),
                          st.sampled_from([0x1D, 0x1E, 0x1F, 0x20, 0x30, 0x39, 0x61, 0xC3, 0xFF])),
                min_size=1, max_size=4))
def test_record_shaped_damage_never_crashes(damage: list[tuple[int, int]]) -> None:
    record = bytearray(BAD)
    for at, value in damage:
        record[at] = value
    items = read_without_panic(between_good(bytes(record)), utf8_handling="replace")
    assert items[0] is not None and items[0]["001"].data == "good"


def peak_rss_growth_kib(action) -> int:
    """How far resident memory rose above its level before `action` (Linux's VmHWM after
    resetting it through /proc/self/clear_refs)."""
    def status(name: str) -> int:
        with open("/proc/self/status") as f:
            return int(re.search(rf"^{name}:\s+(\d+) kB", f.read(), re.M).group(1))

    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status("VmRSS")
    action()
    return status("VmHWM") - before


def bounded(data: bytes) -> int:
    """The memory a reader may take for `data`, in KiB: a few copies of it plus a fixed
    allowance for buffers, a batch of records and the parser threads."""
    return 16 * 1024 + 8 * len(data) // 1024


HUGE_INPUTS = {
    "1 MB of random bytes": random.Random(1).randbytes(1 << 20),
    "lengths of 99999 announced over and over": b"99999" * 200_000,
    "records of 99,999 bytes": largest_record() * 10,
    "10,000 tiny fields, many times": ten_thousand_tiny_fields() * 5,
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(HUGE_INPUTS))
def test_memory_stays_bounded_by_the_input(case: str, backend: str, threads: int, tmp_path: Path) -> None:
    data = HUGE_INPUTS[case]
    target = reader_input(backend, data, tmp_path)
    growth = peak_rss_growth_kib(lambda: sum(1 for _ in fastmarc.MARCReader(target, threads=threads)))
    assert growth < bounded(data), f"peak resident memory rose by {growth} KiB for {len(data)} bytes"


# ---- MARCXML ---------------------------------------------------------------------------

def billion_laughs(levels: int = 10) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, levels)
    ]
    return (
        '<?xml version="1.0"?><!DOCTYPE collection [' + "".join(entities) + "]>"
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
        f'<leader>00000nam a2200000 a 4500</leader><controlfield tag="001">&lol{levels - 1};</controlfield>'
        "</record></collection>"
    ).encode()


def outcome_of(call) -> tuple:
    try:
        return ("value", call())
    except Exception as exc:  # noqa: BLE001 - the exception is the observable result
        return ("raises", type(exc).__name__)


def test_xml_entity_expansion_is_refused_as_in_pymarc() -> None:
    """Ten levels of ten-fold entities would expand to 10 GB; the parser (expat's
    amplification limit) refuses, quickly and in little memory, for pymarc and fastmarc."""
    data = billion_laughs()
    assert outcome_of(lambda: pymarc.parse_xml_to_array(io.BytesIO(data))) == ("raises", "SAXParseException")
    growth = peak_rss_growth_kib(
        lambda: pytest.raises(xml.sax.SAXParseException, fastmarc.parse_xml_to_array, io.BytesIO(data))
    )
    assert growth < bounded(data)
    # A few levels, within the limit, expand as in pymarc.
    small = billion_laughs(3)
    (expected,) = pymarc.parse_xml_to_array(io.BytesIO(small))
    (actual,) = fastmarc.parse_xml_to_array(io.BytesIO(small))
    assert actual["001"].data == expected["001"].data == "lol" * 100


def test_deeply_nested_xml_is_read_as_in_pymarc() -> None:
    depth = 100_000
    data = b"<a>" * depth + b"</a>" * depth
    assert pymarc.parse_xml_to_array(io.BytesIO(data)) == []
    growth = peak_rss_growth_kib(lambda: fastmarc.parse_xml_to_array(io.BytesIO(data)))
    assert growth < bounded(data)
    assert fastmarc.parse_xml_to_array(io.BytesIO(data)) == []


def marcxml(count: int) -> bytes:
    records = b"".join(fastmarc.record_to_xml(r) for r in fastmarc.MARCReader(GOOD * count))
    return b'<collection xmlns="http://www.loc.gov/MARC21/slim">' + records + b"</collection>"


def test_truncated_xml_delivers_the_records_before_the_cut_as_pymarc() -> None:
    data = marcxml(3)
    for cut in range(0, len(data), 7):
        seen = {lib: [] for lib in (pymarc, fastmarc)}
        for lib, records in seen.items():
            result = outcome_of(lambda lib=lib, records=records: lib.map_xml(records.append, io.BytesIO(data[:cut])))
            records.append(result[0] if result[0] == "value" else result)
        assert [str(r) for r in seen[fastmarc]] == [str(r) for r in seen[pymarc]], f"cut at {cut}"


# ---- MARC-in-JSON ----------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["arrays", "objects", "inside a record"])
def test_deeply_nested_json_is_refused_as_in_pymarc(shape: str) -> None:
    depth = 100_000
    text = {
        "arrays": "[" * depth + "]" * depth,
        "objects": '{"a":' * depth + "}" * depth,
        "inside a record": '{"leader": "00000nam a2200000 a 4500", "fields": ['
        + "[" * depth + "]" * depth + "]}",
    }[shape]
    for call in (lambda lib: lib.JSONReader(text), lambda lib: lib.parse_json_to_array(io.StringIO(text))):
        expected = outcome_of(lambda: call(pymarc))
        assert expected == ("raises", "RecursionError")
        assert outcome_of(lambda: call(fastmarc)) == expected


def test_truncated_json_is_an_error_as_in_pymarc() -> None:
    text = json.dumps([json.loads(r.as_json()) for r in fastmarc.MARCReader(GOOD * 3)])
    for cut in range(len(text)):
        expected = outcome_of(lambda: [str(r) for r in pymarc.JSONReader(text[:cut])])
        assert outcome_of(lambda: [str(r) for r in fastmarc.JSONReader(text[:cut])]) == expected, cut
        assert outcome_of(lambda: [str(r) for r in fastmarc.parse_json_to_array(io.StringIO(text[:cut]))]) == \
            outcome_of(lambda: [str(r) for r in pymarc.parse_json_to_array(io.StringIO(text[:cut]))]), cut


def test_hostile_json_values_are_errors_as_in_pymarc() -> None:
    leader = '"leader": "00000nam a2200000 a 4500"'
    cases = [
        "{}",
        "[]",
        "null",
        '"text"',
        "{" + leader + "}",
        "{" + leader + ', "fields": [{}]}',
        "{" + leader + ', "fields": [{"245": {"ind1": "1"}}]}',
        "{" + leader + ', "fields": [{"245": {"ind1": "1", "ind2": "0", "subfields": [{}]}}]}',
        "{" + leader + ', "fields": [{"001": 5}]}',
        "{" + leader + ', "fields": [{"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": 5}]}}]}',
        '{"leader": "short", "fields": []}',
        '{"leader": "00000nam a2200000 a 4500\\u0000", "fields": []}',
        "[" + ",".join(["{" + leader + ', "fields": []}'] * 3) + ", 1]",
    ]
    for text in cases:
        for call in (lambda lib: [str(r) for r in lib.JSONReader(text)],
                     lambda lib: [str(r) for r in lib.parse_json_to_array(io.StringIO(text))]):
            assert outcome_of(lambda: call(fastmarc)) == outcome_of(lambda: call(pymarc)), text
