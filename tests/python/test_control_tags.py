"""Which tags make a control field, as pymarc decides it (a tag of digits below "010"),
for fields made in Python and fields read from a record."""

from __future__ import annotations

import pymarc
import pytest

import fastmarc

TAGS = ["0", "00", "01", "000", "001", "009", "010", "011", "099", "100", "0000", "0099", "0100",
        "00a", "a01", "", "1", "09", "10", "٠٠١"]


@pytest.mark.parametrize("tag", TAGS)
def test_made_in_python(tag: str) -> None:
    def made(lib):
        return lib.Field(tag=tag, indicators=lib.Indicators(" ", " "), subfields=[lib.Subfield("a", "x")])

    assert made(fastmarc).is_control_field() == made(pymarc).is_control_field()
    assert made(fastmarc).control_field == made(pymarc).control_field


def test_read_from_a_record() -> None:
    record = pymarc.Record(force_utf8=True)
    for tag in ("001", "005", "009", "010", "099", "100", "00a"):
        record.add_field(pymarc.Field(tag=tag, indicators=pymarc.Indicators("1", "2"),
                                      subfields=[pymarc.Subfield("a", "x")]))
    data = record.as_marc()
    ours = next(iter(fastmarc.MARCReader(data)))
    theirs = next(iter(pymarc.MARCReader(data)))
    assert [(f.tag, f.is_control_field()) for f in ours.get_fields()] == [
        (f.tag, f.is_control_field()) for f in theirs.get_fields()
    ]
