"""MarcEdit's mnemonic text (.mrk) both ways, beyond pymarc.

`MRKReader` reads the MarcBreaker/MarcMaker format that cataloguers edit by hand;
`MRKWriter` writes it unambiguously (`{dollar}`, `{bsol}` and the other brace mnemonics
where a character would be ambiguous), so that reading it back gives the same records.
`str(record)` stays exactly as pymarc prints it. The parsing and writing are the Rust
core's (`fastmarc::mrk`); records cross as ISO 2709 bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from io import IOBase
from typing import IO

from fastmarc._native import Reader, Record, marc_to_mrk, mrk_to_marc
from fastmarc.exceptions import PymarcException, WriteNeedsRecord


def _read_bytes(source) -> bytes:
    """The bytes of a path, a file object (text or binary), or .mrk text itself."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)) and os.path.exists(source):
        with open(source, "rb") as handle:
            return handle.read()
    if isinstance(source, str):
        return source.encode("utf-8")
    if isinstance(source, IOBase) or hasattr(source, "read"):
        data = source.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    raise TypeError(f"cannot read .mrk text from {type(source).__name__}")


class MRKReader(Reader):
    """Records from .mrk text: a path, a file object, or the text itself (str or bytes).

    A malformed line is an error naming its record and line: raised as `PymarcException`,
    or with `permissive=True` the record is given as `None` with the error in
    `current_exception`, and reading goes on with the next record.
    """

    def __init__(self, source, permissive: bool = False) -> None:
        self._results: Iterator[bytes | str] = iter(mrk_to_marc(_read_bytes(source)))
        self._permissive = permissive
        self.current_exception: Exception | None = None

    def __iter__(self) -> MRKReader:
        return self

    def __next__(self) -> Record | None:
        result = next(self._results)
        if isinstance(result, bytes):
            self.current_exception = None
            return Record(data=result)
        error = PymarcException(result)
        if not self._permissive:
            raise error
        self.current_exception = error
        return None

    def close(self) -> None:
        self._results = iter(())


class MRKWriter:
    """Writes records as .mrk text to a text file object, each ended by a blank line."""

    def __init__(self, file_handle: IO[str]) -> None:
        self.file_handle = file_handle

    def write(self, record: Record) -> None:
        if not isinstance(record, Record):
            raise WriteNeedsRecord
        self.file_handle.write(marc_to_mrk(record.as_marc()))

    def close(self, close_fh: bool = True) -> None:
        if close_fh and self.file_handle:
            self.file_handle.close()
        self.file_handle = None  # type: ignore[assignment]


def record_to_mrk(record: Record) -> str:
    """One record as .mrk text, ended by a blank line."""
    return marc_to_mrk(record.as_marc())
