"""MARC files as Dask collections: each partition a record-aligned byte range of a file.

A partition for bytes ``[start, end)`` of a file begins at the first record that starts at
or after ``start`` (a record terminator followed by a record whose leader and length check
out; the core's ``find_record_start``) and owns every record that starts before the next
partition's beginning. So every record lands in exactly one partition whatever the
blocksize, even one smaller than a record, and a damaged stretch is read (and, in
permissive mode, skipped and reported) by exactly one partition. Files are opened with
fsspec, so any URL Dask supports works.

Needs the ``dask`` extra: ``pip install fastmarc[dask]``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastmarc import _native
from fastmarc.arrow import _fields_arg
from fastmarc.record import Record

__all__ = ["read_marc", "read_records"]

# Bytes read at a time while looking for where a partition begins; doubled while the
# answer needs more (a long damaged stretch, or a record that crosses the window's end).
_SCAN_WINDOW = 256 * 1024

# Input bytes per Arrow batch in a partition: 16x the core's default, which suits a stream
# shared by parser threads. A partition is parsed on one thread, and a frame of fewer
# chunks costs less to import, to convert to pandas, for Dask to size (it does so on every
# result it keeps) and to free, while the parse itself stays as fast. Beyond this the
# batches being built outgrow the caches and the parse slows.
_BATCH_BYTES = 4 << 20


@dataclass(frozen=True)
class _Part:
    """One partition: bytes [start, end) of `path`, as asked for (not yet aligned)."""

    path: str
    start: int
    end: int
    size: int
    storage_options: tuple[tuple[str, Any], ...]


def _record_start(f: Any, pos: int, size: int) -> int:
    """The first record start at or after `pos` in the open file `f` (or `size`)."""
    if pos <= 0:
        return 0
    window = _SCAN_WINDOW
    while True:
        if pos >= size:
            return size
        # One byte before `pos`: a record starting at `pos` follows a terminator there.
        f.seek(pos - 1)
        buf = f.read(window)
        # A short read is the end of the file, also when the file shrank since it was
        # planned (the read of the partition then reports it).
        at_eof = len(buf) < window or pos - 1 + len(buf) >= size
        found = _native.find_record_start(buf, 1, at_eof)
        if found is None:
            return size
        if found >= 0:
            return pos - 1 + found
        window *= 2


def _aligned(part: _Part) -> tuple[int, bytes | str, tuple[int, int] | None]:
    """The partition's first byte in its file, and what the core reads: the local file's
    path with the byte range to read (straight into its parse buffers, no copy in
    Python), or the partition's bytes from any other filesystem."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    try:
        with fsspec.open(part.path, "rb", **dict(part.storage_options)) as f:
            begin = _record_start(f, part.start, part.size)
            end = _record_start(f, part.end, part.size) if part.end < part.size else part.size
            if end <= begin:
                return begin, b"", None
            if isinstance(f.fs, LocalFileSystem):
                return begin, f.path, (begin, end)
            f.seek(begin)
            data = f.read(end - begin)
    except OSError as e:
        raise OSError(f"{part.path}: cannot read: {e}") from e
    if len(data) != end - begin:
        raise OSError(
            f"{part.path}: bytes {begin}-{end} could not be read (got {len(data)}): "
            "the file changed or was cut while being read"
        )
    return begin, data, None


def _table(part: _Part, fields: list[tuple[str, str]] | None, permissive: bool) -> Any:
    import pyarrow as pa

    begin, source, byte_range = _aligned(part)
    try:
        native, skipped = _native.arrow_table(source, fields, 1, permissive, byte_range, _BATCH_BYTES, begin)
    except OSError as e:
        raise OSError(f"{part.path}: cannot read: {e}") from e
    except ValueError as e:
        # Byte offsets are the file's; records are counted from the partition's start.
        raise ValueError(f"{part.path} (partition from byte {begin}, records counted from there): {e}") from e
    for _, offset, what in skipped:
        at = "" if offset is None else f" at byte offset {offset}"
        warnings.warn(f"fastmarc: {part.path}: the record{at} was skipped: {what}", RuntimeWarning, stacklevel=2)
    if skipped:
        _log_skipped(part.path, skipped)
    return pa.table(native)


