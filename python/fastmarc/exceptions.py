"""Exception classes, with the hierarchy and messages of pymarc 5.4.0.

Programs written for pymarc catch these by class and sometimes compare the text, so both
the inheritance and each `str()` are part of the API.
"""


class PymarcException(Exception):
    """Root of every error this package raises on purpose."""


class FatalReaderError(PymarcException):
    """A reading error after which a reader cannot go on to the next record."""


class RecordLengthInvalid(FatalReaderError):
    """The first five bytes of a record are not a decimal record length."""

    def __str__(self) -> str:
        return "Invalid record length in first 5 bytes of record"


class TruncatedRecord(FatalReaderError):
    """The data ends before the length announced in the leader."""

    def __str__(self) -> str:
        return "Record length in leader is greater than the length of data"


class EndOfRecordNotFound(FatalReaderError):
    """A record does not end with the end-of-record byte (0x1D)."""

    def __str__(self) -> str:
        return "Unable to locate end of record marker"


class RecordLeaderInvalid(PymarcException):
    """A leader is not 24 characters long or cannot be read."""

    def __str__(self) -> str:
        return "Unable to extract record leader"


class RecordDirectoryInvalid(PymarcException):
    """The directory length is not a multiple of the 12-byte entry size."""

    def __str__(self) -> str:
        return "Invalid directory"


class NoFieldsFound(PymarcException):
    """A record's directory lists no field."""

    def __str__(self) -> str:
        return "Unable to locate fields in record data"


class BaseAddressInvalid(PymarcException):
    """The base address of data points past the end of the record."""

    def __str__(self) -> str:
        return "Base address exceeds size of record"


class BaseAddressNotFound(PymarcException):
    """The base address of data is zero or missing."""

    def __str__(self) -> str:
        return "Unable to locate base address of record"


class WriteNeedsRecord(PymarcException):
    """A writer was given something that is not a `Record`."""

    def __str__(self) -> str:
        return "Write requires a pymarc.Record object as an argument"


class NoActiveFile(PymarcException):
    """A writer has no file to write to."""

    def __str__(self) -> str:
        return "There is no active file to write to in call to write"


class FieldNotFound(PymarcException):
    """A record has no field with the tag asked for."""

    def __str__(self) -> str:
        return "Record does not contain the specified field"


class BadSubfieldCodeWarning(Warning):
    """A subfield code byte was not ASCII; `subf` holds the raw subfield bytes."""

    def __init__(self, subf) -> None:
        super().__init__()
        self.subf = subf

    def __str__(self) -> str:
        return f"The subfield contained a non-ASCII subfield code: {self.subf}"


class BadLeaderValue(PymarcException):
    """A value given to a leader position has the wrong length."""


class MissingLinkedFields(PymarcException):
    """A field has a subfield $6 linkage but the record has no 880 field it points to."""

    def __init__(self, field) -> None:
        super().__init__(field)
        self.field = field

    def __str__(self) -> str:
        return (
            f"{self.field.tag} field includes a subfield 6 but no linked fields " "could be found."
        )
