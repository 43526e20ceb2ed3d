"""Faults around reading and writing: a source whose `.read()` fails, a destination that
fails or fills up, readers and pipelines dropped mid-stream.

What must hold: the error reaches the caller; nothing that was read before it is lost and
nothing written before it is damaged; nothing hangs; no thread or file handle is left.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
import xml.sax
from collections.abc import Callable
from pathlib import Path

import pytest

import fastmarc
from marc_bytes import small_record

# Distinct records, about 900 bytes each: enough for several of the reader's 256 KiB reads.
RECORDS = [small_record(f"id{i:06d}", title=f"Title {i} ".encode() + b"x" * (800 + i % 50)) for i in range(1_200)]
DATA = b"".join(RECORDS)


def record_ids(records) -> list[str | None]:
    return [None if r is None else r["001"].data for r in records]


def whole_records_in(prefix_length: int) -> list[str]:
    """The ids of the records that lie entirely within the first `prefix_length` bytes."""
    ids, end = [], 0
    for i, record in enumerate(RECORDS):
        end += len(record)
        if end > prefix_length:
            break
        ids.append(f"id{i:06d}")
    return ids


class FailingSource(io.RawIOBase):
    """Hands out `data` as asked until a read would pass `fail_at`; that read, and every
    read after it, raises."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        self.data = data
        self.fail_at = fail_at
        self.pos = 0
        self.handed_out = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = len(self.data)
        if self.pos + size > self.fail_at and self.pos < len(self.data):
            raise OSError(errno.EIO, "the disk went away")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        self.handed_out = self.pos
        return chunk


def read_until_error(reader) -> tuple[list, BaseException | None]:
    records = []
    try:
        for record in reader:
            records.append(record)
    except OSError as error:
        return records, error
    return records, None


