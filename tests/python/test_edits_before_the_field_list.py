"""Edits of a record just read, before its field list exists (fastmarc keeps fields added
then aside and makes no field objects for the record's own fields): every sequence of
`add_field`, `add_ordered_field`, `add_grouped_field` and `remove_field` leaves the record
as the same calls leave pymarc's, whatever is asked of the record afterwards."""

from __future__ import annotations

import copy
import pickle
import random
from pathlib import Path

import pymarc
import pytest

import fastmarc


def read(lib, path: Path) -> list:
    with path.open("rb") as handle:
        return [r for r in lib.MARCReader(handle) if r is not None]


def shape(record) -> list[tuple[str, str]]:
    return [(f.tag, str(f)) for f in record.fields]


def new_field(lib, rng: random.Random, n: int):
    tag = rng.choice(["001", "008", "020", "100", "245", "500", "650", "650", "700", "880", "999", "0A9"])
    if tag < "010":
        return lib.Field(tag, data=f"data {n}")
    return lib.Field(tag, lib.Indicators(" ", "0"), [lib.Subfield("a", f"added {n}")])


def apply(lib, record, ops: list[tuple]) -> list:
    """Run `ops` on `record`; what each call raised, by exception name."""
    added: list = []
    outcomes = []
    for op, *args in ops:
        try:
            if op == "add":
                kind, n, seed = args
                field = new_field(lib, random.Random(seed), n)
                added.append(field)
                getattr(record, kind)(field)
            elif op == "remove_added":
                record.remove_field(added[args[0] % len(added)]) if added else None
            elif op == "remove_own":
                own = record.get_fields(args[0])
                if own:
                    record.remove_field(own[0])
            elif op == "remove_stranger":
                record.remove_field(lib.Field("500", lib.Indicators(" ", " "), [lib.Subfield("a", "x")]))
            elif op == "retag_own":
                own = record.get_fields(args[0])
                if own:
                    own[0].tag = args[1]
            outcomes.append(None)
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            outcomes.append(type(exc).__name__)
    return outcomes


def random_ops(rng: random.Random) -> list[tuple]:
    ops: list[tuple] = []
    for n in range(rng.randrange(1, 8)):
        pick = rng.random()
        if pick < 0.45:
            kind = rng.choice(["add_field", "add_ordered_field", "add_ordered_field", "add_grouped_field"])
            ops.append(("add", kind, n, rng.randrange(1 << 30)))
        elif pick < 0.75:
            ops.append(("remove_added", rng.randrange(10)))
        elif pick < 0.85:
            ops.append(("remove_own", rng.choice(["245", "650", "999"])))
        elif pick < 0.93:
            ops.append(("retag_own", rng.choice(["650", "100"]), rng.choice(["300", "900", "65X"])))
        else:
            ops.append(("remove_stranger",))
    return ops


@pytest.mark.parametrize("seed", range(40))
def test_edit_sequences_match_pymarc(seed: int, pymarc_test_dir: Path, sample_path: Path) -> None:
    path = sample_path if seed % 2 else pymarc_test_dir / "test.dat"
    rng = random.Random(seed)
    ours, theirs = read(fastmarc, path), read(pymarc, path)
    for i in rng.sample(range(len(ours)), min(6, len(ours))):
        ops = random_ops(rng)
        assert apply(fastmarc, ours[i], ops) == apply(pymarc, theirs[i], ops), ops
        # Asked in an order that makes the list late: lookups, then the whole record.
        assert [str(f) for f in ours[i].get_fields("650", "500")] == [
            str(f) for f in theirs[i].get_fields("650", "500")
        ]
        assert ours[i].title == theirs[i].title
        assert ours[i].as_marc() == theirs[i].as_marc(), ops
        assert shape(ours[i]) == shape(theirs[i]), ops


def test_an_added_field_is_the_object_in_the_list_and_survives_copies(sample_path: Path) -> None:
    record = read(fastmarc, sample_path)[0]
    note = fastmarc.Field("500", fastmarc.Indicators(" ", " "), [fastmarc.Subfield("a", "Added.")])
    record.add_ordered_field(note)
    shallow, deep, pickled = copy.copy(record), copy.deepcopy(record), pickle.loads(pickle.dumps(record))
    assert any(f is note for f in record.fields)
    assert any(f is note for f in shallow.fields)
    assert not any(f is note for f in deep.fields)
    for other in (shallow, deep, pickled):
        assert other.as_marc() == record.as_marc()
    # Added, then removed again: the record is as read.
    fresh = read(fastmarc, sample_path)[0]
    fresh.add_ordered_field(note)
    fresh.remove_field(note)
    assert fresh.as_marc() == read(fastmarc, sample_path)[0].as_marc()
    with pytest.raises(fastmarc.FieldNotFound):
        fresh.remove_field(note)


def test_subclass_fields_and_equality_go_through_the_list(sample_path: Path) -> None:
    class Same(fastmarc.Field):
        def __eq__(self, other):  # every field is "equal": list.remove takes the first
            return isinstance(other, fastmarc.Field)

        __hash__ = fastmarc.Field.__hash__

    class PySame(pymarc.Field):
        def __eq__(self, other):
            return isinstance(other, pymarc.Field)

        __hash__ = pymarc.Field.__hash__

    ours, theirs = read(fastmarc, sample_path)[1], read(pymarc, sample_path)[1]
    for record, cls in ((ours, Same), (theirs, PySame)):
        record.add_ordered_field(cls("500", [" ", " "], []))
        record.remove_field(cls("999", [" ", " "]))
    assert shape(ours) == shape(theirs)
