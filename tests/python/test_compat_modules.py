"""Tests of fastmarc's pure-Python modules against pymarc 5.4.0's behaviour.

Test data comes from pymarc 5.4.0's sdist, in the directory of the `pymarc_test_dir`
fixture (conftest.py: $PYMARC_TEST_DIR); pymarc's own sources sit next to it and are
imported only in a subprocess, to compare the public API.
"""

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fastmarc
import pytest
from fastmarc import (
    BadLeaderValue,
    Field,
    Indicators,
    JSONHandler,
    JSONReader,
    JSONWriter,
    Leader,
    MARC8ToUnicode,
    MARCMakerReader,
    MARCReader,
    MARCWriter,
    RawField,
    Record,
    RecordLeaderInvalid,
    Subfield,
    TextWriter,
    WriteNeedsRecord,
    XmlHandler,
    XMLWriter,
    exceptions,
    map_marc8_field,
    map_marc8_record,
    map_records,
    map_xml,
    marc8_to_unicode,
    normalize_subfield_code,
    parse_json_to_array,
    parse_xml,
    parse_xml_to_array,
    record_to_xml,
    record_to_xml_node,
)


@pytest.fixture(scope="session")
def data_dir(pymarc_test_dir: Path) -> Path:
    return pymarc_test_dir


def sample_record() -> Record:
    record = Record(leader="00000nam a2200000 i 4500")
    record.add_field(
        Field("001", data="ocm 123"),
        Field(
            "245",
            Indicators("1", "0"),
            [Subfield("a", 'Caf\u00e9 & <bar> "q"'), Subfield("c", "\u7c73")],
        ),
    )
    return record


SAMPLE_LEADER = "00000nam a2200000 i 4500"
SAMPLE_XML_BODY = (
    "<leader>00000nam a2200000 i 4500</leader>"
    '<controlfield tag="001">ocm 123</controlfield>'
    '<datafield ind1="1" ind2="0" tag="245">'
    '<subfield code="a">Caf{e_acute} &amp; &lt;bar&gt; "q"</subfield>'
    '<subfield code="c">{mi}</subfield></datafield></record>'
)


# --- constants, exceptions -------------------------------------------------------------


def test_constants() -> None:
    assert fastmarc.LEADER_LEN == 24
    assert fastmarc.DIRECTORY_ENTRY_LEN == 12
    assert fastmarc.SUBFIELD_INDICATOR == "\x1f"
    assert fastmarc.END_OF_FIELD == "\x1e"
    assert fastmarc.END_OF_RECORD == "\x1d"


EXCEPTION_PARENTS = {
    "FatalReaderError": "PymarcException",
    "RecordLengthInvalid": "FatalReaderError",
    "TruncatedRecord": "FatalReaderError",
    "EndOfRecordNotFound": "FatalReaderError",
    "RecordLeaderInvalid": "PymarcException",
    "RecordDirectoryInvalid": "PymarcException",
    "NoFieldsFound": "PymarcException",
    "BaseAddressInvalid": "PymarcException",
    "BaseAddressNotFound": "PymarcException",
    "WriteNeedsRecord": "PymarcException",
    "NoActiveFile": "PymarcException",
    "FieldNotFound": "PymarcException",
    "BadLeaderValue": "PymarcException",
    "MissingLinkedFields": "PymarcException",
    "BadSubfieldCodeWarning": "Warning",
    "PymarcException": "Exception",
}