@pytest.mark.parametrize("fail_at", [0, 10, 300_000, 700_000])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_failing_read_reaches_the_caller_after_every_record_read_before_it(threads: int, fail_at: int) -> None:
    source = FailingSource(DATA, fail_at)
    reader = fastmarc.MARCReader(source, threads=threads)
    records, error = read_until_error(reader)
    assert isinstance(error, OSError) and error.errno == errno.EIO
    assert record_ids(records) == whole_records_in(source.handed_out)
    # The reader stays usable: asking again gives the error again (or the end), promptly.
    with pytest.raises((OSError, StopIteration)):
        next(reader)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_failing_read_reaches_the_caller_of_read_all(threads: int) -> None:
    source = FailingSource(DATA, 300_000)
    with pytest.raises(OSError, match="the disk went away"):
        fastmarc.MARCReader(source, threads=threads).read_all()
    with pytest.raises(OSError, match="the disk went away"):
        fastmarc.parse_all(FailingSource(DATA, 300_000), threads=threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_path_whose_reads_fail_raises_the_os_error_with_its_errno(threads: int, tmp_path: Path) -> None:
    # A directory opens on Linux; reading it fails with EISDIR.
    reader = fastmarc.MARCReader(str(tmp_path), threads=threads)
    with pytest.raises(IsADirectoryError) as raised:
        next(reader)
    assert raised.value.errno == errno.EISDIR
    with pytest.raises((OSError, StopIteration)):
        next(reader)


# ---- writers -------------------------------------------------------------------------

SOME = list(fastmarc.MARCReader(b"".join(RECORDS[:40])))


def marc_reader(data: bytes) -> list[str]:
    return record_ids(fastmarc.MARCReader(data))


def text_reader(data: bytes) -> list[str]:
    return record_ids(fastmarc.MARCMakerReader(data.decode()))


def json_reader(data: bytes) -> list[str]:
    return record_ids(fastmarc.JSONReader(data.decode()))


def xml_reader(data: bytes) -> list[str]:
    return record_ids(fastmarc.parse_xml_to_array(io.BytesIO(data)))


# (writer class, binary file?, a reader of a complete output)
WRITERS = {
    "MARCWriter": (fastmarc.MARCWriter, True, marc_reader),
    "TextWriter": (fastmarc.TextWriter, False, text_reader),
    "JSONWriter": (fastmarc.JSONWriter, False, json_reader),
    "XMLWriter": (fastmarc.XMLWriter, True, xml_reader),
}


class FailingDestination:
    """Keeps what is written; the `fail_on`-th call to `write` (counting from 1) raises and
    writes nothing. With `permanent`, every later write fails too (a full disk)."""

    def __init__(self, binary: bool, fail_on: int, permanent: bool) -> None:
        self.kept = io.BytesIO() if binary else io.StringIO()
        self.binary = binary
        self.fail_on = fail_on
        self.permanent = permanent
        self.calls = 0

    def write(self, data):
        self.calls += 1
        if self.calls == self.fail_on or (self.permanent and self.calls > self.fail_on):
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.kept.write(data)

    def close(self) -> None:
        pass

    def contents(self) -> bytes:
        value = self.kept.getvalue()
        return value if self.binary else value.encode()


def complete_output(name: str, records) -> bytes:
    writer_class, binary, _ = WRITERS[name]
    destination = FailingDestination(binary, fail_on=0, permanent=False)
    writer = writer_class(destination)
    for record in records:
        writer.write(record)
    writer.close()
    return destination.contents()


def write_until_error(name: str, destination):
    """Write SOME through a new writer until a write fails (the header that a writer's
    constructor writes counts too); returns how many records were written before, and the
    writer (None if its constructor failed)."""
    writer_class, _, _ = WRITERS[name]
    writer = None
    written = 0
    with pytest.raises(OSError) as raised:
        writer = writer_class(destination)
        for record in SOME:
            writer.write(record)
            written += 1
        writer.close()
    assert raised.value.errno == errno.ENOSPC
    return written, writer


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_write_that_fails_once_leaves_the_records_before_it_readable(name: str) -> None:
    _, binary, read = WRITERS[name]
    for fail_on in (2, 3, 10, 25):
        destination = FailingDestination(binary, fail_on, permanent=False)
        written, writer = write_until_error(name, destination)
        # The failure was passing: closing completes the document around what was written.
        if writer is None:
            continue
        writer.close()
        assert read(destination.contents()) == record_ids(SOME[:written]), f"failed on write {fail_on}"


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_destination_that_stays_full_keeps_a_clean_prefix(name: str) -> None:
    _, binary, _ = WRITERS[name]
    for fail_on in (1, 2, 3, 10, 25):
        destination = FailingDestination(binary, fail_on, permanent=True)
        written, writer = write_until_error(name, destination)
        if writer is not None and name in ("JSONWriter", "XMLWriter"):
            with pytest.raises(OSError):
                writer.close()  # the closing bracket or tag cannot be written either
        kept = destination.contents()
        # Exactly what a successful run writes first, ending after a whole record.
        assert complete_output(name, SOME).startswith(kept)
        assert complete_output(name, SOME[:written]).startswith(kept)
        if name in ("MARCWriter", "TextWriter") and written:
            assert WRITERS[name][2](kept) == record_ids(SOME[:written])


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("buffering", [-1, 0], ids=["buffered", "unbuffered"])
def test_writing_to_dev_full_is_an_enospc_error(name: str, buffering: int) -> None:
    writer_class, binary, _ = WRITERS[name]
    if not binary and buffering == 0:
        buffering = 1  # text cannot be unbuffered; line buffering is the nearest
    handle = open("/dev/full", "wb" if binary else "w", buffering=buffering)  # noqa: SIM115
    with pytest.raises(OSError) as raised:
        writer = writer_class(handle)
        for record in SOME:
            writer.write(record)
        writer.close()
    assert raised.value.errno == errno.ENOSPC
    # Whatever is still buffered fails again; the handle is closed all the same.
    with contextlib.suppress(OSError):
        handle.close()
    assert handle.closed


def test_marcwriter_given_dev_full_as_a_path_reports_enospc() -> None:
    writer = fastmarc.MARCWriter("/dev/full")
    with pytest.raises(OSError) as raised:
        for record in SOME:
            writer.write(record)
        writer.close()
    assert raised.value.errno == errno.ENOSPC


# A real file that cannot grow past a size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so the
# write fails with EFBIG instead of killing the process): a full disk on a real file system.
SIZE_LIMITED_WRITER = textwrap.dedent(
    """
    import resource, signal, sys
    import fastmarc
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    path, limit, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    records = list(fastmarc.MARCReader(sys.stdin.buffer.read()))
    binary = name in ("MARCWriter", "XMLWriter")
    handle = open(path, "wb" if binary else "w", encoding=None if binary else "utf-8")
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    writer = getattr(fastmarc, name)(handle)
    try:
        for record in records:
            writer.write(record)
        writer.close()
    except OSError as error:
        print(error.errno)
    """
)


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_file_that_cannot_grow_keeps_every_whole_record(name: str, tmp_path: Path) -> None:
    path = tmp_path / "out"
    limit = 20_000
    run = subprocess.run(
        [sys.executable, "-c", SIZE_LIMITED_WRITER, str(path), str(limit), name],
        input=b"".join(RECORDS[:40]), capture_output=True, timeout=120, check=True,
    )
    assert run.stdout.decode().split() == [str(errno.EFBIG)], run.stderr.decode()
    kept = path.read_bytes()
    assert len(kept) == limit
    assert complete_output(name, SOME).startswith(kept)
    if name == "MARCWriter":
        reader = fastmarc.MARCReader(kept)
        items = list(reader)
        assert record_ids(items[:-1]) == whole_records_in(limit) and items[-1] is None
    if name == "XMLWriter":
        seen = []
        with pytest.raises(xml.sax.SAXParseException):
            fastmarc.map_xml(seen.append, io.BytesIO(kept))
        assert record_ids(seen) == record_ids(SOME[: len(seen)]) and seen


# ---- nothing left behind ---------------------------------------------------------------

def threads_and_files() -> tuple[int, int]:
    return len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def settle(limit: tuple[int, int]) -> tuple[int, int]:
    """Threads and file handles once no more than `limit` are left, or after ten seconds (a
    thread that has run its last line may take a moment to leave /proc)."""
    deadline = time.monotonic() + 10
    now = threads_and_files()
    while not (now[0] <= limit[0] and now[1] <= limit[1]) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
        now = threads_and_files()
    return now


def assert_nothing_left(before: tuple[int, int]) -> None:
    threads, files = settle(before)
    assert threads <= before[0], f"{threads - before[0]} thread(s) left running"
    assert files <= before[1], f"{files - before[1]} file handle(s) left open"


def abandon_mid_stream(path: Path) -> None:
    """Start readers and pipelines of every kind, take a few records, and drop them."""
    for threads in (1, 2):
        for target in (str(path), path.read_bytes(), open(path, "rb")):  # noqa: SIM115
            reader = fastmarc.MARCReader(target, threads=threads)
            for _ in range(3):
                next(reader)
            del reader
            if hasattr(target, "close"):
                target.close()
    reader = fastmarc.MARCReader(str(path), threads=2)
    next(reader)
    reader.close()
    fastmarc.parse_all(str(path), threads=2)[:1]
    # A reader broken off by an exception in the consumer.
    with pytest.raises(ZeroDivisionError):
        for record in fastmarc.MARCReader(str(path), threads=2):
            1 / 0  # noqa: B018


def in_threads(action: Callable[[], None], count: int = 4) -> None:
    errors = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


def test_dropped_readers_and_pipelines_leave_no_thread_or_file(tmp_path: Path) -> None:
    path = tmp_path / "records.mrc"
    path.write_bytes(DATA)
    gc.collect()
    before = threads_and_files()
    abandon_mid_stream(path)
    assert_nothing_left(before)
    in_threads(lambda: abandon_mid_stream(path))
    assert_nothing_left(before)


def test_a_shared_reader_dropped_by_its_threads_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "records.mrc"
    path.write_bytes(DATA)
    gc.collect()
    before = threads_and_files()
    reader = fastmarc.MARCReader(str(path), threads=2)
    taken: list[int] = []

    def take_some() -> None:
        for _ in range(50):
            taken.append(next(reader) is not None)

    in_threads(take_some)
    assert len(taken) == 200 and all(taken)
    del reader
    assert_nothing_left(before)
