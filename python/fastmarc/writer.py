"""Writers for MARC 21 (ISO 2709), MARCMaker text, MARCXML and MARC-in-JSON."""

import json
import os
import xml.etree.ElementTree as ET
from typing import IO

from fastmarc._native import Record, RecordFileWriter, record_json, record_xml
from fastmarc.exceptions import WriteNeedsRecord
from fastmarc.marcxml import _check_well_formed, _record_xml, record_to_xml_node


class Writer:
    """Base writer: holds `file_handle` and rejects anything that is not a `Record`."""

    def __init__(self, file_handle: IO) -> None:
        self.file_handle = file_handle

    def write(self, record: Record) -> None:
        """Check that `record` is a `Record`; subclasses then write it."""
        if not isinstance(record, Record):
            raise WriteNeedsRecord

    def close(self, close_fh: bool = True) -> None:
        """Finish writing; also close the file handle unless `close_fh` is false."""
        if close_fh and self.file_handle:
            self.file_handle.close()
        self.file_handle = None  # type: ignore[assignment]


class JSONWriter(Writer):
    """Writes a JSON array of MARC-in-JSON records to a text file.

    The closing bracket is written by `close`, so the output is valid JSON only once the
    writer is closed (use `close(close_fh=False)` to keep the handle open).
    """

    def __init__(self, file_handle: IO) -> None:
        super().__init__(file_handle)
        self.write_count = 0
        if self.file_handle:
            self.file_handle.write("[")

    def write(self, record: Record) -> None:
        """Append `record` to the array."""
        Writer.write(self, record)
        if self.file_handle:
            # The core writes what json.dumps(as_dict()) gives, unless as_dict is overridden.
            text = record_json(record, True) if type(record).as_dict is Record.as_dict else None
            if text is None:
                text = json.dumps(record.as_dict(), separators=(",", ":"))
            # One write per record, separator included (json.dump makes many small ones):
            # a write that fails leaves no dangling comma, so what was written before it
            # still closes into a valid array.
            self.file_handle.write("," + text if self.write_count > 0 else text)
            self.write_count += 1

    def close(self, close_fh: bool = True) -> None:
        """End the array, then close as `Writer.close` does (even if ending it fails)."""
        try:
            if self.file_handle:
                self.file_handle.write("]")
        finally:
            Writer.close(self, close_fh)


class MARCWriter(Writer):
    """Writes records in MARC 21 transmission format to a binary file.

    Beyond pymarc: `file_handle` may also be a path (str or os.PathLike). fastmarc then
    opens the file itself and serialises and writes records in batches with the GIL
    released, so threads writing their own files run in parallel; like any buffered file,
    the file is complete once the writer is closed (or dropped). Given a file
    object, each record goes to its `.write()` at once, as in pymarc; threads writing file
    objects should open them with a large buffer (``open(name, "wb", buffering=1 << 20)``):
    the GIL can change hands each time a file's buffer is written out, and with the
    default 8 KiB buffer that is every few records.
    """

    def __init__(self, file_handle: "IO | str | os.PathLike[str]") -> None:
        self._native = None
        if isinstance(file_handle, (str, os.PathLike)):
            self._native = RecordFileWriter(file_handle)
            file_handle = self._native
            # No Python frame per record: the native writer checks the type itself. Not
            # for a subclass that overrides write(), whose override must be what runs.
            if type(self).write is MARCWriter.write:
                self.write = self._native.write_record  # type: ignore[method-assign]
        super().__init__(file_handle)

    def write(self, record: Record) -> None:
        """Append `record.as_marc()` to the file."""
        Writer.write(self, record)
        if self._native is not None and self.file_handle is self._native:
            self._native.write_record(record)
        elif self.file_handle:
            self.file_handle.write(record.as_marc())

    def close(self, close_fh: bool = True) -> None:
        """As `Writer.close`; a file fastmarc opened is written out either way."""
        if self._native is not None and self.file_handle is self._native:
            self._native.flush()
        Writer.close(self, close_fh)


class TextWriter(Writer):
    """Writes records in MARCMaker text form (`str(record)`), a blank line between them."""

    def __init__(self, file_handle: IO) -> None:
        super().__init__(file_handle)
        self.write_count = 0

    def write(self, record: Record) -> None:
        """Append `str(record)` to the file."""
        Writer.write(self, record)
        if self.file_handle:
            # Separator and record in one write: a failed write leaves no stray blank line
            # (which a reader would take for an empty record).
            text = str(record)
            self.file_handle.write("\n" + text if self.write_count > 0 else text)
            self.write_count += 1


class XMLWriter(Writer):
    """Writes a MARCXML `<collection>` to a binary file.

    The closing tag is written by `close`, so the document is complete only once the
    writer is closed. By default the bytes are pymarc's, control characters in records
    included (XML parsers reject those); `well_formed="strict"` or `"replace"` keeps every
    document well-formed, as `record_to_xml` describes: a record that would break it raises
    `ValueError` before anything of it is written, or has such characters written as U+FFFD
    with a warning.
    """

    def __init__(self, file_handle: IO, *, well_formed: str | None = None) -> None:
        super().__init__(file_handle)
        _check_well_formed(well_formed)
        self.well_formed = well_formed
        if self.file_handle:
            self.file_handle.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            self.file_handle.write(b'<collection xmlns="http://www.loc.gov/MARC21/slim">')

    def write(self, record: Record) -> None:
        """Append `record` as a UTF-8 `<record>` element."""
        Writer.write(self, record)
        if self.file_handle:
            if self.well_formed is None:
                xml = record_xml(record, False, False)
                if xml is None:
                    xml = ET.tostring(record_to_xml_node(record), encoding="utf-8")
            else:
                xml = _record_xml(record, False, False, False, self.well_formed)
            self.file_handle.write(xml)

    def close(self, close_fh: bool = True) -> None:
        """End the collection, then close as `Writer.close` does (even if ending it fails)."""
        try:
            if self.file_handle:
                self.file_handle.write(b"</collection>")
        finally:
            Writer.close(self, close_fh)