@pytest.mark.parametrize(("name", "parent"), sorted(EXCEPTION_PARENTS.items()))
def test_exception_hierarchy(name: str, parent: str) -> None:
    cls = getattr(exceptions, name)
    assert cls.__bases__[0].__name__ == parent
    assert getattr(fastmarc, name) is cls


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("RecordLengthInvalid", "Invalid record length in first 5 bytes of record"),
        ("TruncatedRecord", "Record length in leader is greater than the length of data"),
        ("EndOfRecordNotFound", "Unable to locate end of record marker"),
        ("RecordLeaderInvalid", "Unable to extract record leader"),
        ("RecordDirectoryInvalid", "Invalid directory"),
        ("NoFieldsFound", "Unable to locate fields in record data"),
        ("BaseAddressInvalid", "Base address exceeds size of record"),
        ("BaseAddressNotFound", "Unable to locate base address of record"),
        ("WriteNeedsRecord", "Write requires a pymarc.Record object as an argument"),
        ("NoActiveFile", "There is no active file to write to in call to write"),
        ("FieldNotFound", "Record does not contain the specified field"),
    ],
)
def test_exception_messages(name: str, message: str) -> None:
    assert str(getattr(exceptions, name)()) == message


def test_exceptions_with_arguments() -> None:
    warning = exceptions.BadSubfieldCodeWarning(b"\xe1x")
    assert warning.subf == b"\xe1x"
    assert str(warning) == "The subfield contained a non-ASCII subfield code: b'\\xe1x'"
    field = Field("650", Indicators(" ", "0"), [Subfield("6", "880-01")])
    missing = exceptions.MissingLinkedFields(field)
    assert missing.field is field
    assert missing.args == (field,)
    assert str(missing) == "650 field includes a subfield 6 but no linked fields could be found."
    assert str(BadLeaderValue("why")) == "why"


# --- leader ----------------------------------------------------------------------------

LEADER = "00475casaa2200169 ib4500"
LEADER_POSITIONS = [
    ("record_length", slice(0, 5), "00475"),
    ("record_status", 5, "c"),
    ("type_of_record", 6, "a"),
    ("bibliographic_level", 7, "s"),
    ("type_of_control", 8, "a"),
    ("coding_scheme", 9, "a"),
    ("indicator_count", 10, "2"),
    ("subfield_code_count", 11, "2"),
    ("base_address", slice(12, 17), "00169"),
    ("encoding_level", 17, " "),
    ("cataloging_form", 18, "i"),
    ("multipart_ressource", 19, "b"),
    ("length_of_field_length", 20, "4"),
    ("starting_character_position_length", 21, "5"),
    ("implementation_defined_length", 22, "0"),
]


@pytest.mark.parametrize(("name", "index", "expected"), LEADER_POSITIONS)
def test_leader_positions_read_and_write(name: str, index, expected: str) -> None:
    leader = Leader(LEADER)
    assert getattr(leader, name) == expected
    assert leader[index] == expected
    assert leader[name] == expected

    replacement = "x" * len(expected)
    setattr(leader, name, replacement)
    assert leader[index] == replacement
    start = index.start if isinstance(index, slice) else index
    assert str(leader) == LEADER[:start] + replacement + LEADER[start + len(expected) :]

    leader[name] = expected
    assert leader.leader == LEADER
    leader[index] = replacement
    assert getattr(leader, name) == replacement


@pytest.mark.parametrize(("name", "index", "expected"), LEADER_POSITIONS)
def test_leader_rejects_wrong_width(name: str, index, expected: str) -> None:
    leader = Leader(LEADER)
    with pytest.raises(BadLeaderValue) as info:
        setattr(leader, name, expected + "z")
    assert str(info.value).endswith(f"field, got {expected}z")
    assert leader.leader == LEADER


def test_leader_error_messages_match_pymarc() -> None:
    leader = Leader(LEADER)
    with pytest.raises(BadLeaderValue, match=r"^Record length is 4 chars field, got 123$"):
        leader.record_length = "123"
    with pytest.raises(BadLeaderValue, match=r"^Record status is 1 char field, got ab$"):
        leader.record_status = "ab"
    with pytest.raises(BadLeaderValue, match=r"^abc is too long to be inserted at 22$"):
        leader[22] = "abc"
    with pytest.raises(IndexError, match="Position must be positive"):
        leader[-1] = "a"


def test_leader_construction_and_str() -> None:
    with pytest.raises(RecordLeaderInvalid):
        Leader(LEADER[:-1])
    leader = Leader(LEADER)
    assert str(leader) == LEADER
    assert leader[0:9] + "b" + leader[10:] == "00475casab2200169 ib4500"
    # A slice writes from its start for the value's length, an open start meaning 0.
    leader[:5] = "99999"
    leader[5:6] = "xy"
    assert leader.leader == "99999xysaa2200169 ib4500"


