"""MarcEdit's .mrk text and MARC-8 writing from Python, checked against the real pymarc:
pymarc reads the MARC-8 fastmarc writes and finds the same text, and `str(record)` stays
pymarc's."""

from __future__ import annotations

import io
import unicodedata
import warnings
from pathlib import Path

import pytest

import fastmarc
import pymarc
from test_pymarc_equivalence import ISO2709_FILES
from xmllint import assert_xmllint


def fastmarc_records(path: Path) -> list:
    with open(path, "rb") as handle:
        return [r for r in fastmarc.MARCReader(handle, permissive=True) if r is not None]


@pytest.mark.parametrize("name", ISO2709_FILES)
def test_mrk_writer_and_reader_give_the_records_back(pymarc_test_dir: Path, name: str) -> None:
    records = fastmarc_records(pymarc_test_dir / name)
    buffer = io.StringIO()
    writer = fastmarc.MRKWriter(buffer)
    for record in records:
        writer.write(record)
    text = buffer.getvalue()
    assert text.endswith("\n\n") or not records
    back = list(fastmarc.MRKReader(text))
    assert len(back) == len(records)
    for original, again in zip(records, back):
        # Decoded text, leader/09 'a' in both: the same fields, the same MARC bytes.
        expected = fastmarc.Record(data=fastmarc.Record(data=original.as_marc()).as_marc())
        assert str(again) == str(expected)
        assert again.as_marc() == expected.as_marc()


def test_str_stays_pymarcs_and_mrk_is_unambiguous() -> None:
    fields = [
        pymarc.Field(tag="001", data="id 1"),
        pymarc.Field(
            tag="245",
            indicators=pymarc.Indicators("1", " "),
            subfields=[pymarc.Subfield("a", "Costs $5 {sic}"), pymarc.Subfield("c", "back\\slash")],
        ),
    ]
    ours = fastmarc.Record()
    theirs = pymarc.Record()
    for f in fields:
        ours.add_field(fastmarc.Field(tag=f.tag, data=f.data) if f.data else fastmarc.Field(
            tag=f.tag,
            indicators=fastmarc.Indicators(*f.indicators),
            subfields=[fastmarc.Subfield(s.code, s.value) for s in f.subfields],
        ))
        theirs.add_field(f)
    assert str(ours) == str(theirs)
    text = fastmarc.record_to_mrk(ours)
    assert "=001  id\\1\n" in text
    assert "=245  1\\$aCosts {dollar}5 {lcub}sic{rcub}$cback{bsol}slash\n" in text
    again = next(iter(fastmarc.MRKReader(text)))
    assert again["245"]["a"] == "Costs $5 {sic}"
    assert again["245"]["c"] == "back\\slash"
    assert again["001"].data == "id 1"


def test_mrk_reader_reports_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.mrk"
    path.write_text(
        "=LDR  00000nam\\a2200000\\a\\4500\n=001  one\n\n"
        "=LDR  00000nam\\a2200000\\a\\4500\n=245  1\n\n"
        "=LDR  00000nam\\a2200000\\a\\4500\n=001  three\n",
        encoding="utf-8",
    )
    with pytest.raises(fastmarc.PymarcException, match="record 2: .*line 5: field 245 has only one indicator"):
        list(fastmarc.MRKReader(str(path)))
    reader = fastmarc.MRKReader(str(path), permissive=True)
    got = []
    for record in reader:
        got.append(None if record is None else record["001"].data)
        if record is None:
            assert "line 5" in str(reader.current_exception)
    assert got == ["one", None, "three"]


def test_pymarc_reads_the_marc8_fastmarc_writes(pymarc_test_dir: Path) -> None:
    for name in ["marc8.dat", "diacritic.dat", "utf8_with_leader_flag.dat"]:
        records = fastmarc_records(pymarc_test_dir / name)
        assert records
        for record in records:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                marc8 = fastmarc.record_to_marc8(record)
            assert marc8[9:10] == b" "
            theirs = next(iter(pymarc.MARCReader(marc8, to_unicode=True)))
            expected = pymarc.Record(data=record.as_marc(), to_unicode=True, force_utf8=True)
            for a, b in zip(theirs.get_fields(), expected.get_fields()):
                if a.is_control_field():
                    assert a.data == b.data
                else:
                    assert a.subfields == [
                        pymarc.Subfield(s.code, unicodedata.normalize("NFC", s.value)) for s in b.subfields
                    ]


def test_unicode_to_marc8_round_trips_lc_test_lines(pymarc_test_dir: Path) -> None:
    lines = (pymarc_test_dir / "test_utf8.txt").read_text(encoding="utf-8").splitlines()
    vendor_only = {"\u2026", "\u2014", "\u2019", "\u2122"}
    checked = 0
    for line in lines:
        if vendor_only & set(line):
            continue
        encoded = fastmarc.unicode_to_marc8(line)
        assert pymarc.marc8_to_unicode(encoded) == unicodedata.normalize("NFC", line)
        checked += 1
    assert checked > 1000


def test_unrepresentable_characters_warn() -> None:
    record = fastmarc.Record()
    record.add_field(
        fastmarc.Field(tag="245", indicators=fastmarc.Indicators("0", "0"), subfields=[fastmarc.Subfield("a", "smile 😀")])
    )
    with pytest.warns(UserWarning, match=r"245\$a: character U\+1F600"):
        data = fastmarc.record_to_marc8(record)
    assert b"smile &#x1F600;" in data


# Files of pymarc's whose records hold characters XML 1.0 cannot carry (an ESC from a broken
# MARC-8 escape, a control character as a subfield code).
_NOT_XML_FILES = {"bad_marc8_escape.dat", "bad_subfield_code.dat"}


