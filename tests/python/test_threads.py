"""fastmarc under Python threads: the same results as one thread, whatever the sharing."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

import fastmarc

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.mrc"


def run_threads(n: int, work) -> list:
    """Run work(i) on n threads started together; return their results in thread order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def test_threads_writing_the_same_records_get_the_same_bytes() -> None:
    # as_marc releases the GIL while it serialises: other threads may use the same record
    # meanwhile (a record is not held borrowed across the release).
    records = list(fastmarc.MARCReader(SAMPLE.read_bytes()))

    def write(_: int) -> bytes:
        out = io.BytesIO()
        writer = fastmarc.MARCWriter(out)
        for _round in range(20):
            for r in records:
                writer.write(r)
        return out.getvalue()

    expected = SAMPLE.read_bytes() * 20
    assert run_threads(4, write) == [expected] * 4


def test_writers_to_paths_in_threads_write_every_record(tmp_path: Path) -> None:
    # MARCWriter(path) batches records and writes them with the GIL released.
    records = list(fastmarc.MARCReader(SAMPLE.read_bytes()))
    edited = fastmarc.Record(data=records[0].as_marc())
    edited["245"]["a"] = "An edited title"  # field objects: serialised with the GIL

    def write(i: int) -> bytes:
        path = tmp_path / f"out-{i}.mrc"
        writer = fastmarc.MARCWriter(str(path))
        for _round in range(30):  # more than one batch
            for r in records:
                writer.write(r)
            writer.write(edited)
        writer.close()
        return path.read_bytes()

    expected = (SAMPLE.read_bytes() + edited.as_marc()) * 30
    assert run_threads(3, write) == [expected] * 3


def test_a_path_writer_flushes_when_closed_without_closing_the_file_and_when_dropped(tmp_path: Path) -> None:
    records = list(fastmarc.MARCReader(SAMPLE.read_bytes()))
    kept = tmp_path / "kept.mrc"
    writer = fastmarc.MARCWriter(kept)
    for r in records:
        writer.write(r)
    writer.close(close_fh=False)
    assert kept.read_bytes() == SAMPLE.read_bytes()

    dropped = tmp_path / "dropped.mrc"
    writer = fastmarc.MARCWriter(dropped)
    for r in records:
        writer.write(r)
    del writer
    import gc

    gc.collect()
    assert dropped.read_bytes() == SAMPLE.read_bytes()


def test_a_path_writer_reports_a_failing_disk(tmp_path: Path) -> None:
    writer = fastmarc.MARCWriter("/dev/full")
    records = list(fastmarc.MARCReader(SAMPLE.read_bytes()))
    with pytest.raises(OSError):
        for _round in range(100):
            for r in records:
                writer.write(r)
        writer.close()
