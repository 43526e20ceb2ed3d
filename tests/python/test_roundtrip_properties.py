"""Random records built through the pymarc API survive ISO 2709, MARCXML and MARC-in-JSON
unchanged, in fastmarc, and read back as the real pymarc 5.4.0 reads them."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastmarc
import pymarc

# Text as MARC carries it: no NUL or MARC delimiters/terminators, nothing XML 1.0 cannot
# hold (other control characters, surrogates), any other character including non-BMP ones.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1d\x1e\x1f",
                  min_codepoint=0x20),
    max_size=30,
)
CODES = st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="<>&\"'")
INDICATORS = st.sampled_from(" 0123456789abc")
CONTROL_TAGS = st.sampled_from(["001", "003", "005", "006", "007", "008", "009"])
DATA_TAGS = st.from_regex(r"\A[1-9][0-9]{2}\Z")
LEADER = st.builds(
    lambda status, kind, level: f"00000{status}{kind}{level} a2200000 a 4500",
    st.sampled_from("acdnp"), st.sampled_from("acdegijkmoprt"), st.sampled_from("abcdims"),
)


@st.composite
def records(draw, lib):
    record = lib.Record()
    record.leader = lib.Leader(draw(LEADER))
    for _ in range(draw(st.integers(0, 3))):
        record.add_field(lib.Field(tag=draw(CONTROL_TAGS), data=draw(TEXT)))
    for _ in range(draw(st.integers(1, 8))):
        subfields = [lib.Subfield(code=draw(CODES), value=draw(TEXT))
                     for _ in range(draw(st.integers(1, 5)))]
        record.add_field(lib.Field(tag=draw(DATA_TAGS),
                                   indicators=lib.Indicators(draw(INDICATORS), draw(INDICATORS)),
                                   subfields=subfields))
    return record


def content(record) -> tuple:
    """What must survive: the leader's meaningful positions (lengths and base address are
    recomputed on writing, leader/09 says UTF-8) and every field exactly."""
    leader = str(record.leader)
    fields = []
    for field in record.fields:
        if field.is_control_field():
            fields.append((field.tag, field.data))
        else:
            fields.append((field.tag, tuple(field.indicators), tuple(tuple(s) for s in field.subfields)))
    return leader[5:9] + leader[17:], tuple(fields)


def collection(lib, batch) -> bytes:
    return (b'<collection xmlns="http://www.loc.gov/MARC21/slim">'
            + b"".join(lib.record_to_xml(r) for r in batch) + b"</collection>")


SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(records(fastmarc), min_size=1, max_size=4))
def test_records_survive_iso2709_xml_and_json(batch) -> None:
    expected = [content(r) for r in batch]
    marc = b"".join(r.as_marc() for r in batch)
    for threads in (1, 2):
        assert [content(r) for r in fastmarc.MARCReader(marc, threads=threads)] == expected
    assert [content(r) for r in fastmarc.parse_xml_to_array(io.BytesIO(collection(fastmarc, batch)))] == expected
    json_array = "[" + ",".join(r.as_json() for r in batch) + "]"
    assert [content(r) for r in fastmarc.JSONReader(json_array)] == expected
    assert [content(r) for r in fastmarc.parse_json_to_array(io.StringIO(json_array))] == expected


@SETTINGS
@given(st.lists(records(pymarc), min_size=1, max_size=4))
def test_what_pymarc_builds_fastmarc_reads_and_writes_as_pymarc(batch) -> None:
    """Records built with the real pymarc: fastmarc reads pymarc's ISO 2709, MARCXML and
    JSON to the same content, and writes the same bytes and text back."""
    expected = [content(r) for r in batch]
    marc = b"".join(r.as_marc() for r in batch)
    ours = list(fastmarc.MARCReader(marc))
    assert [content(r) for r in ours] == expected
    assert b"".join(r.as_marc() for r in ours) == marc
    assert [r.as_json() for r in ours] == [r.as_json() for r in pymarc.MARCReader(marc)]
    assert collection(fastmarc, ours) == collection(pymarc, list(pymarc.MARCReader(marc)))
    from_xml = fastmarc.parse_xml_to_array(io.BytesIO(collection(pymarc, batch)))
    assert [content(r) for r in from_xml] == expected
    json_array = "[" + ",".join(r.as_json() for r in batch) + "]"
    assert [content(r) for r in fastmarc.JSONReader(json_array)] == expected
