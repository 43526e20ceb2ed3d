"""fastmarc-specific behaviour of the native reader and record beyond pymarc's API."""

import copy
import gc
import io
import os
import pickle
import sys
from pathlib import Path

import pytest

import fastmarc

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.mrc"


def test_read_write_of_a_well_formed_file_is_byte_identical(tmp_path: Path) -> None:
    data = SAMPLE.read_bytes()
    out = tmp_path / "copy.mrc"
    with open(out, "wb") as fh:
        writer = fastmarc.MARCWriter(fh)
        for record in fastmarc.MARCReader(data):
            writer.write(record)
        writer.close(close_fh=False)
    assert out.read_bytes() == data


@pytest.mark.parametrize("kind", ["path", "pathlike", "bytes", "bytearray", "memoryview", "file"])
def test_every_backend_reads_the_same_records(kind: str) -> None:
    data = SAMPLE.read_bytes()
    source = {
        "path": str(SAMPLE),
        "pathlike": SAMPLE,
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
        "file": io.BytesIO(data),
    }[kind]
    got = [r.as_marc() for r in fastmarc.MARCReader(source)]
    assert b"".join(got) == data


@pytest.mark.parametrize("kind", ["path", "bytes", "bytearray", "memoryview", "file"])
@pytest.mark.parametrize("threads", [1, 2])
def test_current_chunk_is_each_record_s_bytes_across_batches(kind: str, threads: int, tmp_path: Path) -> None:
    from marc_bytes import put, small_record

    # More records than one batch holds, with bad ones (a non-digit length in the
    # directory) before, at and after batch boundaries.
    records = [small_record(f"r{i:04d}") for i in range(700)]
    bad = {3, 255, 256, 511, 699}
    for i in bad:
        records[i] = put(records[i], 24 + 3, b"x")
    data = b"".join(records)
    path = tmp_path / "in.mrc"
    path.write_bytes(data)
    source = {
        "path": str(path),
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(bytearray(data)),
        "file": io.BytesIO(data),
    }[kind]
    reader = fastmarc.MARCReader(source, permissive=True, threads=threads)
    if isinstance(source, (bytearray, memoryview)):
        # The reader took a copy: changing the buffer now changes nothing it reads.
        source[:] = b"\0" * len(data)
    seen = []
    for i, record in enumerate(reader):
        assert reader.current_chunk == records[i], i
        assert (record is None) == (i in bad), i
        if record is not None:
            assert record["001"].data == f"r{i:04d}"
        seen.append(i)
    assert seen == list(range(700))


def test_what_outlives_a_dropped_record_keeps_its_values() -> None:
    # A record object that goes away gives its parsed record back for the reader to parse
    # into; nothing taken from it (fields, subfields, values, a copy) may change when that
    # happens.
    from marc_bytes import small_record

    data = b"".join(small_record(f"r{i:04d}", title=f"T{i}".encode()) for i in range(1000))
    kept = []
    for i, record in enumerate(fastmarc.MARCReader(data)):
        if i % 3 == 0:
            kept.append((i, "fields", record.get_fields("245")[0]))
        elif i % 3 == 1:
            kept.append((i, "copy", copy.copy(record)))
        else:
            kept.append((i, "title", record.title))
        del record
    for i, what, value in kept:
        if what == "fields":
            assert value["a"] == f"T{i}", i
        elif what == "copy":
            assert value["001"].data == f"r{i:04d}" and value["245"]["a"] == f"T{i}", i
        else:
            assert value == f"T{i} the story /", i


def test_unsupported_source_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="int"):
        fastmarc.MARCReader(42)


def test_missing_path_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        fastmarc.MARCReader("/nonexistent/file.mrc")


def test_stop_iteration_is_final_and_does_no_more_io() -> None:
    class CountingReads(io.BytesIO):
        reads = 0

        def read(self, n=-1):
            CountingReads.reads += 1
            return super().read(n)

    fh = CountingReads(SAMPLE.read_bytes())
    reader = fastmarc.MARCReader(fh)
    assert len(list(reader)) == 50
    reads = CountingReads.reads
    for _ in range(3):
        with pytest.raises(StopIteration):
            next(reader)
    assert CountingReads.reads == reads


def test_closed_file_raises_as_pymarc() -> None:
    fh = open(SAMPLE, "rb")
    reader = fastmarc.MARCReader(fh)
    next(reader)
    reader.close()
    assert fh.closed
    with pytest.raises(ValueError):
        next(reader)


def test_records_pickle_and_copy() -> None:
    record = next(fastmarc.MARCReader(SAMPLE.read_bytes()))
    clone = pickle.loads(pickle.dumps(record))
    assert clone.as_marc() == record.as_marc()
    deep = copy.deepcopy(record)
    deep["245"]["a"] = "changed"
    assert record["245"]["a"] != "changed"
    assert deep.title.startswith("changed")


