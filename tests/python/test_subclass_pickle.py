"""Subclassing, copying and pickling, side by side with the real pymarc 5.4.0 (issue 24, 1-2).

Every test runs the same code on pymarc and on fastmarc and compares what a program sees.
The subclasses live at module level, where pickle finds them by name.
"""

from __future__ import annotations

import copy
import io
import pickle
from pathlib import Path

import pytest

import fastmarc
import pymarc


def _record_class(lib):
    class TaggedRecord(lib.Record):
        """A record with an argument of its own, an extra attribute and an add_field hook."""

        def __init__(self, *args, source=None, **kwargs):
            self.added = []
            super().__init__(*args, **kwargs)
            self.source = source

        def add_field(self, *fields):
            self.added.extend(field.tag for field in fields)
            super().add_field(*fields)

    return TaggedRecord


def _field_class(lib):
    class NotedField(lib.Field):
        """A field with a keyword-only argument of its own and overridden methods."""

        def __init__(self, *args, note=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.note = note

        def value(self):
            return "<" + super().value() + ">"

        def __str__(self):
            return "NOTED " + super().__str__()

    return NotedField


PymarcTaggedRecord = _record_class(pymarc)
PymarcTaggedRecord.__qualname__ = PymarcTaggedRecord.__name__ = "PymarcTaggedRecord"
FastmarcTaggedRecord = _record_class(fastmarc)
FastmarcTaggedRecord.__qualname__ = FastmarcTaggedRecord.__name__ = "FastmarcTaggedRecord"
PymarcNotedField = _field_class(pymarc)
PymarcNotedField.__qualname__ = PymarcNotedField.__name__ = "PymarcNotedField"
FastmarcNotedField = _field_class(fastmarc)
FastmarcNotedField.__qualname__ = FastmarcNotedField.__name__ = "FastmarcNotedField"

LIBS = {
    "pymarc": (pymarc, PymarcTaggedRecord, PymarcNotedField),
    "fastmarc": (fastmarc, FastmarcTaggedRecord, FastmarcNotedField),
}


def sample_bytes() -> bytes:
    return (Path(__file__).resolve().parents[2] / "data" / "sample.mrc").read_bytes()


def first_record_bytes() -> bytes:
    data = sample_bytes()
    return data[: int(data[:5])]


def view(record) -> tuple:
    """What a program sees of a record, as plain values."""
    fields = []
    for field in record.fields:
        if field.control_field:
            fields.append((type(field).__name__, field.tag, field.data))
        else:
            subfields = [tuple(s) for s in field.subfields]
            fields.append((type(field).__name__, field.tag, tuple(field.indicators), subfields))
    return (type(record).__name__, str(record.leader), record.pos, record.force_utf8, record.to_unicode, fields)


def normalised(value, lib_name: str):
    """Class names made library-neutral, so both libraries' views compare equal."""
    if isinstance(value, str):
        return value.replace(lib_name.capitalize(), "Lib")
    if isinstance(value, tuple):  # named tuples (Subfield, Indicators) too, as plain tuples
        return tuple(normalised(v, lib_name) for v in value)
    if isinstance(value, list):
        return [normalised(v, lib_name) for v in value]
    return value


def both(run):
    """`run(lib, RecordSub, FieldSub)` for each library; the two results, made comparable."""
    return [normalised(run(*LIBS[name]), name) for name in ("pymarc", "fastmarc")]


def same(run):
    theirs, ours = both(run)
    assert ours == theirs
    return ours


def test_subclasses_take_their_own_arguments_and_forward_the_rest() -> None:
    def run(lib, RecordSub, FieldSub):
        record = RecordSub(source="catalogue", leader="00000cam a2200000 a 4500", force_utf8=True)
        field = FieldSub(
            "245", lib.Indicators("1", "0"), [lib.Subfield("a", "Title")], note="checked"
        )
        keyword_only = FieldSub(tag="001", data="ocm1", note="id")
        record.add_field(keyword_only, field)
        return (
            record.source,
            record.added,
            field.note,
            keyword_only.note,
            field.value(),
            str(record),
            record.title,
            view(record),
        )

    result = same(run)
    assert result[0] == "catalogue" and result[1] == ["001", "245"]


def test_decoding_calls_a_subclass_add_field_for_every_field() -> None:
    data = first_record_bytes()

    def run(lib, RecordSub, FieldSub):
        record = RecordSub(data, source="file")
        return record.added, record.source, view(record)

    added, _, _ = same(run)
    assert len(added) > 3


def test_a_plain_record_and_field_still_refuse_unknown_arguments() -> None:
    for lib in (pymarc, fastmarc):
        with pytest.raises(TypeError, match=r"__init__\(\)"):
            lib.Record(source="x")
        with pytest.raises(TypeError, match=r"Field.__init__\(\) missing 1 required positional argument: 'tag'"):
            lib.Field()


def test_copies_and_pickles_of_subclasses_keep_class_and_attributes() -> None:
    def run(lib, RecordSub, FieldSub):
        record = RecordSub(source="s")
        record.add_field(FieldSub("245", lib.Indicators("0", "0"), [lib.Subfield("a", "T")], note="n"))
        out = []
        for made in (copy.copy(record), copy.deepcopy(record), pickle.loads(pickle.dumps(record))):
            out.append(
                (
                    type(made).__name__,
                    made.source,
                    made.added,
                    type(made.fields[0]).__name__,
                    made.fields[0].note,
                    made.fields[0].value(),
                    view(made),
                )
            )
        field = record.fields[0]
        for made in (copy.copy(field), copy.deepcopy(field), pickle.loads(pickle.dumps(field))):
            out.append((type(made).__name__, made.note, str(made)))
        return out

    same(run)


def test_marcwriter_subclass_overrides_take_effect(tmp_path: Path) -> None:
    def run(lib, RecordSub, FieldSub):
        class CountingWriter(lib.MARCWriter):
            def __init__(self, target):
                super().__init__(target)
                self.count = 0

            def write(self, record):
                self.count += 1
                super().write(record)

        handle = io.BytesIO()
        writer = CountingWriter(handle)
        record = lib.Record(data=first_record_bytes())
        writer.write(record)
        writer.write(record)
        writer.close(close_fh=False)
        return writer.count, handle.getvalue()

    assert same(run)[0] == 2

    # fastmarc's own path target too: the override runs and the file holds what it wrote.
    class Skipping(fastmarc.MARCWriter):
        def write(self, record):
            if record.title:
                super().write(record)

    path = tmp_path / "out.mrc"
    writer = Skipping(str(path))
    records = list(fastmarc.MARCReader(sample_bytes()))
    records[0]["245"].delete_subfield("a")
    records[0]["245"].delete_subfield("b")
    for record in records:
        writer.write(record)
    writer.close()
    written = list(fastmarc.MARCReader(path.read_bytes()))
    assert len(written) == len(records) - 1


@pytest.mark.parametrize("pos", [0, 7])
def test_records_pickle_to_equal_records_without_recomputing_the_leader(pos: int) -> None:
    def run(lib, RecordSub, FieldSub):
        out = []
        empty = lib.Record()
        empty.pos = pos
        read = lib.Record(data=first_record_bytes())
        read.pos = pos
        # A leader that as_marc() would rewrite (length and base address): kept as it is.
        read.leader = lib.Leader("99999" + str(read.leader)[5:12] + "77777" + str(read.leader)[17:])
        for record in (empty, read):
            back = pickle.loads(pickle.dumps(record))
            out.append((view(back), view(back) == view(record), type(back.leader).__name__))
        return out

    result = same(run)
    assert all(equal for _, equal, _ in result)
    assert result[1][0][1].startswith("99999")


def test_records_from_a_reader_pickle_and_copy_as_pymarc_records_do() -> None:
    def run(lib, RecordSub, FieldSub):
        out = []
        for record in lib.MARCReader(sample_bytes()):
            back = pickle.loads(pickle.dumps(record))
            shallow = copy.copy(record)
            deep = copy.deepcopy(record)
            deep.fields[0].data = "changed"
            deep.leader.record_status = "d"
            out.append(
                (
                    view(back) == view(record),
                    shallow.fields is record.fields,
                    shallow.leader is record.leader,
                    deep.fields is record.fields,
                    record.fields[0].data != "changed",
                    str(record.leader)[5],
                    back.as_marc() == record.as_marc(),
                )
            )
        return out

    result = same(run)
    assert result and all(r[0] and r[1] and r[2] and not r[3] and r[4] and r[6] for r in result)


def test_fields_subfields_and_leaders_pickle_to_equal_values() -> None:
    def run(lib, RecordSub, FieldSub):
        record = lib.Record(data=first_record_bytes())
        out = []
        for field in record.fields:
            back = pickle.loads(pickle.dumps(field))
            out.append((type(back).__name__, back.tag, back.control_field, back.data, back.indicators, back.subfields, str(back)))
            for subfield in getattr(field, "subfields", []):
                again = pickle.loads(pickle.dumps(subfield))
                out.append((type(again).__name__, again == subfield, again))
        leader = lib.Leader("01234cam a2200289 a 4500")
        back = pickle.loads(pickle.dumps(leader))
        out.append((type(back).__name__, str(back), back.record_status))
        fresh = lib.Field("650", lib.Indicators(" ", "0"), [lib.Subfield("a", "Cats")])
        shallow = copy.copy(fresh)
        out.append((shallow.subfields is fresh.subfields, copy.deepcopy(fresh).subfields is fresh.subfields))
        return out

    same(run)


def test_methods_pymarc_calls_on_self_reach_the_subclass_overrides() -> None:
    data = first_record_bytes()

    def run(lib, RecordSub, FieldSub):
        calls = []

        class Renaming(lib.Record):
            """Serves another tag's field for 245 and 100, and counts decode_marc calls."""

            def get(self, tag, default=None):
                calls.append(tag)
                return super().get({"245": "650", "100": "245"}.get(tag, tag), default)

            def as_dict(self):
                return {"leader": "replaced", "fields": []}

            def decode_marc(self, marc, **kwargs):
                calls.append(("decode_marc", sorted(kwargs)))
                super().decode_marc(marc, **kwargs)

        class Subjectish(lib.Field):
            def is_subject_field(self):
                return True

            def get(self, code, default=None):
                return "880-07/r" if code == "6" else super().get(code, default)

        record = Renaming(data)
        field = Subjectish(
            "245",
            lib.Indicators("0", "0"),
            [lib.Subfield("a", "Cats"), lib.Subfield("x", "History"), lib.Subfield("6", "x")],
        )
        return (
            record.title,
            record.author,
            record.isbn,
            record.as_json(),
            field.format_field(),
            field.linkage_occurrence_num(),
            calls,
        )

    result = same(run)
    assert result[3] == '{"leader": "replaced", "fields": []}'
    assert result[4] == "Cats -- History" and result[5] == "07"


def test_a_subclass_get_fields_is_what_the_field_groups_use() -> None:
    data = sample_bytes()

    def run(lib, RecordSub, FieldSub):
        class OnlyFirstOfEach(lib.Record):
            """Keeps only the first field of each tag asked for."""

            def get_fields(self, *tags):
                seen, kept = set(), []
                for field in super().get_fields(*tags):
                    if field.tag not in seen:
                        seen.add(field.tag)
                        kept.append(field)
                return kept

        out = []
        for record in lib.MARCReader(data):
            mine = OnlyFirstOfEach(fields=record.fields, leader=str(record.leader))
            out.append(
                (
                    [[f.tag for f in getattr(mine, name)] for name in (
                        "series", "subjects", "addedentries", "location", "notes", "physicaldescription")],
                    mine.publisher,
                    mine.pubyear,
                )
            )
        return out

    result = same(run)
    assert any(len(subjects) > 0 for (groups, _, _) in result for subjects in groups[1:2])
