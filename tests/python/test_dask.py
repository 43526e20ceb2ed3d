"""fastmarc.dask on a real distributed.LocalCluster (two worker processes on 127.0.0.1):
partitions are record-aligned byte ranges whose union is exactly a sequential read, for any
blocksize, across damaged records, and when a worker dies mid-computation."""

from __future__ import annotations

import os
import re
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:fastmarc.*skipped:RuntimeWarning")
from distributed import Client, LocalCluster

import fastmarc
import fastmarc.dask as fdask


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    ) as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, sample_path: Path) -> list[Path]:
    """Three files: the sample, the sample again with damage between and inside records,
    and an empty file."""
    root = tmp_path_factory.mktemp("corpus")
    data = sample_path.read_bytes()
    plain = root / "a.mrc"
    plain.write_bytes(data)
    records = []
    rest = data
    while rest:
        n = int(rest[:5])
        records.append(rest[:n])
        rest = rest[n:]
    damaged = bytearray()
    for i, rec in enumerate(records):
        if i == 5:
            damaged += b"garbage\x1d\x1d\n"  # stray bytes between records
        if i == 9:
            damaged += rec[:300]  # a record cut short
            continue
        if i == 20:
            rec = rec[:24] + b"x" + rec[25:]  # a broken directory
        damaged += rec
    (root / "b.mrc").write_bytes(bytes(damaged))
    (root / "c.mrc").write_bytes(b"")
    return [plain, root / "b.mrc", root / "c.mrc"]


def sequential(paths: list[Path]) -> list[bytes]:
    """Each file read whole, in one piece, by to_arrow with the same (permissive) rules."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            out.extend(r.as_marc() for r in fastmarc.from_arrow(fastmarc.to_arrow(path, threads=1, permissive=True)))
    return out


def rows(df: pd.DataFrame) -> list[bytes]:
    table = pa.Table.from_pandas(df, preserve_index=False)
    return [r.as_marc() for r in fastmarc.from_arrow(table)]


# 500 bytes is less than any record of the sample (589 to 1158 bytes): most partitions
# hold no record start at all, and every record still lands in exactly one.
@pytest.mark.parametrize("blocksize", [500, 1500, 9000, "128MiB"])
def test_partitions_add_up_to_a_sequential_read(client: Client, corpus: list[Path], blocksize: int | str) -> None:
    ddf = fdask.read_marc([str(p) for p in corpus], blocksize=blocksize, permissive=True)
    df = ddf.compute()
    assert rows(df) == sequential(corpus)
    if blocksize == 500:
        assert ddf.npartitions > 150


def test_skipped_records_are_logged_where_the_client_sees_them(client: Client, corpus: list[Path]) -> None:
    # A warning raised in a worker process stays there; the client gets each skipped
    # record as an event, with the offsets a whole-file read warns about.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fastmarc.to_arrow(corpus[1], permissive=True)
    expected = {int(m[1]) for w in caught if (m := re.search(r"byte offset (\d+)", str(w.message)))}
    assert len(expected) >= 3
    fdask.read_marc(str(corpus[1]), blocksize=1500, permissive=True).compute()
    events = client.get_events(fdask.SKIPPED_EVENTS)
    logged = {e["offset"] for _, e in events if e["path"].endswith("b.mrc")}
    assert logged == expected


def test_offsets_are_the_files(client: Client, corpus: list[Path]) -> None:
    df = fdask.read_marc(str(corpus[0]), blocksize=3000).compute()
    data = corpus[0].read_bytes()
    for offset, leader in zip(df["offset"], df["leader"], strict=True):
        assert data[offset : offset + 5].decode() == leader[:5]


def test_projected_columns(client: Client, corpus: list[Path]) -> None:
    df = fdask.read_marc(str(corpus[0]), blocksize=5000, fields={"title": "245[0]$a[0]"}).compute()
    expected = [r["245"]["a"] for r in fastmarc.MARCReader(str(corpus[0]))]
    assert list(df["title"]) == expected


def test_one_task_per_partition(client: Client, corpus: list[Path]) -> None:
    # Columns are Arrow data already: no string-conversion task per partition on top of
    # the read, with Dask's string conversion on (its default) as off.
    import dask

    for convert in (True, False):
        with dask.config.set({"dataframe.convert-string": convert}):
            ddf = fdask.read_marc(str(corpus[0]), blocksize=5000)
            assert len(ddf.__dask_graph__()) == ddf.npartitions > 1
            df = ddf.compute()
        assert all(isinstance(t, pd.ArrowDtype) for t in df.dtypes)
        assert rows(df) == sequential(corpus[:1])


def test_records_bag(client: Client, corpus: list[Path]) -> None:
    bag = fdask.read_records([str(p) for p in corpus], blocksize=2000, permissive=True)
    assert [r.as_marc() for r in bag.compute()] == sequential(corpus)


def test_a_glob_finds_the_files(client: Client, corpus: list[Path]) -> None:
    df = fdask.read_marc(str(corpus[0].parent / "*.mrc"), blocksize=4000, permissive=True).compute()
    assert rows(df) == sequential(sorted(corpus))


def test_fsspec_urls_are_read(client: Client, corpus: list[Path]) -> None:
    url = corpus[0].resolve().as_uri()
    assert url.startswith("file://")
    df = fdask.read_marc(url, blocksize=3000).compute()
    assert rows(df) == sequential([corpus[0]])


def die_once(df: pd.DataFrame, marker: str) -> pd.DataFrame:
    """Kill this worker process the first time any partition gets here."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return df


