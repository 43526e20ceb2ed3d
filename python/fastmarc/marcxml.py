"""MARCXML: reading with a SAX handler, writing with ElementTree (pymarc 5.4.0 API)."""

import unicodedata
import xml.etree.ElementTree as ET
from xml.sax import make_parser  # noqa: F401
from xml.sax.expatreader import ExpatParser
from xml.sax.handler import (
    ContentHandler,
    feature_external_ges,
    feature_external_pes,
    feature_namespaces,
)

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
    otherwise keeps one Python string per expanded reference: about 60 MB for a 1 KB
    document before expat gives up, against 2 MB with the text buffered.
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


def map_xml(function, *files) -> None:
    """Call `function` with every record of every MARCXML file in `files`, in order."""
    handler = XmlHandler()
    handler.process_record = function
    for xml_file in files:
        parse_xml(xml_file, handler)


def parse_xml_to_array(xml_file, strict: bool = False, normalize_form: str | None = None):
    """All the records of a MARCXML document, as a list of `Record`."""
    handler = XmlHandler(strict, normalize_form)
    parse_xml(xml_file, handler)
    return handler.records


def record_to_xml(record, quiet: bool = False, namespace: bool = False) -> bytes:
    """A record as a MARCXML `<record>` element, serialised to ASCII bytes."""
    return ET.tostring(record_to_xml_node(record, quiet, namespace))


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
