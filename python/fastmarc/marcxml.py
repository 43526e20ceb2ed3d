"""MARCXML (pymarc 5.4.0 API): read and written by the core.

`parse_xml_to_array`, `map_xml` and `record_to_xml` go through the core's MARCXML reader and
writer. `XmlHandler` and `parse_xml` stay SAX, for handlers users write themselves; they are
also the route for the few documents the core reads differently from pymarc's handler (the
core says so, and pymarc's route gives pymarc's result), and `record_to_xml_node` stays
ElementTree, as its result is an ElementTree element.
"""

import io
import os
import re
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from xml.sax import make_parser  # noqa: F401
from xml.sax.expatreader import ExpatParser
from xml.sax.handler import (
    ContentHandler,
    feature_external_ges,
    feature_external_pes,
    feature_namespaces,
)

from fastmarc import _native
from fastmarc._native import Field, Record
from fastmarc._types import Indicators
from fastmarc.leader import Leader
from fastmarc.marc8 import MARC8ToUnicode

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MARC_XML_NS = "http://www.loc.gov/MARC21/slim"
MARC_XML_SCHEMA = (
    "http://www.loc.gov/MARC21/slim " "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
)


class XmlHandler(ContentHandler):
    """Builds `Record`s from MARCXML SAX events and hands each to `process_record`.

    `process_record` appends to `records`; override it (in a subclass, or by assigning
    to the attribute) to stream records elsewhere instead of keeping them all. With
    `strict`, elements outside the MARCXML namespace are ignored. `normalize_form`
    ("NFC", "NFD", "NFKC", "NFKD") normalises all text with `unicodedata.normalize`.
    """

    def __init__(self, strict: bool = False, normalize_form: str | None = None) -> None:
        super().__init__()
        self.records: list = []
        self._record = None
        self._field = None
        self._subfield_code = None
        self._text: list[str] = []
        self._strict = strict
        self.normalize_form = normalize_form

    def startElementNS(self, name, qname, attrs) -> None:
        namespace, element = name
        if self._strict and namespace != MARC_XML_NS:
            return
        # Text collects from the most recent start tag only, as in pymarc.
        self._text = []
        if element == "record":
            self._record = Record()
        elif element == "controlfield":
            self._field = Field(attrs.getValue((None, "tag")))
        elif element == "datafield":
            self._field = Field(
                attrs.getValue((None, "tag")),
                Indicators(attrs.get((None, "ind1"), " "), attrs.get((None, "ind2"), " ")),
            )
        elif element == "subfield":
            self._subfield_code = attrs[(None, "code")]

    def endElementNS(self, name, qname) -> None:
        namespace, element = name
        if self._strict and namespace != MARC_XML_NS:
            return
        text = "".join(self._text)
        if self.normalize_form is not None:
            text = unicodedata.normalize(self.normalize_form, text)
        self._text = []

        record = self._record
        field = self._field
        if element == "record":
            if record is not None:
                self._record = None
                self.process_record(record)
        elif element == "leader":
            if record is not None:
                record.leader = Leader(text)
        elif element == "controlfield":
            if record is not None and field is not None:
                field.data = text
                record.add_field(field)
                self._field = None
        elif element == "datafield":
            if record is not None and field is not None:
                record.add_field(field)
                self._field = None
        # An empty code attribute drops the subfield, as pymarc does.
        elif element == "subfield" and field is not None and self._subfield_code:
            field.add_subfield(self._subfield_code, text)
            self._subfield_code = None

    def characters(self, content: str) -> None:
        self._text.append(content)

    def process_record(self, record) -> None:
        """Called with each complete record; the default keeps it in `records`."""
        self.records.append(record)


class _TextBufferingExpatParser(ExpatParser):
    """The standard SAX parser, reporting each run of text in one `characters` call rather
    than one per entity reference or input chunk.

    What the handler collects is the same; the number of small strings is not. Entity
    expansion (up to expat's amplification limit, which stops billion-laughs documents)
    otherwise keeps one Python string per expanded reference, many times the memory the
    buffered text needs before expat gives up.
    """

    def reset(self) -> None:
        super().reset()
        # `_parser` is the pyexpat parser the standard reader creates in reset().
        self._parser.buffer_text = True


def parse_xml(xml_file, handler) -> None:
    """Parse `xml_file` (path, binary/text file object or InputSource) into `handler`.

    The parser is namespace-aware and never fetches external entities or DTDs.
    """
    parser = _TextBufferingExpatParser()
    parser.setContentHandler(handler)
    parser.setFeature(feature_namespaces, True)
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.parse(xml_file)


