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