# --- MARC-8 ----------------------------------------------------------------------------


def test_marc8_to_unicode_decodes_ansel() -> None:
    assert (
        marc8_to_unicode(b"De la solitude \xe1a la communaut\xe2e.")
        == "De la solitude \xe0 la communaut\xe9."
    )
    assert marc8_to_unicode(b"") == ""
    assert marc8_to_unicode(b"\x1bb1\x1bs", True) == "\u2081"


def test_marc8_to_unicode_of_str_reads_code_points_as_bytes() -> None:
    # As in pymarc: Latin-1 code points are MARC-8 bytes (0xE2 is the ANSEL acute), an
    # ESC starts no escape sequence, and other code points become a space.
    assert marc8_to_unicode("caf\xe2e") == "caf\xe9"
    assert marc8_to_unicode("x\x1b(B\u7c73", True) == "x(B "


def test_marc8_converter_attributes() -> None:
    converter = MARC8ToUnicode()
    assert (converter.g0, converter.g1, converter.quiet) == (0x42, 0x45, False)
    assert MARC8ToUnicode.basic_latin == 0x42
    assert MARC8ToUnicode.ansel == 0x45
    custom = MARC8ToUnicode(G0=0x31, G1=0x45, quiet=True)
    assert (custom.g0, custom.g1, custom.quiet) == (0x31, 0x45, True)
    assert converter.translate(b"") == ""
    assert converter.translate(None) == ""


def test_marc8_converter_honours_start_sets_and_keeps_state() -> None:
    # "!PV" is the EACC code of U+7C73.
    assert MARC8ToUnicode(G0=0x31, quiet=True).translate(b"!PV") == "\u7c73"
    assert MARC8ToUnicode(G0=0x67, quiet=True).translate(b"ab") == "\u03b1\u03b2"

    converter = MARC8ToUnicode(quiet=True)
    assert converter.translate(b"x\x1b$1!PV") == "x\u7c73"
    assert converter.g0 == 0x31
    assert converter.translate(b"!PV!PV") == "\u7c73\u7c73"
    assert converter.translate(b"!PV\x1b(B") == "\u7c73"
    assert converter.g0 == 0x42
    assert converter.translate(b"!PV") == "!PV"
    converter.translate(b"\x1b)Q")
    assert converter.g1 == ord("Q")


def test_marc8_escape_inside_multibyte_character_is_data() -> None:
    # pymarc reads EACC three bytes at a time, so an ESC that is not at a character
    # boundary does not switch back to Basic Latin.
    converter = MARC8ToUnicode(quiet=True)
    converter.translate(b"\x1b$1!PV!\x1b(B")
    assert converter.g0 == 0x31


# --- field and record helpers ----------------------------------------------------------


def test_raw_field_as_marc(caplog: pytest.LogCaptureFixture) -> None:
    control = RawField("001", data=b"\xe1abc")
    assert control.as_marc() == b"\xe1abc\x1e"
    data = RawField("245", Indicators("1", "0"), [Subfield("a", b"caf\xe2e"), Subfield("b", b"x")])
    assert isinstance(data, Field)
    with caplog.at_level(logging.WARNING, logger="pymarc"):
        assert data.as_marc("utf-8") == b"10\x1facaf\xe2e\x1fbx\x1e"
    assert "Attempt to force a RawField into encoding utf-8" in caplog.text
    assert data.as_marc21() == b"10\x1facaf\xe2e\x1fbx\x1e"


def test_map_marc8_field() -> None:
    control = map_marc8_field(Field("008", data="abc"))
    assert control.data == "abc"
    field = Field("245", Indicators("0", "0"), [Subfield("a", "plain"), Subfield("b", "x")])
    assert map_marc8_field(field) is field
    assert field.subfields == [Subfield("a", "plain"), Subfield("b", "x")]


