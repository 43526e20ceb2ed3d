"""Edits of records just read, field by field, through every way pymarc offers to change a
field or a leader (attribute setters, methods, the subfield and field lists themselves),
reached through every lookup, and serialised in between and at the end by every writer:
fastmarc gives what pymarc gives, byte for byte, for records read from ISO 2709, MARCXML
and MARC-in-JSON.

fastmarc serialises a record that is still as parsed straight from its parsed form, and
falls back to the Python objects once anything changed; a change that failed to mark its
record would come out as the old text, silently. So every change here is followed by a
serialisation, and sequences run on records whose earlier serialisations came from the
parsed form. Seeded: every run tries the same sequences; a failure names the sequence.
"""

from __future__ import annotations

import copy
import io
import random
from pathlib import Path

import pymarc
import pytest

import fastmarc

# Texts that are plain ASCII, Latin-1, and beyond Latin-1 (which a MARC-8 record, written
# as Latin-1 by pymarc, cannot hold: both libraries must fail the same way).
TEXTS = ["Added", "naïve café", "Straße", "東京", "", "a$b", "  spaced  "]
TAGS = ["001", "005", "008", "020", "100", "245", "260", "500", "650", "700", "856", "999"]
CODES = ["a", "b", "c", "x", "z", "6", "8"]


def read(lib, path: Path) -> list:
    with path.open("rb") as handle:
        return [r for r in lib.MARCReader(handle) if r is not None]


def read_as(lib, path: Path, kind: str) -> list:
    """The records of `path` read by `lib` from ISO 2709, or from the MARCXML or
    MARC-in-JSON that pymarc writes of them (each reader has its own way to the records)."""
    if kind == "iso2709":
        return read(lib, path)
    records = read(pymarc, path)
    if kind == "xml":
        return lib.parse_xml_to_array(io.BytesIO(_through(pymarc.XMLWriter, io.BytesIO, *records)))
    if kind == "json":
        return list(lib.JSONReader(_through(pymarc.JSONWriter, io.StringIO, *records)))
    raise ValueError(kind)


def pick_field(record, how: str, k: int, tag: str):
    """A field of `record` reached one of pymarc's ways (None when there is none)."""
    if how == "fields":
        return record.fields[k % len(record.fields)] if record.fields else None
    if how == "get_fields":
        found = record.get_fields(tag)
        return found[k % len(found)] if found else None
    if how == "getitem":
        return record[tag] if tag in record else None
    if how == "get":
        return record.get(tag)
    if how == "iter":
        found = [f for f in record if f.tag == tag]
        return found[0] if found else None
    raise ValueError(how)


def new_field(lib, rng: random.Random):
    tag = rng.choice(TAGS)
    if tag < "010":
        return lib.Field(tag, data=rng.choice(TEXTS))
    subfields = [lib.Subfield(rng.choice(CODES), rng.choice(TEXTS)) for _ in range(rng.randrange(0, 3))]
    return lib.Field(tag, lib.Indicators(rng.choice(" 01"), rng.choice(" 01")), subfields)


