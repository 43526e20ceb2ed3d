"""What docs/THREADING.md promises Python users about threads, checked.

- One reader per thread: each thread gets exactly the records a plain loop gets.
- One reader shared by several threads: every record goes to exactly one of them, none is
  lost or repeated, whatever the backend and the number of parser threads.
- Records written from several threads, each with its own MARCWriter, come out whole.
"""

from __future__ import annotations

import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import fastmarc

WORKERS = 4


def record_bytes(source) -> list[bytes]:
    return [record.as_marc() for record in fastmarc.MARCReader(source)]


@pytest.mark.parametrize("threads", [1, 2])
def test_one_reader_per_thread_reads_what_a_plain_loop_reads(
    sample_path: Path, tmp_path: Path, threads: int
) -> None:
    paths = []
    for i in range(WORKERS):
        path = tmp_path / f"part{i}.mrc"
        path.write_bytes(sample_path.read_bytes() * (i + 1))
        paths.append(path)
    expected = [record_bytes(str(p)) for p in paths]

    def read(path: Path) -> list[bytes]:
        return [record.as_marc() for record in fastmarc.MARCReader(str(path), threads=threads)]

    with ThreadPoolExecutor(WORKERS) as pool:
        assert list(pool.map(read, paths)) == expected


@pytest.mark.parametrize("backend", ["path", "bytes", "file object"])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_shared_reader_hands_each_record_to_exactly_one_thread(
    sample_path: Path, tmp_path: Path, backend: str, threads: int
) -> None:
    # Every record distinct (its 001 numbered), so a lost or repeated one shows.
    records = []
    for copy in range(20):
        for record in fastmarc.MARCReader(sample_path.read_bytes()):
            record["001"].data = f"{copy:03d}-{record['001'].data}"
            records.append(record.as_marc())
    data = b"".join(records)
    path = tmp_path / "records.mrc"
    path.write_bytes(data)
    source = {"path": str(path), "bytes": data, "file object": io.BytesIO(data)}[backend]
    reader = fastmarc.MARCReader(source, threads=threads)

    def drain(_: int) -> list[bytes]:
        return [record.as_marc() for record in reader]

    with ThreadPoolExecutor(WORKERS) as pool:
        parts = list(pool.map(drain, range(WORKERS)))
    assert Counter(b for part in parts for b in part) == Counter(records)
    # Each thread sees its share in file order.
    position = {b: i for i, b in enumerate(records)}
    for part in parts:
        seen = [position[b] for b in part]
        assert seen == sorted(seen)


def test_one_writer_per_thread_writes_whole_records(sample_path: Path, tmp_path: Path) -> None:
    def write(i: int) -> Path:
        out = tmp_path / f"out{i}.mrc"
        writer = fastmarc.MARCWriter(str(out))
        for record in fastmarc.MARCReader(str(sample_path)):
            writer.write(record)
        writer.close()
        return out

    with ThreadPoolExecutor(WORKERS) as pool:
        outputs = list(pool.map(write, range(WORKERS)))
    for out in outputs:
        assert out.read_bytes() == sample_path.read_bytes()