def test_map_marc8_record_decodes_raw_record(data_dir: Path) -> None:
    raw_bytes = (data_dir / "marc8.dat").read_bytes()
    raw = next(MARCReader(raw_bytes, to_unicode=False))
    decoded = next(MARCReader(raw_bytes, to_unicode=True))
    assert raw["240"]["a"] == b"De la solitude \xe1a la communaut\xe2e."
    assert raw.leader[9] == " "

    assert map_marc8_record(raw) is raw
    assert raw["240"]["a"] == "De la solitude \xe0 la communaut\xe9."
    assert raw.leader[9] == "a"
    assert [str(f) for f in raw.fields] == [str(f) for f in decoded.fields]


@pytest.mark.parametrize(
    ("subfield", "expected"),
    [
        (b"\xc3\xa1ActivePerl", ("a", 2)),  # UTF-8 a-acute
        (b"\xe1abc", ("a", 1)),  # not UTF-8: read as Latin-1
        (b"\xef\xbf\xbdbAssociation", ("b", 3)),  # U+FFFD has no ASCII part
    ],
)
def test_normalize_subfield_code(subfield: bytes, expected: tuple) -> None:
    assert normalize_subfield_code(subfield) == expected


# --- MARCXML ---------------------------------------------------------------------------


def test_record_to_xml_bytes() -> None:
    body = SAMPLE_XML_BODY.format(e_acute="&#233;", mi="&#31859;")
    assert record_to_xml(sample_record()) == ("<record>" + body).encode("ascii")
    namespaced = (
        '<record xmlns="http://www.loc.gov/MARC21/slim" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.loc.gov/MARC21/slim '
        'http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd">' + body
    )
    assert record_to_xml(sample_record(), namespace=True) == namespaced.encode("ascii")
    node = record_to_xml_node(sample_record())
    assert node.tag == "record"
    assert [child.tag for child in node] == ["leader", "controlfield", "datafield"]


def test_record_to_xml_decodes_raw_marc8(data_dir: Path) -> None:
    raw = next(MARCReader((data_dir / "marc8.dat").read_bytes(), to_unicode=False))
    xml = record_to_xml(raw, quiet=True)
    assert b"De la solitude &#224; la communaut&#233;." in xml


def test_parse_xml_to_array(data_dir: Path) -> None:
    records = parse_xml_to_array(str(data_dir / "batch.xml"))
    assert len(records) == 2
    assert all(type(r) is Record for r in records)
    first = records[0]
    assert len(first.get_fields()) == 18
    assert first["008"].data == "910926s1957    nyuuun              eng  "
    assert first["245"].indicators == Indicators("0", "4")
    assert first["245"]["a"] == "The Great Ray Charles"
    assert first["245"]["h"] == "[sound recording]."

    again = parse_xml_to_array(io.BytesIO(record_to_xml(first)))[0]
    assert again.as_marc() == first.as_marc()
    with (data_dir / "batch.xml").open() as fh:
        assert len(parse_xml_to_array(fh, strict=True)) == 2


def test_bad_leader_in_xml(data_dir: Path) -> None:
    with (data_dir / "bad_tag.xml").open() as fh, pytest.raises(RecordLeaderInvalid):
        parse_xml_to_array(fh)


def xml_doc(inner: str, doctype: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>' + doctype + "<collection "
        'xmlns="http://www.loc.gov/MARC21/slim" xmlns:o="urn:other">' + inner + "</collection>"
    ).encode("utf-8")


def test_xml_strict_mode_and_normalisation() -> None:
    doc = xml_doc(
        "<record><leader>00000nam a2200000 i 4500</leader>"
        '<datafield tag="245" ind1="1"><subfield code="a">e\u0301</subfield>'
        '<subfield code="">dropped</subfield>'
        '<o:subfield code="b">foreign</o:subfield></datafield></record>'
    )
    loose = parse_xml_to_array(io.BytesIO(doc))[0]
    assert loose["245"].subfields == [Subfield("a", "e\u0301"), Subfield("b", "foreign")]
    assert loose["245"].indicators == Indicators("1", " ")

    strict = parse_xml_to_array(io.BytesIO(doc), strict=True, normalize_form="NFC")[0]
    assert strict["245"].subfields == [Subfield("a", "\u00e9")]