def edit_field(lib, field, op: str, rng: random.Random):
    """One change (or read) of `field`; what it returned, for comparison."""
    if op == "ind1":
        field.indicator1 = rng.choice(" 0149")
    elif op == "ind2":
        field.indicator2 = rng.choice(" 0149")
    elif op == "indicators":
        field.indicators = lib.Indicators(rng.choice(" 12"), rng.choice(" 12"))
    elif op == "indicators_list":
        field.indicators = [rng.choice(" 12"), rng.choice(" 12")]
    elif op == "tag":
        field.tag = rng.choice(TAGS)
    elif op == "add_subfield":
        field.add_subfield(rng.choice(CODES), rng.choice(TEXTS))
    elif op == "add_subfield_at":
        field.add_subfield(rng.choice(CODES), rng.choice(TEXTS), pos=rng.randrange(3))
    elif op == "delete_subfield":
        return field.delete_subfield(rng.choice(CODES))
    elif op == "setitem":
        field[rng.choice(CODES)] = rng.choice(TEXTS)
    elif op == "append":
        field.subfields.append(lib.Subfield(rng.choice(CODES), rng.choice(TEXTS)))
    elif op == "insert":
        field.subfields.insert(0, lib.Subfield(rng.choice(CODES), rng.choice(TEXTS)))
    elif op == "replace_first":
        if field.subfields:
            field.subfields[0] = lib.Subfield(rng.choice(CODES), rng.choice(TEXTS))
    elif op == "del_first":
        if field.subfields:
            del field.subfields[0]
    elif op == "reverse":
        field.subfields.reverse()
    elif op == "new_list":
        field.subfields = [lib.Subfield(rng.choice(CODES), rng.choice(TEXTS))]
    elif op == "clear":
        field.subfields.clear()
    elif op == "data":
        field.data = rng.choice(TEXTS)
    elif op == "read":
        return (field.tag, field.value(), str(field), field.get_subfields("a", "b"), field.indicators)
    else:
        raise ValueError(op)
    return None


FIELD_OPS = [
    "ind1", "ind2", "indicators", "indicators_list", "tag", "add_subfield", "add_subfield_at",
    "delete_subfield", "setitem", "append", "insert", "replace_first", "del_first", "reverse",
    "new_list", "clear", "data", "read",
]


def edit_record(lib, record, op: str, rng: random.Random):
    """One change of `record` itself, or a serialisation of it; what it returned."""
    if op == "status":
        record.leader.record_status = rng.choice("acdnp")
    elif op == "leader_item":
        record.leader[6] = rng.choice("acgm")
    elif op == "leader_new":
        record.leader = lib.Leader(str(record.leader)[:7] + rng.choice("ms") + str(record.leader)[8:])
    elif op == "append_field":
        record.fields.append(new_field(lib, rng))
    elif op == "insert_field":
        record.fields.insert(0, new_field(lib, rng))
    elif op == "del_field":
        if record.fields:
            del record.fields[rng.randrange(len(record.fields))]
    elif op == "sort_fields":
        record.fields.sort(key=lambda f: f.tag, reverse=True)
    elif op == "add_ordered":
        record.add_ordered_field(new_field(lib, rng))
    elif op == "remove_fields":
        record.remove_fields(rng.choice(TAGS))
    elif op == "edit_through_copy":
        # A shallow copy shares the field list and the fields, as in pymarc.
        shared = copy.copy(record)
        if shared.fields:
            edit_field(lib, shared.fields[rng.randrange(len(shared.fields))], "add_subfield", rng)
    elif op == "as_marc":
        return record.as_marc()
    elif op == "as_dict":
        return record.as_dict()
    elif op == "str":
        return str(record)
    else:
        raise ValueError(op)
    return None


RECORD_OPS = [
    "status", "leader_item", "leader_new", "append_field", "insert_field", "del_field", "sort_fields",
    "add_ordered", "remove_fields", "edit_through_copy", "as_marc", "as_dict", "str",
]


def random_ops(rng: random.Random) -> list[tuple]:
    ops: list[tuple] = []
    for _ in range(rng.randrange(1, 9)):
        seed = rng.randrange(1 << 30)
        pick = rng.random()
        if pick < 0.6:
            how = rng.choice(["fields", "get_fields", "getitem", "get", "iter"])
            ops.append(("field", how, rng.randrange(40), rng.choice(TAGS), rng.choice(FIELD_OPS), seed))
        elif pick < 0.7:
            # The field an earlier step reached, though a step since may have removed it.
            ops.append(("held", rng.choice(FIELD_OPS), seed))
        else:
            ops.append(("record", rng.choice(RECORD_OPS), seed))
        # Serialised after every step, so a later step changes a record already written.
        ops.append(("record", rng.choice(["as_marc", "as_dict", "str"]), 0))
    return ops


