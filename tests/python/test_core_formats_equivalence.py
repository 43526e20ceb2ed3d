"""MARCXML, MARC-in-JSON and MARC-8 through the core, against the real pymarc 5.4.0.

fastmarc's `record_to_xml`, `XMLWriter`, `JSONWriter`, `as_json`, `parse_xml_to_array`,
`map_xml`, `JSONReader` and `MARC8ToUnicode` hand the work to the core. These tests compare
their output with pymarc's on pymarc's own data, on records edited into shapes the core
models differently (bytes values, odd tags), and on documents the core must leave to
pymarc's route; and they check that the core route is the one taken where it can be.

Needs the real pymarc importable as `pymarc` (see test_pymarc_equivalence.py).
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import pytest

import fastmarc
import pymarc
from fastmarc import _native

ISO_FILES = ["marc.dat", "test.dat", "marc8.dat", "diacritic.dat", "utf8_with_leader_flag.dat",
             "1251.dat", "alphatag.dat", "multi_isbn.dat"]


def records_of(lib, path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [r for r in lib.MARCReader(path.read_bytes()) if r is not None]


def edit(lib, record) -> None:
    """Edits that make every field a Python object and exercise odd values."""
    record.add_ordered_field(lib.Field("500", lib.Indicators("1", " "),
                                       [lib.Subfield("a", "Note & <markup> \"quoted\"\tx")]))
    record.add_field(lib.Field("650", lib.Indicators(" ", "0"), []))
    record.add_field(lib.Field("005", data=""))
    for f in record.get_fields("245"):
        f.indicator1 = "0"


def writer_output(lib, records, kind: str):
    out = io.BytesIO() if kind == "xml" else io.StringIO()
    writer = lib.XMLWriter(out) if kind == "xml" else lib.JSONWriter(out)
    for r in records:
        writer.write(r)
    writer.close(close_fh=False)
    return out.getvalue()


@pytest.mark.parametrize("edited", [False, True])
@pytest.mark.parametrize("name", ISO_FILES)
def test_writers_match_pymarc(name: str, edited: bool, pymarc_test_dir: Path):
    path = pymarc_test_dir / name
    for kind in ("xml", "json"):
        got = []
        for lib in (pymarc, fastmarc):
            records = records_of(lib, path)
            if edited:
                for r in records:
                    edit(lib, r)
            got.append(writer_output(lib, records, kind))
        assert got[0] == got[1], f"{kind} writer differs"
    for lib_records in ([records_of(pymarc, path), records_of(fastmarc, path)],):
        if edited:
            for r in lib_records[0]:
                edit(pymarc, r)
            for r in lib_records[1]:
                edit(fastmarc, r)
        for want, have in zip(*lib_records):
            assert pymarc.record_to_xml(want) == fastmarc.record_to_xml(have)
            assert pymarc.record_to_xml(want, namespace=True) == fastmarc.record_to_xml(have, namespace=True)
            assert want.as_json() == have.as_json()
            assert want.as_json(indent=1) == have.as_json(indent=1)
            assert want.as_dict() == have.as_dict()


def test_writers_take_the_core_route_for_read_and_edited_records(pymarc_test_dir: Path):
    records = records_of(fastmarc, pymarc_test_dir / "marc.dat")
    assert _native.record_xml(records[0]) is not None
    assert _native.record_json(records[0]) is not None
    edit(fastmarc, records[1])
    assert _native.record_xml(records[1]) is not None
    assert _native.record_json(records[1], True) is not None


def test_raw_records_decode_marc8_values_with_one_decoder_per_record(pymarc_test_dir: Path):
    """to_unicode=False keeps bytes; record_to_xml decodes them from MARC-8 as pymarc does."""
    for name in ("marc8.dat", "test.dat"):
        path = pymarc_test_dir / name
        want = list(pymarc.MARCReader(path.read_bytes(), to_unicode=False))
        have = list(fastmarc.MARCReader(path.read_bytes(), to_unicode=False))
        assert [pymarc.record_to_xml(r, quiet=True) for r in want] == \
               [fastmarc.record_to_xml(r, quiet=True) for r in have]


def test_values_the_core_cannot_hold_take_pymarcs_route():
    results = []
    for lib in (pymarc, fastmarc):
        record = lib.Record()
        record.add_field(lib.Field("1234", lib.Indicators("1", "2"), [lib.Subfield("ab", "x")]))
        record.add_field(lib.Field("001", data=None))
        results.append((lib.record_to_xml(record), record.as_json(), record.as_dict()))
    assert results[0] == results[1]
    record = fastmarc.Record()
    record.add_field(fastmarc.Field("1234", fastmarc.Indicators("1", "2"), [fastmarc.Subfield("ab", "x")]))
    assert _native.record_xml(record) is None


def test_overridden_as_dict_is_what_jsonwriter_and_as_json_write():
    class Mine(fastmarc.Record):
        def as_dict(self):
            return {"mine": True}

    record = Mine()
    out = io.StringIO()
    writer = fastmarc.JSONWriter(out)
    writer.write(record)
    writer.close(close_fh=False)
    assert out.getvalue() == '[{"mine":true}]'
    assert record.as_json() == '{"mine": true}'


XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
XML_CASES = {
    "no leader": "<record><controlfield tag='001'>x</controlfield></record>",
    "controlfield with a data tag": "<record><leader>00000nam a2200000 a 4500</leader>"
                                    "<controlfield tag='245'>x</controlfield></record>",
    "datafield with a control tag": "<record><leader>00000nam a2200000 a 4500</leader>"
                                    "<datafield tag='001' ind1=' ' ind2=' '><subfield code='a'>x</subfield>"
                                    "</datafield></record>",
    "short tag": "<record><leader>00000nam a2200000 a 4500</leader>"
                 "<datafield tag='1' ind1=' ' ind2=' '><subfield code='a'>x</subfield></datafield></record>",
    "empty subfield code": "<record><leader>00000nam a2200000 a 4500</leader>"
                           "<datafield tag='245' ind1='1' ind2='0'><subfield code=''>x</subfield>"
                           "<subfield code='a'>y</subfield></datafield></record>",
    "missing indicators": "<record><leader>00000nam a2200000 a 4500</leader>"
                          "<datafield tag='245'><subfield code='a'>caf\u00e9</subfield></datafield></record>",
    "short leader": "<record><leader>short</leader></record>",
    "empty indicator": "<record><leader>00000nam a2200000 a 4500</leader>"
                       "<datafield tag='245' ind1='' ind2='0'><subfield code='a'>t</subfield></datafield></record>",
    # Characters XML 1.0 does not allow: pymarc's parser refuses the document, wherever
    # they stand, as themselves or as references.
    "control character in text": "<record><leader>00000nam a2200000 a 4500</leader>"
                                 "<controlfield tag='001'>a\x1fb</controlfield></record>",
    "control character between elements": "<record><leader>00000nam a2200000 a 4500</leader>\x00"
                                          "<controlfield tag='001'>ab</controlfield></record>",
    "control character in a tag": "<record><leader>00000nam a2200000 a 4500</leader>"
                                  "<controlfield\x03 tag='001'>ab</controlfield></record>",
    "U+FFFE in text": "<record><leader>00000nam a2200000 a 4500</leader>"
                      "<controlfield tag='001'>a\ufffeb</controlfield></record>",
    "reference to a control character": "<record><leader>00000nam a2200000 a 4500</leader>"
                                        "<controlfield tag='001'>a&#x1B;b</controlfield></record>",
    "reference to a control character in an attribute": "<record><leader>00000nam a2200000 a 4500</leader>"
                                                        "<datafield tag='245' ind1='&#1;' ind2='0'>"
                                                        "<subfield code='a'>t</subfield></datafield></record>",
    "tab and newline": "<record><leader>00000nam a2200000 a 4500</leader>\n\t"
                       "<controlfield tag='001'>a\tb&#10;c</controlfield></record>",
    # Start tags that are not well-formed, in attributes fastmarc does not read as well.
    "no white space between attributes": "<record><leader>00000nam a2200000 a 4500</leader>"
                                         "<datafield tag='245' ind1='1'ind2='0'>"
                                         "<subfield code='a'>t</subfield></datafield></record>",
    "attribute name starting with a digit": "<record><leader>00000nam a2200000 a 4500</leader>"
                                            "<datafield tag='245' 1nd1='1' ind2='0'>"
                                            "<subfield code='a'>t</subfield></datafield></record>",
    "attribute name holding a reference": "<record><leader>00000nam a2200000 a 4500</leader>"
                                          "<datafield tag='245' i&#9;nd1='1' ind2='0'>"
                                          "<subfield code='a'>t</subfield></datafield></record>",
    "undefined entity in an attribute": "<record id='&nbsp;'><leader>00000nam a2200000 a 4500</leader></record>",
    "'<' in an attribute": "<record><leader>00000nam a2200000 a 4500</leader>"
                           "<datafield tag='245' ind1='1' ind2='0' x='a<b'>"
                           "<subfield code='a'>t</subfield></datafield></record>",
    "duplicate attribute on a record": "<record id='1' id='2'><leader>00000nam a2200000 a 4500</leader></record>",
    "attributes on a foreign element": "<record xmlns:x='urn:x'><leader>00000nam a2200000 a 4500</leader>"
                                       "<x:note a='1' b='&amp;'>n</x:note></record>",
    "foreign element": "<record xmlns:x='urn:x'><leader>00000nam a2200000 a 4500</leader><x:note>n</x:note>"
                       "<datafield tag='245' ind1='1' ind2='0'><subfield code='a'>t</subfield></datafield>"
                       "</record>",
}


def xml_outcome(lib, document, **options):
    try:
        records = lib.parse_xml_to_array(document, **options)
    except Exception as exc:  # noqa: BLE001 - the exception is the observable result
        return ("raises", type(exc).__name__)
    return [(str(r.leader), [(f.tag, f.control_field, getattr(f, "data", None),
                              None if f.indicators is None else tuple(f.indicators),
                              [tuple(s) for s in f.subfields]) for f in r.fields],
             r.as_marc() if r.fields else None) for r in records]


@pytest.mark.parametrize("case", list(XML_CASES))
def test_parse_xml_to_array_edge_documents(case: str):
    doc = (XML_HEAD + XML_CASES[case] + "</collection>").encode("utf-8")
    for options in ({}, {"strict": True}, {"normalize_form": "NFD"}):
        want = xml_outcome(pymarc, io.BytesIO(doc), **options)
        assert want == xml_outcome(fastmarc, io.BytesIO(doc), **options), options
        assert want == xml_outcome(fastmarc, io.StringIO(doc.decode("utf-8")), **options), options


XML_DECLARATIONS = {
    "none": "",
    "usual": '<?xml version="1.0" encoding="UTF-8"?>',
    "standalone": "<?xml version='1.0' encoding='utf-8' standalone='yes'?>",
    "version 1.1": '<?xml version="1.1"?>',
    "no version": '<?xml encoding="UTF-8"?>',
    "version 2.0": '<?xml version="2.0"?>',
    "encoding first": '<?xml encoding="UTF-8" version="1.0"?>',
    "unknown pseudo-attribute": '<?xml version="1.0" colour="blue"?>',
    "bad standalone": '<?xml version="1.0" standalone="maybe"?>',
    "after white space": ' <?xml version="1.0"?>',
}


@pytest.mark.parametrize("case", list(XML_DECLARATIONS))
def test_parse_xml_to_array_xml_declarations(case: str):
    doc = (XML_DECLARATIONS[case] + "<collection><record><leader>00000nam a2200000 a 4500</leader>"
           "<controlfield tag='001'>x</controlfield></record></collection>").encode("utf-8")
    assert xml_outcome(pymarc, io.BytesIO(doc)) == xml_outcome(fastmarc, io.BytesIO(doc))


def test_parse_xml_in_another_encoding_and_from_paths(tmp_path: Path, pymarc_test_dir: Path):
    body = ("<collection><record><leader>00000nam a2200000 a 4500</leader>"
            "<datafield tag='245' ind1='1' ind2='0'><subfield code='a'>Caf\u00e9</subfield>"
            "</datafield></record></collection>")
    doc = ("<?xml version='1.0' encoding='ISO-8859-1'?>" + body).encode("latin-1")
    assert xml_outcome(pymarc, io.BytesIO(doc)) == xml_outcome(fastmarc, io.BytesIO(doc))
    path = tmp_path / "latin1.xml"
    path.write_bytes(doc)
    assert xml_outcome(pymarc, str(path)) == xml_outcome(fastmarc, str(path))
    missing = str(tmp_path / "missing.xml")
    assert xml_outcome(pymarc, missing) == xml_outcome(fastmarc, missing)
    batch = pymarc_test_dir / "batch.xml"
    assert _native.parse_xml(batch.read_bytes()) is not None
    assert xml_outcome(pymarc, str(batch)) == xml_outcome(fastmarc, batch)


def test_map_xml_calls_the_function_for_every_record(pymarc_test_dir: Path):
    seen = {}
    for lib in (pymarc, fastmarc):
        titles = []
        lib.map_xml(lambda r, titles=titles: titles.append(r.title),
                    str(pymarc_test_dir / "batch.xml"), str(pymarc_test_dir / "utf8.xml"))
        seen[lib.__name__] = titles
    assert seen["pymarc"] == seen["fastmarc"] and len(seen["pymarc"]) > 2


def test_a_user_xmlhandler_still_gets_sax_events(pymarc_test_dir: Path):
    class Counting(fastmarc.XmlHandler):
        def __init__(self):
            super().__init__()
            self.count = 0

        def process_record(self, record):
            self.count += 1

    handler = Counting()
    fastmarc.parse_xml(str(pymarc_test_dir / "batch.xml"), handler)
    assert handler.count == len(pymarc.parse_xml_to_array(str(pymarc_test_dir / "batch.xml")))


JSON_CASES = {
    "one record object": '{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "x"}]}',
    "control tag with subfields": '[{"leader": "00000nam a2200000 a 4500", "fields": '
                                  '[{"001": {"ind1": " ", "ind2": " ", "subfields": [{"a": "x"}]}}]}]',
    "data tag with a string": '[{"leader": "00000nam a2200000 a 4500", "fields": [{"245": "x"}]}]',
    "number value": '[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": 5}]}]',
    "long code": '[{"leader": "00000nam a2200000 a 4500", "fields": '
                 '[{"245": {"ind1": "1", "ind2": "0", "subfields": [{"ab": "x"}]}}]}]',
    "short leader": '[{"leader": "short", "fields": []}]',
    "control character": '[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "a\tb"}]}]',
    "no subfields key": '[{"leader": "00000nam a2200000 a 4500", "fields": [{"245": {"ind1": "1", "ind2": "0"}}]}]',
    "no ind2": '[{"leader": "00000nam a2200000 a 4500", "fields": '
               '[{"245": {"ind1": "1", "subfields": [{"a": "x"}]}}]}]',
    "empty ind1": '[{"leader": "00000nam a2200000 a 4500", "fields": '
                  '[{"245": {"ind1": "", "ind2": "0", "subfields": [{"a": "x"}]}}]}]',
    "subfield object with two entries": '[{"leader": "00000nam a2200000 a 4500", "fields": '
                                        '[{"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "x", "b": "y"}]}}]}]',
    "empty subfield object": '[{"leader": "00000nam a2200000 a 4500", "fields": '
                             '[{"245": {"ind1": "1", "ind2": "0", "subfields": [{}, {"a": "x"}]}}]}]',
    "field object with two entries": '[{"leader": "00000nam a2200000 a 4500", "fields": '
                                     '[{"001": "x", "245": {"ind1": "1", "ind2": "0", "subfields": []}}]}]',
    "not json": '[{"leader": ',
    "empty": "[]",
}


def json_outcome(lib, text: str):
    try:
        reader = lib.JSONReader(text)
        records = list(reader)
    except Exception as exc:  # noqa: BLE001 - the exception is the observable result
        return ("raises", type(exc).__name__)
    return [(str(r.leader), [(f.tag, f.control_field, getattr(f, "data", None),
                              [tuple(s) for s in f.subfields]) for f in r.fields], r.as_dict())
            for r in records]


@pytest.mark.parametrize("case", list(JSON_CASES))
def test_jsonreader_edge_documents(case: str):
    assert json_outcome(pymarc, JSON_CASES[case]) == json_outcome(fastmarc, JSON_CASES[case])


JSON_FILE_CASES = {
    "crlf in a string": ('[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "a\r\nb"}]}]'.encode(), "utf-8"),
    "lone cr between values": (b'[{"leader": "00000nam a2200000 a 4500",\r"fields": [{"001": "a\rb"}]}]', "utf-8"),
    "utf-8 text": ('[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "caf\u00e9 \u6f22"}]}]'.encode(), "utf-8"),
    "invalid utf-8": (b'[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "caf\xe9"}]}]', "utf-8"),
    "utf8 spelled otherwise": ('[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "\u00e9"}]}]'.encode(), "UTF8"),
}


@pytest.mark.parametrize("case", list(JSON_CASES) + list(JSON_FILE_CASES))
def test_jsonreader_reads_files_as_pymarc_does(case: str, tmp_path: Path):
    # A UTF-8 file goes to the core as bytes: what it makes of them is what pymarc makes
    # of the file's text (newlines translated, decoding errors raised).
    data, encoding = JSON_FILE_CASES.get(case, (JSON_CASES.get(case, "").encode(), "utf-8"))
    path = tmp_path / "doc.json"
    path.write_bytes(data)

    def outcome(lib):
        try:
            reader = lib.JSONReader(str(path), encoding=encoding)
            records = list(reader)
        except Exception as exc:  # noqa: BLE001 - the exception is the observable result
            return ("raises", type(exc).__name__)
        return [(str(r.leader), [(f.tag, getattr(f, "data", None)) for f in r.fields], r.as_dict(),
                 reader.records) for r in records]

    assert outcome(pymarc) == outcome(fastmarc)


def test_jsonreader_reads_a_utf8_file_a_window_at_a_time(pymarc_test_dir: Path, tmp_path: Path):
    # pymarc's records, with characters of every UTF-8 length written as they are, repeated
    # to several times the core's 1 MiB window, with a blank line and spaces between
    # records: records cross the window's end at every kind of place.
    records = json.loads((pymarc_test_dir / "batch.json").read_text(encoding="utf-8"))
    for i, rec in enumerate(records):
        rec["fields"].append({"500": {"ind1": " ", "ind2": " ", "subfields": [{"a": f"n\u00e9 \u6f22 \U0001f600 {i}"}]}})
    text = "[" + ",\n \n ".join(json.dumps(r, ensure_ascii=False) for r in records * 800) + "]"
    path = tmp_path / "big.json"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size > 3 << 20

    have, want = fastmarc.JSONReader(str(path)), pymarc.JSONReader(str(path))
    assert have._path == str(path) and have._bytes is None and have._text is None, (
        "the core read the file a window at a time, and the document was not kept"
    )
    assert [r.as_marc() for r in have] == [r.as_marc() for r in want]
    # pymarc's decoded JSON, made when asked for, from the file.
    assert have.records == want.records


def test_jsonreader_records_iteration_and_subclasses(pymarc_test_dir: Path):
    text = (pymarc_test_dir / "batch.json").read_text(encoding="utf-8")
    assert _native.parse_json(text.encode("utf-8")) is not None
    read = fastmarc.JSONReader(text)
    assert len(list(read)) > 1
    assert read._records is None, "the core read the records; the JSON was never decoded in Python"
    want, have = pymarc.JSONReader(text), fastmarc.JSONReader(text)
    assert have.records == want.records
    assert [r.as_marc() for r in want] == [r.as_marc() for r in have]
    # A second pass reads the records again, as pymarc's does.
    assert [r.as_marc() for r in want] == [r.as_marc() for r in have]

    class Tags:
        def __next__(self):
            record_dict = next(self.iter)
            return [list(f)[0] for f in record_dict["fields"]]

    got = [list(type("R", (Tags, lib.JSONReader), {})(text)) for lib in (pymarc, fastmarc)]
    assert got[0] == got[1] and got[0]

    class Replaced(fastmarc.JSONReader):
        def __init__(self, target):
            super().__init__(target)
            self.records = self.records[:1]

    assert len(list(Replaced(text))) == 1


def test_marc8tounicode_keeps_its_sets_between_calls():
    pieces = [b"abc\x1b(2\xe0\xe1", b"\xe2 still hebrew", b"\x1b)1!", b"\x1bb123\x1bs",
              b"\x1b$1!\x22\x23", b"\x1b(Bplain", b"\x1b)Q\xe1", b"\x1bp123"]
    for start in ((0x42, 0x45), (0x32, 0x45), (0x31, 0x45)):
        decoders = [lib.MARC8ToUnicode(*start, quiet=True)
                    for lib in (pymarc.marc8, fastmarc.marc8)]
        for piece in pieces:
            out = []
            for d in decoders:
                try:
                    out.append((d.translate(piece), d.g0, d.g1))
                except Exception as exc:  # noqa: BLE001
                    out.append(("raises", type(exc).__name__, d.g0, d.g1))
            assert out[0] == out[1], (start, piece)


def lookups_then_edits(lib, record) -> list:
    """Fields looked up by tag (made one by one on an untouched fastmarc record), changed,
    then everything that reads the record; each step's result is kept."""
    seen = []

    def keep(compute):
        try:
            seen.append(compute())
        except Exception as exc:  # noqa: BLE001 - the exception is the observable result
            seen.append(("raises", type(exc).__name__))

    keep(lambda: [str(f) for f in record.get_fields("650", "245")])
    title = record["245"] if "245" in record else None
    if title is not None:
        keep(lambda: title["a"])
        title["a"] = "Changed title"
        keep(lambda: record.title)
    subjects = record.subjects
    if subjects:
        subjects[0].tag = "651"
        keep(lambda: [f.tag for f in record.get_fields("650", "651")])
        keep(lambda: "650" in record)
    first = record.get_fields("001", "008")
    if first:
        first[0].data = "changed"
    keep(lambda: str(record))
    keep(lambda: record.as_json())
    keep(lambda: lib.record_to_xml(record))
    keep(lambda: record.as_dict())
    keep(lambda: [f.tag for f in record.fields])
    keep(lambda: record.as_marc())
    return seen


@pytest.mark.parametrize("name", ["marc.dat", "test.dat", "utf8_with_leader_flag.dat"])
def test_fields_looked_up_by_tag_then_changed(name: str, pymarc_test_dir: Path):
    path = pymarc_test_dir / name
    for want, have in zip(records_of(pymarc, path), records_of(fastmarc, path)):
        assert lookups_then_edits(pymarc, want) == lookups_then_edits(fastmarc, have)


def test_looked_up_fields_are_the_listed_fields_and_copies_keep_changes(pymarc_test_dir: Path):
    import copy

    record = records_of(fastmarc, pymarc_test_dir / "marc.dat")[0]
    field = record["245"]
    assert record.get_fields("245")[0] is field
    field["a"] = "Changed"
    shallow, deep = copy.copy(record), copy.deepcopy(record)
    assert shallow["245"] is field
    assert deep["245"] is not field
    assert shallow.title.startswith("Changed") and deep.title.startswith("Changed")
    assert any(f is field for f in record.fields)
    assert record.title.startswith("Changed")
