"""MARCReader as programs use pymarc's: options set as attributes after construction,
subclasses with their own constructor, and permissive reading that loses nothing.

Each behaviour is checked against the real pymarc 5.4.0 reading the same bytes, except where
fastmarc deliberately goes further (a permissive reader resynchronises after broken framing,
where pymarc stops).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import warnings
from pathlib import Path

import pytest

import fastmarc
import pymarc
from marc_bytes import BACKENDS, reader_input
from test_pymarc_equivalence import differences, snapshots_of


def read_all(lib, reader) -> list[tuple]:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return snapshots_of(lib, reader, reader)


def read_changing(lib, data: bytes, changes: dict[int, dict], threads: int | None = None, **options) -> list[tuple]:
    """Read `data` with `lib`, setting attributes `changes[n]` on the reader before item n."""
    extra = {} if threads is None else {"threads": threads}
    reader = lib.MARCReader(io.BytesIO(data), **options, **extra)
    items = []
    for n in itertools.count():
        for name, value in changes.get(n, {}).items():
            setattr(reader, name, value)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            got = snapshots_of(lib, itertools.islice(reader, 1), reader)
        if not got:
            break
        items.extend(got)
    return items


# (file, options at construction, {item number: attributes set before reading it})
CHANGES = {
    "force_utf8 from the start": ("utf8_without_leader_flag.dat", {}, {0: {"force_utf8": True}}),
    "force_utf8 mid-stream": ("utf8_without_leader_flag.dat", {}, {1: {"force_utf8": True}}),
    "force_utf8 on then off": ("utf8_without_leader_flag.dat", {}, {0: {"force_utf8": True}, 2: {"force_utf8": False}}),
    "to_unicode off": ("marc8.dat", {}, {0: {"to_unicode": False}}),
    "to_unicode off mid-stream": ("marc8.dat", {}, {2: {"to_unicode": False}}),
    "to_unicode on mid-stream": ("marc8.dat", {"to_unicode": False}, {1: {"to_unicode": True}}),
    "file_encoding": ("1251.dat", {}, {0: {"file_encoding": "cp1251"}}),
    "file_encoding back to the default": ("1251.dat", {"file_encoding": "cp1251"}, {1: {"file_encoding": "iso8859-1"}}),
    "utf8_handling replace": ("utf8_invalid.mrc", {}, {0: {"utf8_handling": "replace"}}),
    "utf8_handling ignore mid-stream": ("utf8_invalid.mrc", {}, {1: {"utf8_handling": "ignore"}}),
    "hide_utf8_warnings": ("marc8.dat", {}, {0: {"hide_utf8_warnings": True}}),
    "permissive": ("test.dat", {}, {0: {"permissive": True}}),
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", list(CHANGES))
def test_options_set_after_construction_apply_to_the_records_read_after(case: str, threads: int,
                                                                         pymarc_test_dir: Path) -> None:
    name, options, changes = CHANGES[case]
    data = (pymarc_test_dir / name).read_bytes() * 3
    expected = read_changing(pymarc, data, changes, **options)
    actual = read_changing(fastmarc, data, changes, threads=threads, **options)
    assert len(expected) > max(changes), "the change must come before the end"
    problems = differences(expected, actual)
    assert not problems, "\n".join(problems[:10])


def test_options_read_back_as_set() -> None:
    reader = fastmarc.MARCReader(b"")
    assert (reader.to_unicode, reader.force_utf8, reader.hide_utf8_warnings, reader.permissive) == (
        True, False, False, False)
    assert (reader.utf8_handling, reader.file_encoding) == ("strict", "iso8859-1")
    reader.to_unicode, reader.force_utf8, reader.hide_utf8_warnings, reader.permissive = False, 1, True, True
    reader.utf8_handling, reader.file_encoding = "replace", "cp1252"
    assert (reader.to_unicode, reader.force_utf8, reader.hide_utf8_warnings, reader.permissive) == (
        False, True, True, True)
    assert (reader.utf8_handling, reader.file_encoding) == ("replace", "cp1252")


def subclass_of(lib):
    class TaggedReader(lib.MARCReader):
        """A reader with its own constructor and an overridden __next__, as programs write."""

        def __init__(self, target, label, *, utf8=False, **kwargs):
            super().__init__(target, **kwargs)
            self.label = label
            self.force_utf8 = utf8
            self.seen = 0

        def __next__(self):
            record = super().__next__()
            self.seen += 1
            return record

    return TaggedReader


@pytest.mark.parametrize("backend", BACKENDS)
def test_marcreader_subclasses_work_as_in_pymarc(backend: str, pymarc_test_dir: Path, tmp_path: Path) -> None:
    data = (pymarc_test_dir / "utf8_without_leader_flag.dat").read_bytes()
    results = {}
    for lib in (pymarc, fastmarc):
        cls = subclass_of(lib)
        # pymarc reads file objects only.
        target = reader_input(backend, data, tmp_path) if lib is fastmarc else io.BytesIO(data)
        reader = cls(target, "mine", utf8=True, hide_utf8_warnings=True)
        assert isinstance(reader, lib.MARCReader) and isinstance(reader, lib.Reader)
        items = read_all(lib, reader)
        results[lib.__name__] = (items, reader.label, reader.seen, reader.force_utf8, reader.hide_utf8_warnings)
    expected, actual = results["pymarc"], results["fastmarc"]
    assert actual[1:] == expected[1:]
    problems = differences(expected[0], actual[0])
    assert not problems, "\n".join(problems[:10])


def test_a_subclass_that_sets_options_before_opening_gets_pymarcs_defaults_back(pymarc_test_dir: Path) -> None:
    # pymarc's __init__ assigns every option, so values set before it are replaced.
    data = (pymarc_test_dir / "marc8.dat").read_bytes()
    for lib in (pymarc, fastmarc):
        class Early(lib.MARCReader):
            def __init__(self, target):
                self.to_unicode = False
                super().__init__(target)

        assert Early(io.BytesIO(data)).to_unicode is True


# ---- permissive reading resynchronises -----------------------------------------------------


def clean_real_records(pymarc_test_dir: Path) -> list[bytes]:
    """The records of pymarc's test files that pymarc reads without any error."""
    records = []
    for path in sorted(pymarc_test_dir.glob("*.dat")):
        reader = pymarc.MARCReader(io.BytesIO(path.read_bytes()))
        chunks = []
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            try:
                for record in reader:
                    if record is None:
                        break
                    chunks.append(reader.current_chunk)
                else:
                    records.extend(chunks)
            except Exception:  # noqa: BLE001,S112 - a file pymarc cannot read is not used
                continue
    return records


