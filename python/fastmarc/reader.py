"""Readers: MARC 21 (native), MARC-in-JSON and MARCMaker text (pymarc 5.4.0 API)."""

import codecs
import json
import os
import sys
from collections.abc import Callable, Iterator
from io import BufferedReader, BytesIO, IOBase, StringIO, TextIOWrapper  # noqa: F401
from typing import IO, BinaryIO  # noqa: F401

from fastmarc import _native
from fastmarc._native import Field, MARCReader, Reader, Record
from fastmarc._types import Indicators, Subfield
from fastmarc.constants import END_OF_RECORD  # noqa: F401
from fastmarc.exceptions import (  # noqa: F401
    EndOfRecordNotFound,
    FatalReaderError,
    PymarcException,
    RecordLengthInvalid,
    TruncatedRecord,
)
from fastmarc.leader import Leader


def parse_all(marc_target, threads: int | None = None, **options) -> list:
    """Read every record of `marc_target` at once, parsing on `threads` threads.

    `threads=None` uses ``RAYON_NUM_THREADS`` or every core. `marc_target` and `options` are
    as for `MARCReader`; the result is what ``list(MARCReader(marc_target, **options))``
    gives (None where a record is bad), built without a Python-level loop.
    """
    return MARCReader(marc_target, threads=threads, **options).read_all()


def map_records(f: Callable, *files) -> None:
    """Call `f` with every record read by a `MARCReader` from each of `files`, in order."""
    for file in files:
        for record in MARCReader(file):
            f(record)


def _text_source(target, encoding: str) -> IOBase:
    """A text stream over `target`: a file object, a path, JSON/MARCMaker text, or bytes."""
    if isinstance(target, IOBase):
        return target
    if isinstance(target, (bytes, bytearray)):
        return StringIO(bytes(target).decode(encoding))
    if isinstance(target, str) and os.path.exists(target):
        return open(target, encoding=encoding)  # closed by the caller
    return StringIO(target)


def _is_utf8(handle) -> bool:
    """Whether `handle` (as `_text_source` opened it) is a file read as UTF-8."""
    return isinstance(handle, TextIOWrapper) and codecs.lookup(handle.encoding).name == "utf-8"


def _utf8_document(handle) -> str | bytes:
    """What a stream `_text_source` opened holds: the bytes of a UTF-8 file without a
    carriage return (text mode would change nothing in them), else its text."""
    if not _is_utf8(handle):
        return handle.read()
    data = handle.buffer.read()
    if b"\r" in data:
        # Text mode turns CR LF and CR into LF, inside JSON strings too.
        return TextIOWrapper(BytesIO(data), encoding=handle.encoding).read()
    return data


def _first_item(mapping: dict) -> tuple:
    """The first (key, value) of a MARC-in-JSON field object."""
    for item in mapping.items():
        return item
    # IndexError as in pymarc; a StopIteration here would silently end iteration.
    raise IndexError("empty field object in MARC-in-JSON record")


