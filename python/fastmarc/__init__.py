"""fastmarc: MARC 21 records in Rust, with the API of pymarc 5.4.0.

`import fastmarc as pymarc` is meant to work unchanged: the names below are pymarc's,
grouped by the module that defines them, as in pymarc.
"""

from importlib import metadata as _metadata

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
]

try:
    __version__ = _metadata.version("fastmarc")
except _metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"