def test_xml_handler_subclass_and_map_xml(data_dir: Path) -> None:
    class Titles(XmlHandler):
        def __init__(self) -> None:
            super().__init__()
            self.titles: list = []

        def process_record(self, record) -> None:
            self.titles.append(record.title)

    handler = Titles()
    parse_xml(str(data_dir / "batch.xml"), handler)
    assert handler.records == []
    assert len(handler.titles) == 2
    assert handler.titles[0].startswith("The Great Ray Charles")

    seen: list = []
    map_xml(seen.append, str(data_dir / "batch.xml"), str(data_dir / "batch.xml"))
    assert len(seen) == 4


def test_xml_parser_does_not_read_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = xml_doc(
        "<record><leader>00000nam a2200000 i 4500</leader>"
        '<datafield tag="245" ind1=" " ind2=" "><subfield code="a">[&xxe;]</subfield>'
        "</datafield></record>",
        doctype=f'<!DOCTYPE collection [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>',
    )
    record = parse_xml_to_array(io.BytesIO(doc))[0]
    assert "TOP-SECRET" not in record["245"]["a"]


# --- MARC-in-JSON ----------------------------------------------------------------------


def test_parse_json_matches_marc(data_dir: Path) -> None:
    from_json = parse_json_to_array(str(data_dir / "one.json"))
    from_marc = list(MARCReader((data_dir / "one.dat").read_bytes()))
    assert len(from_json) == len(from_marc) > 0
    assert [r.as_marc() for r in from_json] == [r.as_marc() for r in from_marc]

    with (data_dir / "batch.json").open() as fh:
        from_json = parse_json_to_array(fh)
    from_xml = parse_xml_to_array(str(data_dir / "batch.xml"))
    assert [r.as_marc() for r in from_json] == [r.as_marc() for r in from_xml]


def test_json_reader_inputs(data_dir: Path, capsys: pytest.CaptureFixture) -> None:
    path = data_dir / "test.json"
    expected = json.loads(path.read_text(), strict=False)
    text = path.read_text()
    for source in (str(path), text, text.encode("utf-8"), io.StringIO(text)):
        dicts = [record.as_dict() for record in JSONReader(source)]
        assert dicts == expected

    single = JSONReader(json.dumps(expected[0]))
    assert [r.as_dict() for r in single] == [expected[0]]
    assert [r.as_dict() for r in single] == [expected[0]]  # iterating again restarts

    JSONReader(text, stream=True)
    assert "Streaming not yet implemented" in capsys.readouterr().err

    with pytest.raises(IndexError):
        next(iter(JSONReader('{"leader": "00000nam a2200000 i 4500", "fields": [{}]}')))


def test_json_handler_leaves_input_untouched() -> None:
    document = {
        "leader": "00000nam a2200000 i 4500",
        "fields": [{"001": "x1"}, {"245": {"ind1": "0", "ind2": "1", "subfields": [{"a": "T"}]}}],
    }
    snapshot = json.loads(json.dumps(document))
    records = JSONHandler().elements(document)
    assert document == snapshot
    assert len(records) == 1
    assert records[0]["001"].data == "x1"
    assert records[0]["245"].indicators == Indicators("0", "1")
    assert records[0]["245"]["a"] == "T"


# --- writers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("writer_class", "handle"),
    [
        (MARCWriter, io.BytesIO),
        (XMLWriter, io.BytesIO),
        (JSONWriter, io.StringIO),
        (TextWriter, io.StringIO),
    ],
)
def test_writers_need_records(writer_class, handle) -> None:
    writer = writer_class(handle())
    with pytest.raises(WriteNeedsRecord):
        writer.write("not a record")