# An XML declaration naming an encoding other than UTF-8 (or its ASCII subset).
_OTHER_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["'](?!(?:utf-?8|us-ascii|ascii)["'])""", re.I)


def _read_document(xml_file):
    """`xml_file`'s bytes and what SAX should parse if the core cannot (the same document).

    Returns (None, xml_file) for what only SAX opens (an InputSource, a URL) or a document
    in another encoding.
    """
    if isinstance(xml_file, (str, os.PathLike)):
        try:
            with open(xml_file, "rb") as handle:
                data = handle.read()
        except OSError:
            return None, xml_file
        source = xml_file
    elif callable(getattr(xml_file, "read", None)):
        data = xml_file.read()
        if isinstance(data, str):
            source = io.StringIO(data)
            # Characters, not bytes: a declared encoding no longer applies to them.
            return data.encode("utf-8"), source
        source = io.BytesIO(data)
    else:
        return None, xml_file
    if _OTHER_ENCODING.match(data):
        return None, source
    return data, source


def _core_records(xml_file, strict: bool = False, normalize_form: str | None = None):
    """The document's records read by the core, or None and what SAX must parse instead."""
    data, source = _read_document(xml_file)
    if data is None:
        return None, source
    return _native.parse_xml(data, strict, normalize_form), source


def map_xml(function, *files) -> None:
    """Call `function` with every record of every MARCXML file in `files`, in order."""
    for xml_file in files:
        records, source = _core_records(xml_file)
        if records is None:
            handler = XmlHandler()
            handler.process_record = function
            parse_xml(source, handler)
        else:
            for record in records:
                function(record)


def parse_xml_to_array(xml_file, strict: bool = False, normalize_form: str | None = None):
    """All the records of a MARCXML document, as a list of `Record`."""
    records, source = _core_records(xml_file, strict, normalize_form)
    if records is None:
        handler = XmlHandler(strict, normalize_form)
        parse_xml(source, handler)
        records = handler.records
    return records


def record_to_xml(
    record, quiet: bool = False, namespace: bool = False, *, well_formed: str | None = None
) -> bytes:
    """A record as a MARCXML `<record>` element, serialised to ASCII bytes.

    By default the bytes are pymarc's, which copy a control character in the record (a
    stray 0x1F in a 001, an ESC from broken MARC-8) into the XML, where XML parsers reject
    it. `well_formed="strict"` raises `ValueError` for such a record instead, naming the
    field and the character; `well_formed="replace"` writes each such character as U+FFFD
    and warns (`UserWarning`). Either way a carriage return is written `&#13;`, so it reads
    back as itself.
    """
    return _record_xml(record, namespace, True, quiet, well_formed)


# What XML 1.0 cannot carry: C0 controls other than tab, LF and CR; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _check_well_formed(value) -> None:
    if value not in (None, "strict", "replace"):
        raise ValueError(f"well_formed must be None, 'strict' or 'replace', not {value!r}")


def _record_xml(record, namespace: bool, ascii: bool, quiet: bool, well_formed) -> bytes:
    """The core's bytes for `record` (ElementTree's for a record the core does not model),
    with `well_formed` applied (see `record_to_xml`)."""
    _check_well_formed(well_formed)
    if well_formed is None:
        xml = _native.record_xml(record, namespace, ascii, quiet)
        if xml is None:
            xml = _element_bytes(record_to_xml_node(record, quiet, namespace), ascii)
        return xml
    made = _native.record_xml(record, namespace, ascii, quiet, True)
    if made is None:
        made = _well_formed_element(record_to_xml_node(record, quiet, namespace), ascii)
    xml, replaced = made
    if replaced is not None:
        first, count = replaced
        if well_formed == "strict":
            raise ValueError(f"record cannot be written as well-formed MARCXML: {first}")
        plural = "" if count == 1 else "s"
        warnings.warn(f"{first}; {count} such character{plural} written as U+FFFD", stacklevel=3)
    return xml


def _element_bytes(node: ET.Element, ascii: bool) -> bytes:
    return ET.tostring(node) if ascii else ET.tostring(node, encoding="utf-8")


def _well_formed_element(node: ET.Element, ascii: bool):
    """ElementTree's bytes for `node` under the core's well-formed rule, for a record the
    core does not model; and what was replaced, as the core says it, or `None`."""
    first = None
    count = 0

    def clean(text, place):
        nonlocal first, count
        if not text:
            return text
        found = _NOT_XML.search(text)
        if found is None:
            return text
        if first is None:
            code = ord(found.group())
            first = (
                f"{place}: character U+{code:04X} at position {found.start()} "
                "cannot be written in XML"
            )
        count += len(_NOT_XML.findall(text))
        return _NOT_XML.sub("\ufffd", text)

    node.find("leader").text = clean(node.find("leader").text, "leader")
    for element in node:
        if element.tag == "controlfield":
            element.text = clean(element.text, element.get("tag"))
        elif element.tag == "datafield":
            tag = element.get("tag")
            for subfield in element:
                code = subfield.get("code")
                subfield.text = clean(subfield.text, f"{tag}${code}")
    xml = _element_bytes(node, ascii).replace(b"\r", b"&#13;")
    return xml, None if first is None else (first, count)


def record_to_xml_node(record, quiet: bool = False, namespace: bool = False) -> ET.Element:
    """A record as an ElementTree `<record>` element.

    Values that are bytes (raw fields) are decoded from MARC-8. With `namespace`, the
    element carries the MARCXML namespace and schema location.
    """
    # One decoder per record: like pymarc's, its character sets carry over between values.
    decoder = MARC8ToUnicode(quiet=quiet)

    def text_of(value):
        return value if type(value) is str else decoder.translate(value)

    root = ET.Element("record")
    if namespace:
        root.set("xmlns", MARC_XML_NS)
        root.set("xmlns:xsi", XSI_NS)
        root.set("xsi:schemaLocation", MARC_XML_SCHEMA)
    ET.SubElement(root, "leader").text = str(record.leader)
    for field in record:
        if field.control_field:
            element = ET.SubElement(root, "controlfield", tag=field.tag)
            element.text = text_of(field.data)
        else:
            indicators = field.indicators
            element = ET.SubElement(
                root,
                "datafield",
                ind1=indicators.first,
                ind2=indicators.second,
                tag=field.tag,
            )
            for subfield in field:
                child = ET.SubElement(element, "subfield", code=subfield.code)
                child.text = text_of(subfield.value)
    return root
