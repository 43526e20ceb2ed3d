"""pymarc's internal calls, for Python subclasses of the native `Record` and `Field`.

The native classes compute `title`, `author`, `as_json()`, `format_field()` and the like
directly. In pymarc these go through other methods of the same object (`self.get(...)`,
`self.get_fields(...)`, `self.as_dict()`, `self.is_subject_field()`), and a subclass that overrides one of those
expects its override to be used. `adapt` is called for every new subclass: where the
subclass overrides such a method, it gets Python versions of the methods that call it,
doing what pymarc does through the override. Other subclasses keep the native methods.
"""

from __future__ import annotations

import json
import re

_ISBN = re.compile(r"([0-9\-xX]+)")


def _title_from(tag: str):
    def joined(self):
        field = self.get(tag)
        if not field:
            return None
        title = field.get("a")
        if title:
            subtitle = field.get("b")
            if subtitle:
                title += f" {subtitle}"
        return title

    return property(joined)


def _formatted_first(*tags: str):
    def formatted(self):
        for tag in tags:
            field = self.get(tag)
            if field:
                return field.format_field()
        return None

    return property(formatted)


def _isbn(self):
    field = self.get("020")
    number = field.get("a") if field else None
    if not number:
        return None
    found = _ISBN.search(number)
    return found.group(1).replace("-", "") if found else None


def _issn(self):
    field = self.get("022")
    return field.get("a") if (field and "a" in field) else None


def _issnl(self):
    field = self.get("022")
    return field["l"] if (field and "l" in field) else None


def _tags_of(name: str) -> tuple[str, ...]:
    """The tags the native property `name` selects (its list lives in the native code):
    asked of a record holding one field of every numeric tag."""
    from fastmarc._native import Field, Record

    probe = Record()
    probe.fields = [Field(f"{n:03}", data="") for n in range(10)]
    probe.fields += [Field(f"{n:03}") for n in range(10, 1000)]
    return tuple(field.tag for field in getattr(Record, name).__get__(probe))


def _fields_of(name: str):
    tags: list = []

    def selected(self):
        if not tags:
            tags.extend(_tags_of(name))
        return self.get_fields(*tags)

    return property(selected)


def _publication(code: str):
    def part(self):
        for field in self.get_fields("260", "264"):
            if field.tag == "260" or (field.tag == "264" and field.indicator2 == "1"):
                return field.get(code)
        return None

    return property(part)


def _get_linked_fields(self, field):
    from fastmarc.exceptions import MissingLinkedFields

    number = field.linkage_occurrence_num()
    linked = [f for f in self.get_fields("880") if f.linkage_occurrence_num() == number]
    if number is not None and not linked:
        raise MissingLinkedFields(field)
    return linked


def _as_json(self, **kwargs) -> str:
    return json.dumps(self.as_dict(), **kwargs)


def _linkage_occurrence_num(self):
    occurrence = self.get("6", "")
    return occurrence.split("-")[1].split("/")[0] if occurrence else None


def _format_field(self):
    if self.control_field:
        return self.data or ""
    subject = self.is_subject_field()
    parts = []
    for code, value in self.subfields:
        if code == "6":
            continue
        parts.append(f" -- {value}" if subject and code in ("v", "x", "y", "z") else f" {value}")
    return "".join(parts).strip()


# For each method a subclass may override: what pymarc computes through it.
RECORD_DEPENDENTS = {
    "get": {
        "title": _title_from("245"),
        "issn_title": _title_from("222"),
        "isbn": property(_isbn),
        "issn": property(_issn),
        "issnl": property(_issnl),
        "sudoc": _formatted_first("086"),
        "author": _formatted_first("100", "110", "111"),
        "uniformtitle": _formatted_first("130", "240"),
    },
    "get_fields": {
        **{
            name: _fields_of(name)
            for name in ("series", "subjects", "addedentries", "location", "notes", "physicaldescription")
        },
        "publisher": _publication("b"),
        "pubyear": _publication("c"),
        "get_linked_fields": _get_linked_fields,
    },
    "as_dict": {"as_json": _as_json},
}
FIELD_DEPENDENTS = {
    "get": {"linkage_occurrence_num": _linkage_occurrence_num},
    "is_subject_field": {"format_field": _format_field},
}


def adapt(cls: type, native: type) -> None:
    """Give `cls` (a new subclass of `native`) pymarc's versions of the methods that depend
    on methods it overrides, unless it defines those itself."""
    table = RECORD_DEPENDENTS if native.__name__ == "Record" else FIELD_DEPENDENTS
    for hook, dependents in table.items():
        if getattr(cls, hook) is getattr(native, hook):
            continue
        for name, implementation in dependents.items():
            if getattr(cls, name) is getattr(native, name):
                setattr(cls, name, implementation)
