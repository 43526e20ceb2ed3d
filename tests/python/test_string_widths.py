"""Strings fastmarc makes from record text are the strings pymarc makes: equal, the same
width in memory (CPython's narrowest of 1, 2 or 4 bytes a character, which equality and
hashing rely on), and usable as dict keys for each other."""

from __future__ import annotations

import ctypes
import struct

import pymarc
import pytest

import fastmarc

TEXTS = [
    "",
    "a",
    "é",
    "ab",
    "plain ASCII title",
    "Café au lait",
    "ÿþ at the top of Latin-1",
    "\u0080 the bottom of Latin-1",
    "Ā just past Latin-1",
    "Москва 1917",
    "東京都",
    "mixed é Ж 東 𝄞 end",
    "𝄞",
    "\u07ff\u0800",
    "\uffff at the top of two bytes",
    "\U00010000",
    "\U0010ffff",
    "a" * 300 + "é",
    "é" * 300,
]


def record_bytes() -> bytes:
    record = pymarc.Record(force_utf8=True)
    record.leader = pymarc.Leader(record.leader[:9] + "a" + record.leader[10:])
    record.add_field(pymarc.Field(tag="001", data="Москва"))
    record.add_field(pymarc.Field(tag="005", data="東京"))
    for text in TEXTS:
        record.add_field(
            pymarc.Field(
                tag="500",
                indicators=pymarc.Indicators(" ", " "),
                subfields=[pymarc.Subfield("a", text), pymarc.Subfield("b", text + " 𝄞")],
            )
        )
    return record.as_marc()


def read_one(lib):
    (record,) = list(lib.MARCReader(record_bytes(), to_unicode=True, force_utf8=True))
    return record


def strings(lib) -> list[str]:
    """Every string a program gets from the record, in one order for both libraries: first
    what a record just read gives (fastmarc makes it straight from the parsed record), then
    what its field objects give."""
    out = []
    for entry in read_one(lib).as_dict()["fields"]:
        ((_, content),) = entry.items()
        if isinstance(content, str):
            out.append(content)
        else:
            out.extend(v for sub in content["subfields"] for v in sub.values())
    record = read_one(lib)
    for f in record.get_fields():
        out.append(f.value())
        out.append(f.format_field())
        if f.is_control_field():
            out.append(f.data)
        else:
            out.extend(s.value for s in f.subfields)
            out.extend(f.get_subfields("a", "b"))
    return out


def layout(s: str) -> int:
    """The string's kind (1, 2 or 4 bytes a character), compactness and ASCII flags: the
    bits after `interned` in CPython's `PyASCIIObject.state`, which follows the object
    header, the length and the hash. (`sys.getsizeof` would also count a cached UTF-8 copy,
    which depends on what has been asked of the string before.)"""
    assert struct.calcsize("P") == 8
    state = ctypes.c_uint32.from_address(id(s) + 32).value
    return (state >> 2) & 0b11111


@pytest.mark.parametrize("check", ["equal", "width", "hash"])
def test_strings_match_pymarc(check: str) -> None:
    ours, theirs = strings(fastmarc), strings(pymarc)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert type(a) is str
        if check == "equal":
            assert a == b
        elif check == "width":
            assert layout(a) == layout(b), (a, b)
            widest = max(map(ord, a), default=0)
            assert layout(a) & 0b111 == (1 if widest < 0x100 else 2 if widest < 0x10000 else 4)
        else:
            assert hash(a) == hash(b)
            assert {a: 1}[b] == 1