def test_a_killed_worker_still_gives_the_whole_result(client: Client, corpus: list[Path], tmp_path: Path) -> None:
    marker = str(tmp_path / "killed")
    ddf = fdask.read_marc([str(p) for p in corpus], blocksize=2500, permissive=True)
    df = ddf.map_partitions(die_once, marker, meta=ddf._meta).compute()
    assert os.path.exists(marker), "no worker was killed"
    assert rows(df) == sequential(corpus)


def test_an_unreadable_file_is_named(client: Client, corpus: list[Path], tmp_path: Path) -> None:
    doomed = tmp_path / "doomed.mrc"
    doomed.write_bytes(corpus[0].read_bytes())
    ddf = fdask.read_marc([str(corpus[0]), str(doomed)], blocksize=20000)
    doomed.unlink()
    with pytest.raises(OSError, match="doomed.mrc"):
        ddf.compute()
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        fdask.read_marc(str(tmp_path / "nothing-here*.mrc"))


def test_a_bad_record_in_strict_mode_names_the_file(client: Client, corpus: list[Path]) -> None:
    with pytest.raises(ValueError, match="b.mrc"):
        fdask.read_marc(str(corpus[1]), blocksize=1_000_000).compute()


def test_errors_and_skipped_records_give_the_files_byte_offsets(corpus: list[Path], tmp_path: Path) -> None:
    # A bad record far into a file, read in a partition that starts well before it: the
    # offset reported is where the record is in the file, as in a whole-file read.
    records = fastmarc.to_arrow(corpus[0])
    data = corpus[0].read_bytes()
    bad_at = int(pa.table(records)["offset"][30].as_py())
    # The first directory entry's field length is not a number.
    damaged = data[: bad_at + 27] + b"x" + data[bad_at + 28 :]
    path = tmp_path / "late.mrc"
    path.write_bytes(damaged)
    with pytest.raises(ValueError) as whole:
        fastmarc.to_arrow(path)
    where = re.search(r"byte offset (\d+)", str(whole.value))
    assert where and bad_at <= int(where[1]) < bad_at + 30, whole.value
    ddf = fdask.read_marc(str(path), blocksize=len(damaged) // 3 + 1)
    with pytest.raises(ValueError, match=f"partition from byte [1-9][0-9]*, records counted from there\\): .*byte offset {where[1]}\\)"):
        ddf.compute(scheduler="sync")
    permissive = fdask.read_marc(str(path), blocksize=len(damaged) // 3 + 1, permissive=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        permissive.compute(scheduler="sync")
    skipped = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert len(skipped) == 1 and f"the record at byte offset {where[1]} was skipped" in skipped[0], skipped


def test_no_columns_is_an_error_not_the_nested_schema(corpus: list[Path]) -> None:
    with pytest.raises(ValueError, match="at least one column"):
        fdask.read_marc(str(corpus[0]), fields={})


@pytest.mark.parametrize("kept", [0.75, 0.25])
def test_a_file_cut_after_planning_is_an_error(client: Client, corpus: list[Path], tmp_path: Path, kept: float) -> None:
    # Cut at a record boundary once the partitions are planned, inside the second one or
    # before it starts: a partition ends short of its range, which must fail (not hang
    # looking for a record start past the end, not pass for a whole partition).
    data = corpus[0].read_bytes()
    cut = tmp_path / "cut.mrc"
    cut.write_bytes(data)
    ddf = fdask.read_marc(str(cut), blocksize=len(data) // 2 + 1)
    boundary = 0
    while boundary < len(data) * kept:
        boundary += int(data[boundary : boundary + 5])
    cut.write_bytes(data[:boundary])
    with pytest.raises(OSError, match=r"cut\.mrc.*ended \d+ bytes before"):
        ddf.compute()


def test_other_filesystems_are_read_through_fsspec(corpus: list[Path]) -> None:
    # Files that are not on the local disk are read by fsspec and handed over as bytes.
    # An in-memory filesystem lives in this process, so the synchronous scheduler reads it.
    import fsspec

    fs = fsspec.filesystem("memory")
    for path in corpus:
        fs.pipe(f"/fastmarc-dask/{path.name}", path.read_bytes())
    try:
        ddf = fdask.read_marc("memory://fastmarc-dask/*.mrc", blocksize=2500, permissive=True)
        assert ddf.npartitions > 3
        df = ddf.compute(scheduler="sync")
    finally:
        fs.rm("/fastmarc-dask", recursive=True)
    assert rows(df) == sequential(sorted(corpus))
    local = fdask.read_marc([str(p) for p in sorted(corpus)], blocksize=2500, permissive=True)
    assert list(df["offset"]) == list(local.compute(scheduler="sync")["offset"])