SKIPPED_EVENTS = "fastmarc-skipped"
"""The topic under which a distributed worker logs each record permissive mode skipped:
``client.get_events(fastmarc.dask.SKIPPED_EVENTS)``. A warning raised in a worker process
stays in that worker's log."""


def _log_skipped(path: str, skipped: list[tuple[int | None, int | None, str]]) -> None:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return  # not on a distributed worker: the warnings are where the caller sees them
    for _, offset, what in skipped:
        worker.log_event(SKIPPED_EVENTS, {"path": path, "offset": offset, "error": what})


def _frame(part: _Part, fields: list[tuple[str, str]] | None, permissive: bool) -> Any:
    import pandas as pd

    return _table(part, fields, permissive).to_pandas(types_mapper=pd.ArrowDtype)


def _records(parts: Sequence[_Part], permissive: bool) -> list[Record]:
    from fastmarc.arrow import from_arrow

    out: list[Record] = []
    for part in parts:
        out.extend(from_arrow(_table(part, None, permissive)))
    return out


def _parts(
    paths_or_glob: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    blocksize: int | str,
    storage_options: Mapping[str, Any] | None,
) -> list[_Part]:
    import fsspec
    from dask.utils import parse_bytes

    size_per_part = parse_bytes(blocksize) if isinstance(blocksize, str) else int(blocksize)
    if size_per_part < 1:
        raise ValueError(f"blocksize must be at least 1 byte, not {blocksize!r}")
    options = dict(storage_options or {})
    targets = paths_or_glob if isinstance(paths_or_glob, (list, tuple)) else [paths_or_glob]
    fs, _, paths = fsspec.get_fs_token_paths([os.fspath(p) for p in targets], storage_options=options)
    if not paths:
        raise FileNotFoundError(f"no file matches {paths_or_glob!r}")
    parts = []
    frozen = tuple(sorted(options.items()))
    for path in paths:
        url = fs.unstrip_protocol(path)
        try:
            size = fs.size(path)
        except OSError as e:
            raise OSError(f"{url}: cannot read: {e}") from e
        count = max(1, math.ceil(size / size_per_part))
        for k in range(count):
            start = k * size_per_part
            parts.append(_Part(url, start, min(start + size_per_part, size), size, frozen))
    return parts


def read_marc(
    paths_or_glob: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    blocksize: int | str = "128MiB",
    fields: Mapping[str, str] | None = None,
    permissive: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Any:
    """ISO 2709 files as a dask DataFrame, one row per record.

    Columns: the nested schema (offsets are byte offsets in the record's file;
    ``record_number`` counts from 1 within each partition), or with `fields` one column
    per MARCspec, as `fastmarc.to_arrow`. Columns hold Arrow data (``pd.ArrowDtype``).
    """
    import dask
    import dask.dataframe as dd
    import pandas as pd
    import pyarrow as pa

    columns = _fields_arg(fields)
    parts = _parts(paths_or_glob, blocksize, storage_options)
    empty = pa.table(_native.arrow_table(b"", columns, 1, permissive)[0])
    meta = empty.to_pandas(types_mapper=pd.ArrowDtype)
    # Every column already holds Arrow data, so Dask's object-to-Arrow string conversion
    # has nothing to convert; from_map would still add it as a task of its own per
    # partition (compute() does not fuse it into the read), a scheduler round trip each.
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            _frame,
            parts,
            fields=columns,
            permissive=permissive,
            meta=meta,
            label="read-marc",
            enforce_metadata=False,
        )


def read_records(
    paths_or_glob: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    blocksize: int | str = "128MiB",
    permissive: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Any:
    """ISO 2709 files as a dask Bag of pymarc-compatible Records, partitioned as
    `read_marc`."""
    import dask.bag as db

    parts = _parts(paths_or_glob, blocksize, storage_options)
    bag = db.from_sequence(parts, npartitions=len(parts))
    return bag.map_partitions(_records, permissive)