def lying_length(record: bytes, by: int) -> bytes:
    return b"%05d" % (int(record[:5]) + by) + record[5:]


@pytest.fixture(scope="module")
def damaged_file(pymarc_test_dir: Path) -> tuple[bytes, list[bytes | None]]:
    """2,000 real records, every tenth with a record length that lies (longer or shorter),
    and what a reader should give for each: the record's bytes, or None."""
    real = clean_real_records(pymarc_test_dir)
    assert len(real) >= 20
    data = bytearray()
    expected: list[bytes | None] = []
    for n, record in zip(range(2000), itertools.cycle(real)):
        if n % 10 == 9:
            data += lying_length(record, 7 if n % 20 == 9 else -7)
            expected.append(None)
        else:
            data += record
            expected.append(record)
    return bytes(data), expected


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("backend", BACKENDS)
def test_permissive_reading_resynchronises_after_a_record_length_that_lies(
        damaged_file, backend: str, threads: int, tmp_path: Path) -> None:
    data, expected = damaged_file
    reader = fastmarc.MARCReader(reader_input(backend, data, tmp_path), permissive=True, threads=threads)
    got = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for record in reader:
            if record is None:
                assert isinstance(reader.current_exception, fastmarc.exceptions.EndOfRecordNotFound)
                got.append(None)
            else:
                assert reader.current_exception is None
                got.append(reader.current_chunk)
    assert got.count(None) == 200
    assert got == expected


def test_not_permissive_a_record_length_that_lies_ends_the_stream_as_in_pymarc(damaged_file) -> None:
    data, _ = damaged_file
    expected = read_all(pymarc, pymarc.MARCReader(io.BytesIO(data)))
    for threads in (1, 2):
        actual = read_all(fastmarc, fastmarc.MARCReader(io.BytesIO(data), threads=threads))
        problems = differences(expected, actual)
        assert not problems, "\n".join(problems[:10])
    assert len(expected) == 10 and expected[-1][0] == "None"


def test_permissive_set_after_the_stream_ended_goes_on_past_the_damage(damaged_file) -> None:
    data, expected = damaged_file
    reader = fastmarc.MARCReader(data)
    first = list(reader)
    assert len(first) == 10 and first[-1] is None
    assert list(reader) == []
    reader.permissive = True
    rest = [None if r is None else reader.current_chunk for r in reader]
    assert rest == expected[10:]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("buffering", [-1, 0], ids=["buffered", "unbuffered"])
def test_a_file_the_program_opened_reads_as_in_pymarc(pymarc_test_dir: Path, tmp_path: Path, threads: int,
                                                      buffering: int) -> None:
    # fastmarc reads such a file through its descriptor: it must start where the program
    # left the file, leave it where pymarc leaves it, and fail as pymarc when it is closed.
    data = (pymarc_test_dir / "test.dat").read_bytes() * 300  # more than one 256 KiB piece
    path = tmp_path / "many.mrc"
    path.write_bytes(data)
    first = int(data[:5])
    seen = {}
    for lib in (pymarc, fastmarc):
        with open(path, "rb", buffering=buffering) as handle:
            handle.read(first)  # the program takes the first record itself
            reader = lib.MARCReader(handle, **({"threads": threads} if lib is fastmarc else {}))
            records = [r.as_marc() for r in reader]
            seen[lib.__name__] = (records, handle.tell())
        with open(path, "rb", buffering=buffering) as handle:
            reader = lib.MARCReader(handle, **({"threads": threads} if lib is fastmarc else {}))
            next(reader)
            handle.close()
            with pytest.raises(ValueError, match="closed file") as raised:
                for _ in reader:
                    pass
            seen[lib.__name__] += (str(raised.value),)
    assert seen["fastmarc"] == seen["pymarc"]
    assert seen["fastmarc"][1] == len(data)
