"""fastmarc: MARC 21 records in Rust, with the API of pymarc 5.4.0.

`import fastmarc as pymarc` is meant to work unchanged: the names below are pymarc's,
grouped by the module that defines them, as in pymarc.
"""

# Names pymarc's package has because its modules import them (`from .record import *` and
# so on); code written for pymarc may take them from here.
import json  # noqa: F401
import logging  # noqa: F401
import os  # noqa: F401
import re  # noqa: F401
import sys  # noqa: F401
import typing  # noqa: F401
import unicodedata  # noqa: F401
import warnings  # noqa: F401
import xml.etree.ElementTree as ET  # noqa: F401
from collections import defaultdict  # noqa: F401
from collections.abc import Callable, Iterator, Sequence  # noqa: F401
from importlib import metadata as _metadata
from io import BufferedReader, BytesIO, IOBase, StringIO  # noqa: F401
from re import Pattern  # noqa: F401
from typing import IO, BinaryIO, NamedTuple, Union  # noqa: F401
from xml.sax import make_parser  # noqa: F401
from xml.sax.handler import ContentHandler, feature_namespaces  # noqa: F401

from fastmarc._pymarc_alias import install_as_pymarc

from fastmarc.arrow import from_arrow, read_parquet, to_arrow, to_parquet
from fastmarc.constants import (
    DIRECTORY_ENTRY_LEN,
    END_OF_FIELD,
    END_OF_RECORD,
    LEADER_LEN,
    SUBFIELD_INDICATOR,
)
from fastmarc.exceptions import (
    BadLeaderValue,
    BadSubfieldCodeWarning,
    BaseAddressInvalid,
    BaseAddressNotFound,
    EndOfRecordNotFound,
    FatalReaderError,
    FieldNotFound,
    MissingLinkedFields,
    NoActiveFile,
    NoFieldsFound,
    PymarcException,
    RecordDirectoryInvalid,
    RecordLeaderInvalid,
    RecordLengthInvalid,
    TruncatedRecord,
    WriteNeedsRecord,
)
from fastmarc.field import Field, Indicators, RawField, Subfield, logger, map_marc8_field
from fastmarc.leader import Leader
from fastmarc.marc8 import MARC8ToUnicode, marc8_to_unicode
from fastmarc.marc8_writing import record_to_marc8, unicode_to_marc8
from fastmarc.marc8 import _lazy_code_tables
from fastmarc.marcjson import JSONHandler, parse_json_to_array
from fastmarc.marcxml import (
    MARC_XML_NS,
    MARC_XML_SCHEMA,
    XSI_NS,
    XmlHandler,
    map_xml,
    parse_xml,
    parse_xml_to_array,
    record_to_xml,
    record_to_xml_node,
)
from fastmarc.reader import (
    JSONReader,
    MARCMakerReader,
    MARCReader,
    Reader,
    map_records,
    parse_all,
)
from fastmarc.mrk import MRKReader, MRKWriter, record_to_mrk
from fastmarc.record import Record, isbn_regex, map_marc8_record, normalize_subfield_code
from fastmarc.writer import JSONWriter, MARCWriter, TextWriter, Writer, XMLWriter

__all__ = [
    "DIRECTORY_ENTRY_LEN",
    "END_OF_FIELD",
    "END_OF_RECORD",
    "LEADER_LEN",
    "MARC_XML_NS",
    "MARC_XML_SCHEMA",
    "SUBFIELD_INDICATOR",
    "XSI_NS",
    "BadLeaderValue",
    "BadSubfieldCodeWarning",
    "BaseAddressInvalid",
    "BaseAddressNotFound",
    "EndOfRecordNotFound",
    "FatalReaderError",
    "Field",
    "FieldNotFound",
    "Indicators",
    "JSONHandler",
    "JSONReader",
    "JSONWriter",
    "Leader",
    "MARC8ToUnicode",
    "MARCMakerReader",
    "MARCReader",
    "MARCWriter",
    "MRKReader",
    "MRKWriter",
    "MissingLinkedFields",
    "NoActiveFile",
    "NoFieldsFound",
    "PymarcException",
    "RawField",
    "Reader",
    "Record",
    "RecordDirectoryInvalid",
    "RecordLeaderInvalid",
    "RecordLengthInvalid",
    "Subfield",
    "TextWriter",
    "TruncatedRecord",
    "WriteNeedsRecord",
    "Writer",
    "XMLWriter",
    "XmlHandler",
    "__version__",
    "install_as_pymarc",
    "isbn_regex",
    "logger",
    "map_marc8_field",
    "map_marc8_record",
    "map_records",
    "parse_all",
    "map_xml",
    "marc8_to_unicode",
    "normalize_subfield_code",
    "parse_json_to_array",
    "parse_xml",
    "parse_xml_to_array",
    "unicode_to_marc8",
    "record_to_marc8",
    "record_to_mrk",
    "record_to_xml",
    "record_to_xml_node",
    "from_arrow",
    "read_parquet",
    "to_arrow",
    "to_parquet",
]


__getattr__, __dir__ = _lazy_code_tables(__name__, globals())


try:
    __version__ = _metadata.version("fastmarc")
except _metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"