def _xml_writer_bytes(records, writer_class, **options) -> bytes:
    buffer = io.BytesIO()
    writer = writer_class(buffer, **options)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    return buffer.getvalue()


def _pymarc_records(path: Path) -> list:
    with open(path, "rb") as handle:
        return [r for r in pymarc.MARCReader(handle, permissive=True) if r is not None]


@pytest.mark.parametrize("name", sorted(_NOT_XML_FILES))
def test_xml_writer_keeps_pymarcs_bytes_by_default(pymarc_test_dir: Path, name: str) -> None:
    # pymarc copies the control characters into the document, so xmllint rejects it;
    # fastmarc's default is pymarc's bytes, the same document.
    ours = _xml_writer_bytes(fastmarc_records(pymarc_test_dir / name), fastmarc.XMLWriter)
    theirs = _xml_writer_bytes(_pymarc_records(pymarc_test_dir / name), pymarc.XMLWriter)
    assert ours == theirs
    with pytest.raises(AssertionError):
        assert_xmllint(ours)


@pytest.mark.parametrize("name", ISO2709_FILES)
def test_xml_writer_well_formed_output_satisfies_xmllint(pymarc_test_dir: Path, name: str) -> None:
    records = fastmarc_records(pymarc_test_dir / name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        document = _xml_writer_bytes(records, fastmarc.XMLWriter, well_formed="replace")
    assert_xmllint(document)
    replaced = [w for w in caught if "cannot be written in XML" in str(w.message)]
    if name in _NOT_XML_FILES:
        assert replaced, name
        assert "written as U+FFFD" in str(replaced[0].message)
        with pytest.raises(ValueError, match="cannot be written in XML"):
            _xml_writer_bytes(records, fastmarc.XMLWriter, well_formed="strict")
    else:
        # Nothing to replace: pymarc's bytes, unchanged.
        assert not replaced
        assert document == _xml_writer_bytes(records, fastmarc.XMLWriter)
        assert document == _xml_writer_bytes(records, fastmarc.XMLWriter, well_formed="strict")


def _record(control: str, tag: str, code: str, value: str) -> fastmarc.Record:
    """A 001 and one data field with one subfield."""
    record = fastmarc.Record()
    record.add_field(fastmarc.Field(tag="001", data=control))
    record.add_field(
        fastmarc.Field(
            tag=tag,
            indicators=fastmarc.Indicators("1", "0"),
            subfields=[fastmarc.Subfield(code, value)],
        )
    )
    return record


def _record_with_a_control_character() -> fastmarc.Record:
    return _record("ocm123\x1f", "245", "a", "two\r\nlines")


def test_record_to_xml_well_formed_strict_and_replace() -> None:
    record = _record_with_a_control_character()
    # pymarc's bytes by default, the raw 0x1F included.
    assert record_to_xml_default(record) == pymarc.record_to_xml(_as_pymarc(record))
    with pytest.raises(ValueError, match=r"001: character U\+001F at position 6"):
        fastmarc.record_to_xml(record, well_formed="strict")
    replaced = r"001: character U\+001F.*1 such character written as U\+FFFD"
    with pytest.warns(UserWarning, match=replaced):
        xml = fastmarc.record_to_xml(record, well_formed="replace")
    assert b"ocm123&#65533;" in xml
    assert b"two&#13;\nlines" in xml
    assert_xmllint(b"<collection>" + xml + b"</collection>")
    back = fastmarc.parse_xml_to_array(io.BytesIO(b"<collection>" + xml + b"</collection>"))
    assert back[0]["245"]["a"] == "two\r\nlines"
    with pytest.raises(ValueError, match="well_formed"):
        fastmarc.record_to_xml(record, well_formed="yes")
    with pytest.raises(ValueError, match="well_formed"):
        fastmarc.XMLWriter(io.BytesIO(), well_formed=True)


def test_xml_writer_strict_writes_nothing_of_the_record() -> None:
    good = fastmarc.Record()
    good.add_field(fastmarc.Field(tag="001", data="fine"))
    buffer = io.BytesIO()
    writer = fastmarc.XMLWriter(buffer, well_formed="strict")
    writer.write(good)
    before = buffer.getvalue()
    with pytest.raises(ValueError):
        writer.write(_record_with_a_control_character())
    assert buffer.getvalue() == before
    writer.close(close_fh=False)
    assert_xmllint(buffer.getvalue())


def test_well_formed_applies_on_elementtrees_route_too() -> None:
    # A two-letter subfield code is more than the core models: pymarc's ElementTree route.
    record = _record("id\x1b1\x1f", "500", "xy", "a\rb")
    assert fastmarc.record_to_xml(record) == pymarc.record_to_xml(_as_pymarc(record))
    with pytest.raises(ValueError, match=r"001: character U\+001B at position 2"):
        fastmarc.record_to_xml(record, well_formed="strict")
    with pytest.warns(UserWarning, match="2 such characters"):
        xml = fastmarc.record_to_xml(record, well_formed="replace")
    assert_xmllint(b"<collection>" + xml + b"</collection>")
    assert b"id&#65533;1&#65533;" in xml and b"a&#13;b" in xml


def record_to_xml_default(record) -> bytes:
    return fastmarc.record_to_xml(record)


def _as_pymarc(record) -> pymarc.Record:
    """The same record built with pymarc's own classes."""
    theirs = pymarc.Record()
    for field in record:
        if field.control_field:
            theirs.add_field(pymarc.Field(tag=field.tag, data=field.data))
        else:
            theirs.add_field(
                pymarc.Field(
                    tag=field.tag,
                    indicators=pymarc.Indicators(*field.indicators),
                    subfields=[pymarc.Subfield(s.code, s.value) for s in field.subfields],
                )
            )
    return theirs
