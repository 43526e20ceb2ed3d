"""`Record` (native) and the record-level helpers of pymarc 5.4.0."""

import json  # noqa: F401
import logging
import re
import typing  # noqa: F401
import unicodedata
import warnings  # noqa: F401
from re import Pattern  # noqa: F401

from fastmarc._native import Record
from fastmarc.constants import (  # noqa: F401
    DIRECTORY_ENTRY_LEN,
    END_OF_FIELD,
    END_OF_RECORD,
    LEADER_LEN,
    SUBFIELD_INDICATOR,
)
from fastmarc.exceptions import (  # noqa: F401
    BadSubfieldCodeWarning,
    BaseAddressInvalid,
    BaseAddressNotFound,
    FieldNotFound,
    MissingLinkedFields,
    NoFieldsFound,
    RecordDirectoryInvalid,
    RecordLeaderInvalid,
    TruncatedRecord,
)
from fastmarc.field import Field, Indicators, RawField, Subfield, map_marc8_field  # noqa: F401
from fastmarc.leader import Leader
from fastmarc.marc8 import marc8_to_unicode  # noqa: F401

# Module-level names pymarc's record module has (and `from pymarc import *` exports).
isbn_regex: re.Pattern = re.compile(r"([0-9\-xX]+)")
logger = logging.getLogger("pymarc")


def map_marc8_record(record: Record) -> Record:
    """Decode every field of `record` from MARC-8 in place and mark the leader as UCS/Unicode.

    Returns the same record object.
    """
    record.fields = [map_marc8_field(field) for field in record.fields]
    leader = str(record.leader)
    record.leader = Leader(leader[:9] + "a" + leader[10:])
    return record


def normalize_subfield_code(subfield: bytes) -> tuple[str, int]:
    """An ASCII stand-in for a non-ASCII subfield code, and the code's length in bytes.

    The subfield (code byte(s) then data) is read as UTF-8, or as Latin-1 if it is not
    valid UTF-8; the first character, stripped of diacritics by NFKD decomposition, is
    the code. The length is that character's UTF-8 length (1 for the Latin-1 reading).
    """
    try:
        text = subfield.decode("utf-8")
    except UnicodeDecodeError:
        text = subfield.decode("latin-1")
        code_length = 1
    else:
        code_length = len(text[0].encode("utf-8"))
    ascii_only = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return ascii_only[0], code_length