def run(lib, record, ops: list[tuple]) -> list:
    """Apply `ops`; each one's result, or the name of the exception it raised."""
    outcomes = []
    held = None
    for op in ops:
        try:
            if op[0] == "field":
                _, how, k, tag, what, seed = op
                field = pick_field(record, how, k, tag)
                held = field if field is not None else held
                outcome = None if field is None else edit_field(lib, field, what, random.Random(seed))
            elif op[0] == "held":
                _, what, seed = op
                outcome = None if held is None else edit_field(lib, held, what, random.Random(seed))
            else:
                _, what, seed = op
                outcome = edit_record(lib, record, what, random.Random(seed))
            outcomes.append(outcome)
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            outcomes.append(type(exc).__name__)
    return outcomes


def written(lib, record) -> dict:
    """Everything every writer makes of `record` (or the exception each raised)."""
    out: dict = {}
    for name, write in {
        "as_marc": lambda: record.as_marc(),
        "as_json": lambda: record.as_json(),
        "as_dict": lambda: record.as_dict(),
        "str": lambda: str(record),
        "fields": lambda: [(f.tag, str(f)) for f in record.fields],
        "xml": lambda: lib.record_to_xml(record),
        "MARCWriter": lambda: _through(lib.MARCWriter, io.BytesIO, record),
        "TextWriter": lambda: _through(lib.TextWriter, io.StringIO, record),
        "JSONWriter": lambda: _through(lib.JSONWriter, io.StringIO, record),
        "XMLWriter": lambda: _through(lib.XMLWriter, io.BytesIO, record),
    }.items():
        try:
            out[name] = write()
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            out[name] = type(exc).__name__
    return out


def _through(writer_class, buffer_class, *records):
    """What a writer of `writer_class` writes of `records` into a `buffer_class`."""
    buffer = buffer_class()
    writer = writer_class(buffer)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    return buffer.getvalue()


@pytest.mark.parametrize("seed", range(100))
def test_edit_sequences_write_what_pymarc_writes(
    seed: int, pymarc_test_dir: Path, sample_path: Path, tmp_path: Path
) -> None:
    # The UTF-8 sample, and pymarc's MARC-8 file (written back as Latin-1 by both), read
    # from ISO 2709 mostly, and from MARCXML and MARC-in-JSON.
    path = sample_path if seed % 3 else pymarc_test_dir / "test.dat"
    kind = ["iso2709", "iso2709", "xml", "json"][seed % 4]
    rng = random.Random(seed)
    ours, theirs = read_as(fastmarc, path, kind), read_as(pymarc, path, kind)
    for i in rng.sample(range(len(ours)), min(5, len(ours))):
        if rng.random() < 0.5:
            # Written once before any change: the next writes must not reuse it.
            assert ours[i].as_marc() == theirs[i].as_marc()
        ops = random_ops(rng)
        assert run(fastmarc, ours[i], ops) == run(pymarc, theirs[i], ops), ops
        expected = written(pymarc, theirs[i])
        assert written(fastmarc, ours[i]) == expected, ops
        if isinstance(expected["as_marc"], bytes):
            # fastmarc's MARCWriter also takes a path, and writes from its own thread.
            out = tmp_path / f"{i}.mrc"
            writer = fastmarc.MARCWriter(str(out))
            writer.write(ours[i])
            writer.close()
            assert out.read_bytes() == expected["as_marc"], ops


def test_the_sequences_change_what_is_written(sample_path: Path) -> None:
    """The sequences above do change records (a test that changed nothing would pass
    against stale output too)."""
    rng = random.Random(0)
    changed = 0
    for record in read(fastmarc, sample_path)[:20]:
        before = record.as_marc()
        run(fastmarc, record, random_ops(rng))
        changed += record.as_marc() != before
    assert changed >= 10