def test_json_writer_output() -> None:
    out = io.StringIO()
    writer = JSONWriter(out)
    writer.write(sample_record())
    writer.write(sample_record())
    writer.close(close_fh=False)
    one = (
        '{"leader":"00000nam a2200000 i 4500","fields":[{"001":"ocm 123"},'
        '{"245":{"ind1":"1","ind2":"0","subfields":[{"a":"Caf\\u00e9 & <bar> \\"q\\""},'
        '{"c":"\\u7c73"}]}}]}'
    )
    assert out.getvalue() == f"[{one},{one}]"
    assert writer.file_handle is None
    assert not out.closed

    empty = io.StringIO()
    JSONWriter(empty).close(close_fh=False)
    assert empty.getvalue() == "[]"


def test_xml_writer_output() -> None:
    out = io.BytesIO()
    writer = XMLWriter(out)
    writer.write(sample_record())
    writer.close(close_fh=False)
    body = SAMPLE_XML_BODY.format(e_acute="\u00e9", mi="\u7c73")
    expected = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<collection xmlns="http://www.loc.gov/MARC21/slim">'
        "<record>" + body + "</collection>"
    )
    assert out.getvalue() == expected.encode("utf-8")


def test_text_writer_output_and_closing() -> None:
    out = io.StringIO()
    writer = TextWriter(out)
    writer.write(sample_record())
    writer.write(sample_record())
    one = (
        "=LDR  00000nam a2200000 i 4500\n"
        "=001  ocm\\123\n"
        '=245  10$aCaf\u00e9 & <bar> "q"$c\u7c73\n'
    )
    assert out.getvalue() == one + "\n" + one
    writer.close()
    assert out.closed


def test_marc_writer_output() -> None:
    out = io.BytesIO()
    writer = MARCWriter(out)
    writer.write(sample_record())
    writer.close(close_fh=False)
    assert out.getvalue() == (
        b"00085nam a2200049 i 4500001000800000245002700008\x1eocm 123\x1e"
        b'10\x1faCaf\xc3\xa9 & <bar> "q"\x1fc\xe7\xb1\xb3\x1e\x1d'
    )


# --- readers ---------------------------------------------------------------------------


def test_map_records(data_dir: Path) -> None:
    seen: list = []
    with (data_dir / "test.dat").open("rb") as a, (data_dir / "test.dat").open("rb") as b:
        map_records(seen.append, a, b)
    assert len(seen) == 2 * len(list(MARCReader((data_dir / "test.dat").read_bytes())))
    assert all(isinstance(r, Record) for r in seen)


def test_marcmaker_round_trip(data_dir: Path) -> None:
    originals = list(MARCReader((data_dir / "test.dat").read_bytes()))
    out = io.StringIO()
    writer = TextWriter(out)
    for record in originals:
        writer.write(record)
    parsed = list(MARCMakerReader(out.getvalue()))
    assert len(parsed) == len(originals)
    for original, again in zip(originals, parsed):
        assert str(again.leader) == str(original.leader)
        assert [f.tag for f in again] == [f.tag for f in original]
        # MARCMaker writes blanks as backslashes and reading keeps them, as in pymarc.
        assert str(again) == str(original)


def test_marcmaker_reader_sources_and_errors(tmp_path: Path) -> None:
    text = "=LDR  00000nam a2200000 i 4500\n=001  x\n=245  10$aT\u00e9$bS"
    path = tmp_path / "one.mrk"
    path.write_text(text, encoding="latin-1")
    for reader in (
        MARCMakerReader(text),
        MARCMakerReader(str(path), encoding="latin-1"),
        MARCMakerReader(io.StringIO(text)),
    ):
        (record,) = list(reader)
        assert record["001"].data == "x"
        assert record["245"].subfields == [Subfield("a", "T\u00e9"), Subfield("b", "S")]
        assert record["245"].indicators == Indicators("1", "0")

    for bad, cause in (
        ("245  10$aT", ValueError),
        ("=24510$aT", ValueError),
        ("=LDR  short", RecordLeaderInvalid),
    ):
        with pytest.raises(exceptions.PymarcException) as info:
            next(MARCMakerReader(bad))
        assert str(info.value) == f'Unable to parse line "{bad}"'
        assert isinstance(info.value.__cause__, cause)


