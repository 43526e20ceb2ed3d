"""MARC records as Arrow tables and Parquet files.

`to_arrow` reads ISO 2709 (a path, bytes, or a binary file object, as `MARCReader`)
into a table that pyarrow, polars and DuckDB take as it is (it implements the Arrow
PyCapsule stream interface); `from_arrow` turns a table in the nested schema back into
pymarc-compatible records. The schema is described in docs/ANALYTICS.md.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from fastmarc import _native
from fastmarc.record import Record

__all__ = ["from_arrow", "read_parquet", "to_arrow", "to_parquet"]


def _report_skipped(skipped: list[tuple[int | None, int | None, str]]) -> None:
    # Permissive mode leaves bad records out of the table; each one is still reported.
    for number, offset, what in skipped:
        warnings.warn(
            f"fastmarc: record {number} at byte offset {offset} was skipped: {what}",
            RuntimeWarning,
            stacklevel=3,
        )


def _fields_arg(fields: Mapping[str, str] | None) -> list[tuple[str, str]] | None:
    if fields is None:
        return None
    columns = list(dict(fields).items())
    for name, spec in columns:
        if not isinstance(name, str) or not isinstance(spec, str):
            raise TypeError(f"fields: {name!r}: {spec!r}: column names and MARCspecs are str")
    return columns


def to_arrow(
    source: Any,
    fields: Mapping[str, str] | None = None,
    threads: int | None = None,
    permissive: bool = False,
) -> Any:
    """The records of `source` as an Arrow table (one row per record).

    Without `fields`, the lossless nested schema; with `fields` (column name -> MARCspec,
    e.g. ``{"id": "001", "title": "245$a"}``), one column per spec. `threads`: parser
    threads (default: every core, but fewer than the input has whole batches, so a
    small file is read on one). In strict mode (the default) a bad record raises
    ValueError naming its record number and byte offset; with `permissive=True` bad records
    are left out and each one is reported as a RuntimeWarning.
    """
    table, skipped = _native.arrow_table(source, _fields_arg(fields), threads, permissive)
    _report_skipped(skipped)
    return table


def to_parquet(
    source: Any,
    dest: str | os.PathLike[str],
    fields: Mapping[str, str] | None = None,
    compression: str = "zstd",
    threads: int | None = None,
    permissive: bool = False,
) -> int:
    """Write the records of `source` to a Parquet file; returns the number of records.

    Arguments as for `to_arrow`; `compression` is ``"zstd"`` or ``"none"``. With more
    than one thread (``None``: every core), each Parquet column is also encoded on a
    thread of its own; the file is the same either way. If reading fails, no file is
    left behind.
    """
    written, skipped = _native.write_parquet(
        source, os.fspath(dest), _fields_arg(fields), compression, threads, permissive
    )
    _report_skipped(skipped)
    return int(written)


def from_arrow(data: Any) -> Iterator[Record]:
    """Records from Arrow data in the nested schema: a table, a record batch or a stream
    from pyarrow, polars, DuckDB or `to_arrow` (anything with ``__arrow_c_stream__``)."""
    return iter(_native.ArrowRecords(data))


def read_parquet(path: str | os.PathLike[str], threads: int | None = None) -> Iterator[Record]:
    """Records from a Parquet file in the nested schema (as `to_parquet` writes it), in
    order. With more than one thread the file is decoded and the records rebuilt on a
    thread of their own while Python takes them; ``None`` does so for a file of 2,048
    records or more, when there is more than one core."""
    return iter(_native.ArrowRecords.parquet(os.fspath(path), threads))
