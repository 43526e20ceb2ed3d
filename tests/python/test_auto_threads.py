"""MARCReader's default, threads="auto": more than one thread where that pays, pymarc's one
thread where it does not; the same records either way."""

from __future__ import annotations

import gzip
import io
import multiprocessing
import os
import threading
from pathlib import Path

import pymarc
import pytest

import fastmarc
from forked import lines_from_child

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.mrc"
AUTO_MAX_THREADS = 4


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file of more than 1 MiB, the least "auto" reads on several threads."""
    path = tmp_path_factory.mktemp("auto") / "big.mrc"
    path.write_bytes(SAMPLE.read_bytes() * 30)
    assert path.stat().st_size > 1 << 20
    return path


def every_core(data: bytes) -> int:
    return fastmarc.MARCReader(data, threads=None).threads


@pytest.mark.parametrize("kind", ["path", "bytes", "open file"])
def test_a_large_input_is_parsed_on_several_threads_and_gives_pymarcs_records(big: Path, kind: str) -> None:
    data = big.read_bytes()
    with open(big, "rb") as handle:
        source = {"path": str(big), "bytes": data, "open file": handle}[kind]
        reader = fastmarc.MARCReader(source)
        assert reader.threads == min(every_core(data), AUTO_MAX_THREADS)
        ours = [r.as_marc() for r in reader]
    with open(big, "rb") as handle:
        theirs = [r.as_marc() for r in pymarc.MARCReader(handle)]
    assert len(ours) == 30 * len(list(fastmarc.MARCReader(SAMPLE.read_bytes())))
    assert ours == theirs


def test_what_remains_of_an_open_file_decides(big: Path) -> None:
    with open(big, "rb") as handle:
        handle.seek(big.stat().st_size - 100_000)  # a program read most of it itself
        assert fastmarc.MARCReader(handle).threads == 1


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda data: data[:500_000], id="under 1 MiB"),
        pytest.param(io.BytesIO, id="a stream of unknown size"),
        pytest.param(lambda data: gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data))), id="gzip"),
    ],
)
def test_small_inputs_and_streams_are_parsed_on_the_calling_thread(big: Path, make) -> None:
    assert fastmarc.MARCReader(make(big.read_bytes())).threads == 1


def test_a_reader_made_off_the_main_thread_parses_on_its_thread(big: Path) -> None:
    # The program spreads its work over threads already (a thread pool, a Dask worker).
    data = big.read_bytes()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(fastmarc.MARCReader(data).threads))
    worker.start()
    worker.join(timeout=60)
    assert seen == [1]


def child_threads(path: str, out) -> None:
    out.put(fastmarc.MARCReader(path).threads)


def test_a_reader_in_a_multiprocessing_child_parses_on_its_thread(big: Path) -> None:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=child_threads, args=(str(big), out))
    child.start()
    try:
        assert out.get(timeout=120) == 1
    finally:
        child.join(timeout=60)
    assert child.exitcode == 0


def test_rayon_num_threads_bounds_auto(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAYON_NUM_THREADS", "1")
    assert fastmarc.MARCReader(str(big)).threads == 1
    monkeypatch.setenv("RAYON_NUM_THREADS", "3")
    assert fastmarc.MARCReader(str(big)).threads == 3
    monkeypatch.setenv("RAYON_NUM_THREADS", "16")
    assert fastmarc.MARCReader(str(big)).threads == AUTO_MAX_THREADS
    assert fastmarc.MARCReader(str(big), threads=None).threads == 16


def test_threads_takes_a_number_none_or_auto() -> None:
    data = SAMPLE.read_bytes()
    assert fastmarc.MARCReader(data, threads="auto").threads == 1
    assert fastmarc.MARCReader(data, threads=2).threads == 2
    with pytest.raises(ValueError, match="threads must be a number of threads, None \\(every core\\) or 'auto', not 'all'"):
        fastmarc.MARCReader(data, threads="all")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is Unix's")
def test_a_child_forked_mid_read_gets_an_error_not_a_hang(big: Path) -> None:
    # The child has none of the parser threads the reader was waiting for: the records
    # already parsed come out, then a clear error; letting go of the reader returns.
    reader = fastmarc.MARCReader(str(big))
    if reader.threads == 1:
        pytest.skip("one core: no parser threads to lose")
    first = next(reader).as_marc()

    def child() -> list[str]:
        try:
            sum(1 for _ in reader)
            outcome = "no error"
        except RuntimeError as e:
            outcome = str(e)
        reader.close()
        return [outcome, "closed"]

    assert lines_from_child(child) == [
        f"fastmarc: this MARCReader parses on {reader.threads} threads of the process that made it, "
        "and threads do not survive fork(): make the reader after forking, or pass threads=1",
        "closed",
    ]
    # The parent reads on, untouched.
    assert len([first] + [r.as_marc() for r in reader]) == len(list(fastmarc.MARCReader(big.read_bytes(), threads=1)))