def test_mutation_through_lookups_reaches_as_marc() -> None:
    record = next(fastmarc.MARCReader(SAMPLE.read_bytes()))
    record["245"]["a"] = "A new title"
    record.leader.record_status = "c"
    back = next(fastmarc.MARCReader(record.as_marc()))
    assert back["245"]["a"] == "A new title"
    assert back.leader[5] == "c"


def test_fields_read_stay_out_of_the_cycle_collector_and_changes_still_count() -> None:
    """A record's fields, their subfield lists, subfields and indicators hold nothing the
    collector could find a cycle through, so none is tracked (full collections walked every
    one of them and took two thirds of the time of reading a file's subfields); what they
    are is unchanged, and a change made through them is still written."""
    records = list(fastmarc.MARCReader(SAMPLE.read_bytes()))
    record = records[0]
    field = record.get_fields("245")[0]
    subfields, indicators = field.subfields, field.indicators
    made = [record, field, subfields, subfields[0], indicators, record.fields]
    assert not any(gc.is_tracked(obj) for obj in made)
    assert type(subfields[0]) is fastmarc.Subfield and subfields[0]._fields == ("code", "value")
    assert type(indicators) is fastmarc.Indicators
    assert subfields[0] == ("a", subfields[0].value) and subfields[0]._replace(code="b").code == "b"
    gc.collect()
    assert [sf.code for sf in field.subfields] == [sf.code for sf in subfields]
    # Changed through the list or the field: written.
    subfields.append(fastmarc.Subfield("z", "added"))
    field.indicator2 = "4"
    back = next(fastmarc.MARCReader(record.as_marc()))
    assert back["245"].get_subfields("z") == ["added"] and back["245"].indicator2 == "4"
    # Every record's fields in the same state; nothing is lost to a collection.
    texts = [[str(f) for f in r.fields] for r in records[1:]]
    for r in records[1:]:
        for f in r.fields:
            if not f.is_control_field():
                f.subfields  # noqa: B018 - made here
    gc.collect()
    assert [[str(f) for f in r.fields] for r in records[1:]] == texts


def test_a_subclass_s_cycles_are_still_collected() -> None:
    """Objects of a Python subclass have a `__dict__` the collector does see: they stay
    tracked, and a cycle through one is freed."""
    freed = []

    class Canary:
        def __del__(self) -> None:
            freed.append(True)

    class MyField(fastmarc.Field):
        pass

    field = MyField(tag="245", indicators=["1", "0"], subfields=[fastmarc.Subfield("a", "x")])
    assert gc.is_tracked(field)
    field.me, field.canary = field, Canary()
    del field
    gc.collect()
    assert freed == [True]


@pytest.mark.parametrize("threads", [None, 2, 3])
def test_parallel_reader_and_parse_all_match_the_plain_reader(threads) -> None:
    data = SAMPLE.read_bytes() * 20
    plain = [r.as_marc() for r in fastmarc.MARCReader(data, threads=1)]
    reader = fastmarc.MARCReader(data, threads=threads)
    assert reader.threads == (threads or int(os.environ.get("RAYON_NUM_THREADS", 0)) or len(os.sched_getaffinity(0)))
    assert [r.as_marc() for r in reader] == plain
    assert [r.as_marc() for r in fastmarc.parse_all(data, threads=threads)] == plain


def test_marcwriter_accepts_a_path(tmp_path: Path) -> None:
    out = tmp_path / "out.mrc"
    writer = fastmarc.MARCWriter(str(out))
    for record in fastmarc.MARCReader(SAMPLE):
        writer.write(record)
    writer.close()
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_a_path_marcwriter_refuses_what_is_not_a_record_as_pymarc_does(tmp_path: Path) -> None:
    writer = fastmarc.MARCWriter(tmp_path / "out.mrc")
    with pytest.raises(fastmarc.WriteNeedsRecord):
        writer.write("not a record")
    writer.close()
    assert (tmp_path / "out.mrc").read_bytes() == b""


def test_a_bad_record_s_exception_says_where_it_is_in_a_note() -> None:
    # Type and message stay pymarc's (a ValueError from int()); a PEP 678 note gives the
    # record number and the stream offset of the bad bytes.
    data = bytearray(SAMPLE.read_bytes())
    second = int(data[:5])  # the second record starts here
    data[second + 12 : second + 17] = b"0000x"  # its base address is not a number
    reader = fastmarc.MARCReader(bytes(data), permissive=True)
    assert next(reader) is not None
    assert next(reader) is None
    error = reader.current_exception
    assert type(error) is ValueError
    if sys.version_info < (3, 11):  # exceptions take notes from Python 3.11 on
        assert not hasattr(error, "__notes__")
        return
    assert error.__notes__ == [
        f"fastmarc: record 1 (counting from 0), byte offset {second + 12}: "
        "base address (leader/12-16) is not digits"
    ]