class JSONReader(Reader):
    """Reads MARC-in-JSON: one record object or an array of them.

    `marc_target` is a file object, a path, or the JSON text itself (str or bytes, the
    latter decoded with `encoding`). Every record is read at once, as in pymarc;
    `stream=True` is accepted for pymarc compatibility and says so on stderr. The core
    reads the document (a UTF-8 file a window at a time, not held whole); `records` (the
    decoded JSON, as in pymarc) is made only if asked for, and a subclass that overrides
    `__next__` gets those dicts from `self.iter`, as in pymarc.
    """

    def __init__(self, marc_target, encoding: str = "utf-8", stream: bool = False) -> None:
        self.encoding = encoding
        self.file_handle = _text_source(marc_target, encoding)
        if stream:
            sys.stderr.write(
                "Streaming not yet implemented, your data will be loaded into memory\n"
            )
        self._records = None
        self._path = None
        if self.file_handle is marc_target:
            document = self.file_handle.read()
        else:
            with self.file_handle:
                if _is_utf8(self.file_handle):
                    # The core reads the file a window at a time, unless the document needs
                    # reading whole (then `None`, and it is read below).
                    path = os.path.abspath(self.file_handle.name)
                    self._native = _native.parse_json_file(path)
                    if self._native is not None:
                        # Kept to read pymarc's `records` from, should they be asked for.
                        self._path, self._bytes, self._text = path, None, None
                        return
                document = _utf8_document(self.file_handle)
        # A UTF-8 file goes to the core as it is (the core checks its UTF-8): decoding it to
        # text first took a fifth of the time. The text is made when needed, with the
        # decoding error pymarc's reading would raise.
        self._bytes = document if isinstance(document, bytes) else None
        self._text = None if self._bytes is not None else document
        self._native = _native.parse_json(
            self._bytes if self._bytes is not None else document.encode("utf-8", "surrogatepass")
        )
        if self._native is None:
            # pymarc's reading decides, errors included.
            self._records = json.loads(self._document_text(), strict=False)

    def _document_text(self) -> str:
        if self._text is None and self._bytes is None:
            # Read by the core a window at a time: the text is read now, as pymarc's
            # text-mode file reads it.
            with open(self._path, encoding=self.encoding) as handle:
                self._text = handle.read()
        if self._text is None:
            self._text = self._bytes.decode(self.encoding)
            self._bytes = None
        return self._text

    @property
    def records(self):
        """The document as decoded JSON: a list of record dicts, or one dict."""
        if self._records is None:
            self._records = json.loads(self._document_text(), strict=False)
        return self._records

    @records.setter
    def records(self, value) -> None:
        self._records = value
        self._native = None

    def _record_iter(self) -> Iterator:
        if self._native is not None and type(self).__next__ is JSONReader.__next__:
            # The records the core read, once; iterating again reads the dicts.
            records, self._native = self._native, None
            return iter(records)
        return self._record_dicts()

    def _record_dicts(self) -> Iterator:
        if hasattr(self.records, "__iter__") and not isinstance(self.records, dict):
            return iter(self.records)
        return iter([self.records])

    def __iter__(self) -> "JSONReader":
        self.iter = self._record_iter()
        return self

    def __next__(self) -> Record:
        item = next(self.iter)
        if type(item) is Record:
            return item
        return self._record_from_dict(item)

    @staticmethod
    def _record_from_dict(record_dict) -> Record:
        record = Record()
        record.leader = Leader(record_dict["leader"])
        for entry in record_dict["fields"]:
            tag, content = _first_item(entry)
            # pymarc's order of tests: a value that is not a container (a number) raises
            # TypeError here, as in pymarc.
            if "subfields" in content and hasattr(content, "update"):
                subfields = [
                    Subfield(code=code, value=value)
                    for subfield in content["subfields"]
                    for code, value in subfield.items()
                ]
                field = Field(
                    tag=tag,
                    subfields=subfields,
                    indicators=Indicators(content["ind1"], content["ind2"]),
                )
            else:
                field = Field(tag=tag, data=content)
            record.add_field(field)
        return record


class MARCMakerReader(Reader):
    """Reads the MARCMaker text form that `str(record)` and `TextWriter` produce.

    Records are separated by a blank line; each line is `=TAG  ` followed by the leader,
    control field data, or two indicators and `$`-prefixed subfields. `target` is a file
    object, a path (opened with `encoding`), or the text itself. A line that cannot be
    parsed raises `PymarcException` naming the line.
    """

    def __init__(self, target, encoding: str = "utf-8") -> None:
        handle = _text_source(target, encoding)
        content = handle.read()
        # pymarc closes the handle, even one the caller passed in.
        handle.close()
        self.records = content.split("\n\n")
        self.iter = iter(self.records)

    def _parse_line(self, line: str) -> Leader | Field:
        """One `=TAG  ...` line as a `Leader` or a `Field`."""
        if line[0] != "=":
            raise ValueError('Line should start with a "=".')
        if line[4:6] != "  ":
            raise ValueError("Tag should be separated from the rest of the field by two spaces.")
        tag = line[1:4]
        rest = line[6:]
        if tag == "LDR":
            return Leader(rest)
        if tag < "010":
            return Field(tag, data=rest)
        # rest[2] is the "$" opening the first subfield; splitting after it avoids an
        # empty first piece.
        subfields = [Subfield(piece[:1], piece[1:]) for piece in rest[3:].split("$")]
        return Field(tag, indicators=Indicators(rest[0], rest[1]), subfields=subfields)

    def __iter__(self) -> "MARCMakerReader":
        return self

    def __next__(self) -> Record:
        record = Record()
        for line in next(self.iter).splitlines():
            try:
                parsed = self._parse_line(line)
            except Exception as error:
                raise PymarcException(f'Unable to parse line "{line}"') from error
            if isinstance(parsed, Leader):
                record.leader = parsed
            else:
                record.add_field(parsed)
        return record