# --- package surface -------------------------------------------------------------------

API_PROBE = textwrap.dedent(
    """
    import inspect, json, sys, types
    import {module} as pkg

    def kind(obj):
        if isinstance(obj, types.ModuleType):
            return "module"
        if isinstance(obj, type):
            return "class"
        if callable(obj):
            return "function"
        return "value"

    def signature(obj):
        target = obj.__init__ if isinstance(obj, type) else obj
        try:
            params = inspect.signature(target).parameters.values()
        except (TypeError, ValueError):
            return None
        return [[p.name, str(p.kind), repr(p.default)] for p in params]

    out = {{}}
    for name in dir(pkg):
        if name.startswith("_"):
            continue
        obj = getattr(pkg, name)
        if isinstance(obj, types.ModuleType):
            origin = obj.__name__
        else:
            origin = getattr(obj, "__module__", None)
        if kind(obj) != "value" and not str(origin).startswith(("pymarc", "fastmarc")):
            continue  # a standard-library name pymarc's star imports leak (test_module_names checks those)
        out[name] = {{"kind": kind(obj), "signature": signature(obj)}}
    json.dump(out, sys.stdout)
    """
)

# Names whose object is the same plain value in the standard library (a SAX feature URI
# that pymarc's `from .marcxml import *` re-exports).
STDLIB_VALUES = {"feature_namespaces"}
# Classes implemented natively (RawField inherits Field.__init__): their constructor
# signature is checked by the native tests, not here.
NATIVE = {"Record", "Field", "Reader", "MARCReader", "RawField"}
# fastmarc's documented opt-ins: keyword-only parameters after all of pymarc's, so every
# pymarc call still means what it means in pymarc.
KEYWORD_ADDITIONS = {"XMLWriter": ["well_formed"], "record_to_xml": ["well_formed"]}


def api_of(module: str, pythonpath: str) -> dict:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    result = subprocess.run(
        [sys.executable, "-c", API_PROBE.format(module=module)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_public_names_match_pymarc(data_dir: Path) -> None:
    sdist = data_dir.parent
    if not (sdist / "pymarc" / "__init__.py").is_file():
        pytest.fail(f"pymarc 5.4.0 sources not found in {sdist}", pytrace=False)
    ours_path = os.pathsep.join(p for p in sys.path if p)
    pymarc_api = api_of("pymarc", str(sdist))
    ours = api_of("fastmarc", ours_path)
    expected = set(pymarc_api) - STDLIB_VALUES
    # fastmarc's own additions beyond pymarc's API.
    additions = {
        "cli",
        "parse_all",
        "install_as_pymarc",
        "mrk",
        "MRKReader",
        "MRKWriter",
        "record_to_mrk",
        "marc8_writing",
        "record_to_marc8",
        "unicode_to_marc8",
        "arrow",
        "to_arrow",
        "from_arrow",
        "to_parquet",
        "read_parquet",
    }
    assert set(ours) - additions >= expected, sorted(expected - set(ours))
    extra = set(ours) - set(pymarc_api) - additions
    assert extra == set(), sorted(extra)
    for name in sorted(expected):
        assert ours[name]["kind"] == pymarc_api[name]["kind"], name
        if name not in NATIVE and pymarc_api[name]["kind"] in ("class", "function"):
            theirs = pymarc_api[name]["signature"]
            mine = ours[name]["signature"]
            if theirs is None or mine is None:
                assert mine == theirs, name
                continue
            assert mine[: len(theirs)] == theirs, name
            added = mine[len(theirs) :]
            assert [p[0] for p in added] == KEYWORD_ADDITIONS.get(name, []), name
            assert all(p[1] == "KEYWORD_ONLY" and p[2] == "None" for p in added), name


def test_version() -> None:
    assert isinstance(fastmarc.__version__, str)
    assert fastmarc.__version__