class _ReenteringCode:
    """A subfield code whose comparisons and str() call `hook` (re-entering a field)."""

    def __init__(self, code: str, hook) -> None:
        self.code, self.hook = code, hook

    def __eq__(self, other: object) -> bool:
        self.hook()
        return self.code == other

    def __hash__(self) -> int:
        return hash(self.code)

    def __str__(self) -> str:
        self.hook()
        return self.code


class _Sub:
    def __init__(self, code, value) -> None:
        self.code, self.value = code, value


def test_changing_a_field_lets_python_code_it_calls_read_the_field() -> None:
    # __setitem__ and delete_subfield hold the field only while they make its list.
    field = fastmarc.Field(tag="245", indicators=["0", "0"])
    field.subfields = [_Sub(_ReenteringCode("a", lambda: field.value()), "v")]
    field["a"] = "w"
    assert field.subfields[0].value == "w"
    field.subfields = [_Sub(_ReenteringCode("a", lambda: field.value()), "v")]
    assert field.delete_subfield("a") == "v"


def test_changing_a_field_while_it_is_being_read_is_a_runtime_error() -> None:
    # As under PyO3's own borrow checking: an error, never a crash or a torn read.
    field = fastmarc.Field(tag="245", indicators=["0", "0"])
    field.subfields = [_Sub(_ReenteringCode("a", lambda: setattr(field, "tag", "246")), "v")]
    with pytest.raises(RuntimeError, match="Already borrowed"):
        str(field)
    assert field.tag == "245"
    record = fastmarc.Record()
    record.add_field(fastmarc.Field(tag="245", indicators=["0", "0"]))

    class Fields(list):
        def __iter__(self):
            record.leader  # the record is busy making its text
            return super().__iter__()

    record.fields = Fields(record.fields)
    with pytest.raises(RuntimeError, match="Already borrowed"):
        str(record)
    record.fields = list(record.fields)  # the record is whole and usable afterwards
    assert "=245  00" in str(record)



@pytest.mark.parametrize(
    "env, expected",
    [({}, (10_000, False)), ({"MIMALLOC_PURGE_DELAY": "250"}, (250, False)), ({"MIMALLOC_ALLOW_THP": "1"}, (10_000, True))],
)
def test_allocator_keeps_freed_memory_and_asks_for_no_huge_pages_unless_told_otherwise(env, expected) -> None:
    # mimalloc's own delay (1 s, everything freed since its last return going at once) gave
    # a Dask worker thousands of fresh pages a partition; its huge pages made a first
    # to_arrow of a large file spend most of its time compacting memory in the kernel.
    # mimalloc's own variables still decide.
    import subprocess

    environ = {k: v for k, v in os.environ.items() if k not in ("MIMALLOC_PURGE_DELAY", "MIMALLOC_ALLOW_THP")}
    environ.update(env)
    code = "from fastmarc import _native; print(_native.allocator_options())"
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(expected)


def _pages_present(address: int, size: int) -> list[bool]:
    """For each 4 KiB page of [address, address + size), whether it is in memory
    (/proc/self/pagemap: one 64-bit entry a page, bit 63 set when present)."""
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/pagemap", "rb") as pagemap:
        entries = os.pread(pagemap.fileno(), 8 * (size // page), 8 * (address // page))
    return [bool(int.from_bytes(entries[i:i + 8], "little") >> 63) for i in range(0, len(entries), 8)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel advice is Linux's")
@pytest.mark.skipif(os.environ.get("PYTHONMALLOC", "").startswith("malloc"),
                    reason="objects come from malloc, not from CPython's arenas")
def test_a_new_arena_of_python_objects_has_its_pages_from_the_start() -> None:
    import ctypes
    import mmap

    # Small objects, kept alive, until they need a new arena (memory freed by earlier
    # tests may hold many of them first).
    before = fastmarc._native.newest_arena()
    objects = []
    while fastmarc._native.newest_arena() in (before, None):
        objects.append([(i, str(i)) for i in range(10_000)])
        assert len(objects) < 500, "no new arena after 5,000,000 objects"
    address, size = fastmarc._native.newest_arena()
    assert all(_pages_present(address, size))
    # The check tells the two apart: fresh memory mapped as Python's allocator maps an
    # arena comes a page at a time.
    fresh = mmap.mmap(-1, size)
    fresh[0] = 1
    present = _pages_present(ctypes.addressof(ctypes.c_char.from_buffer(fresh)), size)
    assert present[0] and not any(present[1:])
    del objects
