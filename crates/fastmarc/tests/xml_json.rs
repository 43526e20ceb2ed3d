//! MARCXML and MARC-in-JSON: pymarc's test files, exact output layouts, round trips through
//! ISO 2709, generated records, lenient input as pymarc takes it, and hostile input.

use fastmarc::iso2709::{record_to_bytes, SliceReader};
use fastmarc::json::{
    parse_json, record_to_json, write_record_json, JsonLayout, JsonReader, JsonSliceReader,
    JsonWriter,
};
use fastmarc::xml::{
    parse_xml, record_to_xml, record_to_xml_with, XmlReader, XmlReaderOptions, XmlWriteOptions,
    XmlWriter,
};
use fastmarc::{ErrorKind, Field, Leader, Record, Subfield, Tag};
use proptest::prelude::*;
use std::io::BufReader;
use std::path::PathBuf;

mod common;

// ---- pymarc's test data ----------------------------------------------------------------

fn pymarc_test_dir() -> PathBuf {
    common::pymarc_test_dir()
}

fn pymarc_file(name: &str) -> Vec<u8> {
    let path = pymarc_test_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read pymarc test file {}: {e} (PYMARC_TEST_DIR must be pymarc 5.4.0's test/)",
            path.display()
        )
    })
}

fn open_pymarc_file(name: &str) -> BufReader<std::fs::File> {
    let path = pymarc_test_dir().join(name);
    BufReader::new(
        std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("cannot open pymarc test file {}: {e}", path.display())),
    )
}

fn iso2709_records(name: &str) -> Vec<Record> {
    let data = pymarc_file(name);
    let records: Vec<Record> = SliceReader::new(&data)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!records.is_empty(), "{name} has no records");
    records
}

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

fn subfields(f: &fastmarc::FieldRef<'_>) -> Vec<(char, String)> {
    f.subfields()
        .map(|s| (s.code, s.value.to_string()))
        .collect()
}

#[test]
fn batch_xml_reads_both_records_with_their_content() {
    let records: Vec<Record> = XmlReader::new(open_pymarc_file("batch.xml"))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 2);

    let first = &records[0];
    assert_eq!(first.leader().as_str(), "00925njm  22002777a 4500");
    assert_eq!(first.len(), 18);
    assert_eq!(first.get("001").unwrap().data(), Some("5637241"));
    assert_eq!(
        first.get("008").unwrap().data(),
        Some("910926s1957    nyuuun              eng  ")
    );
    // Leading and trailing blanks in text are data.
    assert_eq!(
        first.get("010").unwrap().subfield('a'),
        Some("   91758335 ")
    );
    let title = first.get("245").unwrap();
    assert_eq!(title.indicators(), ['0', '4']);
    assert_eq!(title.subfield('a'), Some("The Great Ray Charles"));
    assert_eq!(title.subfield('h'), Some("[sound recording]."));
    let subject = first.get("650").unwrap();
    assert_eq!(subject.indicators(), [' ', '0']);
    assert_eq!(
        subfields(&subject),
        [('a', "Jazz".to_string()), ('y', "1951-1960.".to_string())]
    );
    let tags: Vec<String> = first.fields().map(|f| f.tag().to_string()).collect();
    assert_eq!(tags.first().map(String::as_str), Some("001"));
    assert_eq!(tags.last().map(String::as_str), Some("700"));

    let second = &records[1];
    assert_eq!(second.leader().as_str(), "01832cmma 2200349 a 4500");
    assert_eq!(second.len(), 27);
    assert_eq!(second.get("001").unwrap().data(), Some("12149120"));
    let title = second.get("245").unwrap();
    assert_eq!(title.subfield('a'), Some("The White House"));
    assert_eq!(title.subfield('h'), Some("[computer file]."));

    // Only-the-MARC-namespace reading (pymarc's strict=True) finds the same records.
    let strict: Vec<Record> = XmlReader::with_options(
        open_pymarc_file("batch.xml"),
        XmlReaderOptions {
            marc_namespace_only: true,
            ..XmlReaderOptions::default()
        },
    )
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(strict, records);
}

#[test]
fn utf8_xml_keeps_non_ascii_text() {
    let records = parse_xml(&pymarc_file("utf8.xml")).unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.leader().as_str(), "00640njm a2200205uu 4500");
    assert_eq!(r.len(), 8);
    assert_eq!(r.get("505").unwrap().indicators(), ['0', '0']);
    assert_eq!(r.get("505").unwrap().subfield('t'), Some("Préludes"));
    assert_eq!(
        r.get("008").unwrap().data(),
        Some("100813s9999    xx ||nn s|||||||||||||| d")
    );
    assert_eq!(
        r.get("856").unwrap().subfield('u'),
        Some("http://www.aspresolver.com/aspresolver.asp?CLMU;925318")
    );
}

#[test]
fn pymarc_bad_tag_xml_is_an_error_for_its_short_leader() {
    let results: Vec<_> = XmlReader::new(&pymarc_file("bad_tag.xml")[..]).collect();
    assert_eq!(results.len(), 1);
    let err = results[0].as_ref().unwrap_err();
    assert!(
        matches!(&err.kind(), ErrorKind::Xml(m) if m.contains("leader")),
        "{err}"
    );
    assert_eq!(err.record(), Some(0));
}

#[test]
fn batch_json_holds_the_same_records_as_batch_xml() {
    let from_json = parse_json(&pymarc_file("batch.json")).unwrap();
    let from_xml = parse_xml(&pymarc_file("batch.xml")).unwrap();
    assert_eq!(from_json.len(), 2);
    assert_eq!(from_json, from_xml);
    let streamed: Vec<Record> = JsonReader::new(open_pymarc_file("batch.json"))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(streamed, from_json);
}

/// Escape raw control characters inside JSON strings (what Python's strict=False allows).
fn escape_raw_newlines(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in data {
        if in_string && !escaped && b < 0x20 {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            continue;
        }
        out.push(b);
        if escaped {
            escaped = false;
        } else if in_string && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            in_string = !in_string;
        }
    }
    out
}

/// The start of a possibly huge input, for failure messages.
fn shown(data: &[u8]) -> String {
    let s = String::from_utf8_lossy(data);
    match s.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.into_owned(),
    }
}

#[test]
fn test_json_records_serialise_back_to_the_same_json_values() {
    let data = pymarc_file("test.json");
    let records = parse_json(&data).unwrap();
    // test.json has raw newlines inside strings, which pymarc reads with
    // json.load(strict=False); escape them for serde_json's strict reference parse.
    let source: serde_json::Value = serde_json::from_slice(&escape_raw_newlines(&data)).unwrap();
    let source = source.as_array().expect("test.json is an array");
    assert_eq!(records.len(), source.len());
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.leader().as_str(), "01471cjm a2200349 a 4500");
    assert_eq!(r.len(), 27);
    // In test.json "subfields" comes before the indicators.
    let f991 = r.get("991").unwrap();
    assert_eq!(f991.indicators(), [' ', ' ']);
    assert_eq!(
        subfields(&f991),
        [
            ('b', "c-RecSound".to_string()),
            ('h', "Columbia CS 8786".to_string()),
            ('w', "MUSIC".to_string())
        ]
    );
    for (rec, original) in records.iter().zip(source) {
        let written: serde_json::Value = serde_json::from_str(&record_to_json(rec)).unwrap();
        assert_eq!(&written, original);
    }
    let streamed: Vec<Record> = JsonReader::new(&data[..])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(streamed, records);
}

#[test]
fn one_json_is_a_single_object_equal_to_one_dat() {
    let records = parse_json(&pymarc_file("one.json")).unwrap();
    assert_eq!(records.len(), 1);
    let from_json = &records[0];
    assert_eq!(from_json.leader().as_str(), "00755cam  22002414a 4500");
    assert_eq!(from_json.len(), 18);
    assert_eq!(from_json.get("001").unwrap().data(), Some("fol05731351 "));
    let f630 = from_json.fields().last().unwrap();
    assert_eq!(f630.tag().as_str(), "630");
    assert_eq!(f630.indicators(), ['0', '0']);
    assert_eq!(f630.subfield('a'), Some("ActiveX."));

    let from_dat = &iso2709_records("one.dat")[0];
    assert!(from_json.fields().eq(from_dat.fields()));
    // As pymarc's test compares as_marc(): the transmission format is the same.
    assert_eq!(
        record_to_bytes(from_json).unwrap(),
        record_to_bytes(from_dat).unwrap()
    );
}

// ---- exact output layouts ------------------------------------------------------------

fn leader(s: &str) -> Leader {
    Leader::from_bytes(s.as_bytes()).unwrap()
}

fn sample() -> Record {
    let mut r = Record::with_leader(leader("          22        4500"));
    r.push(&Field::control(
        tag("008"),
        "090227s2009    mau                 chi d",
    ));
    r.push(&Field::data(
        tag("100"),
        '0',
        '0',
        vec![Subfield::new('a', "me")],
    ));
    r.push(&Field::data(
        tag("245"),
        '0',
        '0',
        vec![Subfield::new('a', "Foo /"), Subfield::new('c', "by me.")],
    ));
    r
}

const SAMPLE_XML_BODY: &str = "<leader>          22        4500</leader>\
<controlfield tag=\"008\">090227s2009    mau                 chi d</controlfield>\
<datafield ind1=\"0\" ind2=\"0\" tag=\"100\"><subfield code=\"a\">me</subfield></datafield>\
<datafield ind1=\"0\" ind2=\"0\" tag=\"245\"><subfield code=\"a\">Foo /</subfield>\
<subfield code=\"c\">by me.</subfield></datafield></record>";

#[test]
fn xml_writer_writes_pymarcs_collection_layout() {
    let empty = XmlWriter::new(Vec::new()).finish().unwrap();
    assert_eq!(
        String::from_utf8(empty).unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <collection xmlns=\"http://www.loc.gov/MARC21/slim\"></collection>"
    );

    let mut w = XmlWriter::new(Vec::new());
    w.write_record(&sample()).unwrap();
    w.write_record(&Record::with_leader(leader("          22        4500")))
        .unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        out,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <collection xmlns=\"http://www.loc.gov/MARC21/slim\">\
             <record>{SAMPLE_XML_BODY}\
             <record><leader>          22        4500</leader></record>\
             </collection>"
        )
    );
    let back = parse_xml(out.as_bytes()).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0], sample());
}

#[test]
fn record_to_xml_escapes_like_element_tree() {
    assert_eq!(
        record_to_xml(&sample()),
        format!("<record>{SAMPLE_XML_BODY}")
    );

    let mut r = Record::with_leader(leader("          22        4500"));
    r.push(&Field::control(tag("001"), "a<b>&\"'é"));
    r.push(&Field::data(
        tag("245"),
        '"',
        '&',
        vec![
            Subfield::new('a', "x<&>\"' é😀\n\t"),
            Subfield::new('<', ""),
        ],
    ));
    r.push(&Field::data(tag("500"), ' ', ' ', vec![]));
    r.push(&Field::control(tag("009"), ""));
    let body = "<leader>          22        4500</leader>\
        <controlfield tag=\"001\">a&lt;b&gt;&amp;\"'&#233;</controlfield>\
        <datafield ind1=\"&quot;\" ind2=\"&amp;\" tag=\"245\">\
        <subfield code=\"a\">x&lt;&amp;&gt;\"' &#233;&#128512;\n\t</subfield>\
        <subfield code=\"&lt;\" /></datafield>\
        <datafield ind1=\" \" ind2=\" \" tag=\"500\" />\
        <controlfield tag=\"009\" /></record>";
    assert_eq!(record_to_xml(&r), format!("<record>{body}"));
    assert_eq!(
        record_to_xml_with(
            &r,
            XmlWriteOptions {
                namespace: true,
                ascii: true
            }
        ),
        format!(
            "<record xmlns=\"http://www.loc.gov/MARC21/slim\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://www.loc.gov/MARC21/slim \
             http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd\">{body}"
        )
    );
    let utf8 = record_to_xml_with(&r, XmlWriteOptions::default());
    assert!(utf8.contains("\"' é😀\n\t</subfield>"), "{utf8}");
    for xml in [record_to_xml(&r), utf8] {
        assert_eq!(parse_xml(xml.as_bytes()).unwrap(), vec![r.clone()]);
    }
}

#[test]
fn record_to_json_matches_python_json_dumps() {
    let mut r = Record::with_leader(leader("          22        4500"));
    r.push(&Field::data(
        tag("245"),
        '1',
        '0',
        vec![Subfield::new('a', "Python"), Subfield::new('c', "Guido")],
    ));
    assert_eq!(
        record_to_json(&r),
        "{\"leader\": \"          22        4500\", \"fields\": [{\"245\": {\"ind1\": \"1\", \
         \"ind2\": \"0\", \"subfields\": [{\"a\": \"Python\"}, {\"c\": \"Guido\"}]}}]}"
    );

    let mut r = Record::with_leader(leader("          22        4500"));
    r.push(&Field::control(tag("001"), "a<b>&\"'é\r\t\u{1}"));
    r.push(&Field::data(
        tag("245"),
        '"',
        '&',
        vec![
            Subfield::new('a', "x\\/ é😀\n\u{7f}"),
            Subfield::new('<', ""),
        ],
    ));
    r.push(&Field::data(tag("500"), ' ', ' ', vec![]));
    let spaced = "{\"leader\": \"          22        4500\", \"fields\": [\
        {\"001\": \"a<b>&\\\"'\\u00e9\\r\\t\\u0001\"}, \
        {\"245\": {\"ind1\": \"\\\"\", \"ind2\": \"&\", \"subfields\": \
        [{\"a\": \"x\\\\/ \\u00e9\\ud83d\\ude00\\n\\u007f\"}, {\"<\": \"\"}]}}, \
        {\"500\": {\"ind1\": \" \", \"ind2\": \" \", \"subfields\": []}}]}";
    assert_eq!(record_to_json(&r), spaced);
    assert!(record_to_json(&r).is_ascii());

    let mut compact = String::new();
    write_record_json(&r, JsonLayout::Compact, &mut compact);
    let expected_compact = spaced.replace("\", \"", "\",\"").replace(", {", ",{");
    let expected_compact = expected_compact
        .replace("\": ", "\":")
        .replace("], \"", "],\"")
        .replace("\"\", \"", "\"\",\"");
    assert_eq!(compact, expected_compact);
    assert!(
        !compact.contains(", ") && !compact.contains(": "),
        "{compact}"
    );

    let back = parse_json(spaced.as_bytes()).unwrap();
    assert_eq!(back, vec![r.clone()]);
    assert_eq!(parse_json(compact.as_bytes()).unwrap(), vec![r]);
}

#[test]
fn json_writer_writes_an_array_like_pymarcs_json_writer() {
    assert_eq!(JsonWriter::new(Vec::new()).finish().unwrap(), b"[]");

    let records = [
        sample(),
        Record::with_leader(leader("          22        4500")),
    ];
    let mut w = JsonWriter::new(Vec::new());
    for r in &records {
        w.write_record(r).unwrap();
    }
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    let mut expected = String::from("[");
    write_record_json(&records[0], JsonLayout::Compact, &mut expected);
    expected.push(',');
    write_record_json(&records[1], JsonLayout::Compact, &mut expected);
    expected.push(']');
    assert_eq!(out, expected);
    assert!(out.ends_with(",{\"leader\":\"          22        4500\",\"fields\":[]}]"));
    assert_eq!(parse_json(out.as_bytes()).unwrap(), records);

    let mut w = JsonWriter::with_layout(Vec::new(), JsonLayout::Spaced);
    for r in &records {
        w.write_record(r).unwrap();
    }
    let spaced = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        spaced,
        format!(
            "[{}, {}]",
            record_to_json(&records[0]),
            record_to_json(&records[1])
        )
    );
}

// ---- ISO 2709 <-> XML <-> JSON ---------------------------------------------------------

fn xml_collection(records: &[Record], opts: XmlWriteOptions) -> Vec<u8> {
    let mut w = XmlWriter::with_options(Vec::new(), opts);
    for r in records {
        w.write_record(r).unwrap();
    }
    w.finish().unwrap()
}

fn json_array(records: &[Record], layout: JsonLayout) -> Vec<u8> {
    let mut w = JsonWriter::with_layout(Vec::new(), layout);
    for r in records {
        w.write_record(r).unwrap();
    }
    w.finish().unwrap()
}

fn round_trip_through_xml_and_json(name: &str) {
    let records = iso2709_records(name);
    let originals: Vec<Vec<u8>> = records
        .iter()
        .map(|r| record_to_bytes(r).unwrap())
        .collect();

    for opts in [
        XmlWriteOptions::default(),
        XmlWriteOptions {
            namespace: true,
            ascii: true,
        },
    ] {
        let xml = xml_collection(&records, opts);
        let from_xml: Vec<Record> = XmlReader::new(&xml[..])
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_xml, records, "{name} through XML");

        // XML -> JSON -> ISO 2709 gives back the original transmission format.
        let json = json_array(&from_xml, JsonLayout::Compact);
        let from_json = parse_json(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        let streamed: Vec<Record> = JsonReader::new(&json[..])
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(from_json, records, "{name} through XML and JSON");
        assert_eq!(streamed, records);
        let trickled: Vec<Record> = JsonReader::new(BufReader::with_capacity(3, &json[..]))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(trickled, records);
        let trickled: Vec<Record> = XmlReader::new(BufReader::with_capacity(3, &xml[..]))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(trickled, records);
        let bytes: Vec<Vec<u8>> = from_json
            .iter()
            .map(|r| record_to_bytes(r).unwrap())
            .collect();
        assert_eq!(bytes, originals, "{name}: ISO 2709 after XML and JSON");
    }
    for r in &records {
        assert_eq!(
            parse_xml(record_to_xml(r).as_bytes()).unwrap(),
            vec![r.clone()]
        );
        assert_eq!(
            parse_json(record_to_json(r).as_bytes()).unwrap(),
            vec![r.clone()]
        );
    }
}

#[test]
fn test_dat_survives_xml_and_json() {
    round_trip_through_xml_and_json("test.dat");
}

#[test]
fn utf8_with_leader_flag_survives_xml_and_json() {
    round_trip_through_xml_and_json("utf8_with_leader_flag.dat");
}

// ---- generated records -----------------------------------------------------------------

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,16}",
        "[<&>\"' a-zé中😀]{0,12}",
        Just(String::new()),
        Just("  leading and trailing  ".to_string()),
        Just("]]> &amp; &lt;".to_string()),
    ]
}

fn arb_char() -> impl Strategy<Value = char> {
    prop_oneof![proptest::char::range(' ', '~'), Just('é'), Just('中'),]
}

fn arb_field() -> impl Strategy<Value = Field> {
    let arb_tag = "[0-9A-Za-z <&\"']{3}".prop_map(|s| Tag::new(&s).unwrap());
    prop_oneof![
        (arb_tag.clone(), arb_text()).prop_map(|(t, d)| Field::control(t, d)),
        (
            arb_tag,
            arb_char(),
            arb_char(),
            prop::collection::vec((arb_char(), arb_text()), 0..5)
        )
            .prop_map(|(t, i1, i2, subs)| Field::data(
                t,
                i1,
                i2,
                subs.into_iter().map(|(c, v)| Subfield::new(c, v)).collect()
            )),
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    ("[ -~]{24}", prop::collection::vec(arb_field(), 0..8)).prop_map(|(l, fields)| {
        let mut r = Record::with_leader(Leader::from_bytes(l.as_bytes()).unwrap());
        for f in &fields {
            r.push(f);
        }
        r
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_records_survive_xml(records in prop::collection::vec(arb_record(), 0..4)) {
        for opts in [
            XmlWriteOptions::default(),
            XmlWriteOptions { namespace: true, ascii: true },
        ] {
            let xml = xml_collection(&records, opts);
            let back: Vec<Record> = XmlReader::new(&xml[..]).collect::<Result<_, _>>()
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&xml))))?;
            prop_assert_eq!(&back, &records);
        }
        for r in &records {
            prop_assert_eq!(parse_xml(record_to_xml(r).as_bytes()).unwrap(), vec![r.clone()]);
        }
    }

    #[test]
    fn generated_records_survive_json(records in prop::collection::vec(arb_record(), 0..4)) {
        for layout in [JsonLayout::Compact, JsonLayout::Spaced] {
            let json = json_array(&records, layout);
            // Python's ensure_ascii output, and valid JSON for any parser.
            prop_assert!(json.is_ascii());
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
            prop_assert_eq!(value.as_array().map(Vec::len), Some(records.len()));
            let back = parse_json(&json)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&json))))?;
            prop_assert_eq!(&back, &records);
            let streamed: Vec<Record> = JsonReader::new(&json[..]).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&streamed, &records);
        }
        for r in &records {
            prop_assert_eq!(parse_json(record_to_json(r).as_bytes()).unwrap(), vec![r.clone()]);
        }
    }
}

// ---- what pymarc accepts ---------------------------------------------------------------

fn one_xml(xml: &str) -> Record {
    let mut records = parse_xml(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(records.len(), 1, "{xml}");
    records.remove(0)
}

fn xml_error(xml: &str) -> fastmarc::Error {
    let results: Vec<_> = XmlReader::new(xml.as_bytes()).collect();
    // The slice reading (what parse_xml uses) fails the same way.
    let from_slice: Vec<_> =
        XmlReader::from_slice(xml.as_bytes(), XmlReaderOptions::default()).collect();
    assert_eq!(from_slice, results, "{}", shown(xml.as_bytes()));
    match results.last() {
        Some(Err(e)) => e.clone(),
        _ => panic!(
            "expected an error for {}, got {} results",
            shown(xml.as_bytes()),
            results.len()
        ),
    }
}

const L: &str = "00000nam a2200000 a 4500";

#[test]
fn xml_reading_is_as_lenient_as_pymarc() {
    // No namespace, a lone record, missing indicators, an empty subfield, a two-digit tag,
    // a control field with a data field's tag, CDATA, references, kept whitespace.
    let r = one_xml(&format!(
        "<record><leader>{L}</leader>\
         <controlfield tag=\"245\"> not a data field </controlfield>\
         <datafield tag=\"42\"><subfield code=\"a\"/><subfield code=\"b\">\
         x <![CDATA[<raw> & ]]>&#233;&#x1F600;&lt;&amp;&gt;&quot;&apos;\r\ny\r</subfield>\
         </datafield></record>"
    ));
    assert_eq!(r.leader().as_str(), L);
    let control = r.field(0).unwrap();
    assert!(control.is_control());
    assert_eq!(control.tag().as_str(), "245");
    assert_eq!(control.data(), Some(" not a data field "));
    let data = r.field(1).unwrap();
    assert_eq!(data.tag().as_str(), "042");
    assert_eq!(data.indicators(), [' ', ' ']);
    assert_eq!(
        subfields(&data),
        [
            ('a', String::new()),
            ('b', "x <raw> & é😀<&>\"'\ny\n".to_string())
        ]
    );

    // A record with no leader element keeps the default leader.
    let r = one_xml(
        "<collection><record><controlfield tag=\"001\">x</controlfield></record></collection>",
    );
    assert_eq!(*r.leader(), Leader::default());

    // Attribute values: references resolved, literal newlines normalised to spaces.
    let r = one_xml(
        "<record><datafield tag=\"&#50;45\" ind1=\"&#x31;\" ind2='\n'>\
         <subfield code=\"&amp;\">v</subfield></datafield></record>",
    );
    let f = r.get("245").unwrap();
    assert_eq!(f.indicators(), ['1', ' ']);
    assert_eq!(f.subfield('&'), Some("v"));
}

#[test]
fn xml_prefixes_namespaces_and_wrappers() {
    let prefixed = format!(
        "<?xml version=\"1.0\"?><!-- c --><m:collection xmlns:m=\"http://www.loc.gov/MARC21/slim\">\
         <m:record><m:leader>{L}</m:leader><m:controlfield tag=\"001\">1</m:controlfield>\
         </m:record><m:record><m:leader>{L}</m:leader></m:record></m:collection>"
    );
    let records = parse_xml(prefixed.as_bytes()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].get("001").unwrap().data(), Some("1"));
    assert!(records[1].is_empty());

    // An OAI-PMH response: its own <record> wraps the MARC record; the inner one counts.
    let oai = format!(
        "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\"><ListRecords><record>\
         <header><identifier>oai:x:1</identifier></header><metadata>\
         <marc:record xmlns:marc=\"http://www.loc.gov/MARC21/slim\"><marc:leader>{L}</marc:leader>\
         <marc:controlfield tag=\"001\">inner</marc:controlfield></marc:record>\
         </metadata></record></ListRecords></OAI-PMH>"
    );
    let records = parse_xml(oai.as_bytes()).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].get("001").unwrap().data(), Some("inner"));

    // Only the MARC namespace: elements elsewhere are skipped, their text joins the parent's.
    let mixed = format!(
        "<collection xmlns=\"http://www.loc.gov/MARC21/slim\" xmlns:x=\"urn:x\">\
         <record><leader>{L}</leader><datafield tag=\"245\" ind1=\"1\" ind2=\"0\">\
         <subfield code=\"a\">one <x:b>two</x:b> three</subfield></datafield></record>\
         <x:record><leader>{L}</leader></x:record></collection>"
    );
    let strict = XmlReaderOptions {
        marc_namespace_only: true,
        ..XmlReaderOptions::default()
    };
    let records: Vec<Record> = XmlReader::with_options(mixed.as_bytes(), strict)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].get("245").unwrap().subfield('a'),
        Some("one two three")
    );
    // Without the restriction `x:record` is a record too, and inner markup resets the text
    // as in pymarc's SAX handler.
    let records = parse_xml(mixed.as_bytes()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].get("245").unwrap().subfield('a'), Some(" three"));

    // Unprefixed elements outside any namespace are read under the restriction? No.
    let records: Vec<Record> = XmlReader::with_options(
        format!("<record><leader>{L}</leader></record>").as_bytes(),
        strict,
    )
    .collect::<Result<_, _>>()
    .unwrap();
    assert!(records.is_empty());
}

#[test]
fn xml_normalisation_is_applied_when_asked() {
    let xml = format!(
        "<record><leader>{L}</leader><controlfield tag=\"001\">e\u{301}</controlfield></record>"
    );
    assert_eq!(one_xml(&xml).get("001").unwrap().data(), Some("e\u{301}"));
    let nfc = XmlReaderOptions {
        normalization: Some(fastmarc::xml::UnicodeForm::Nfc),
        ..XmlReaderOptions::default()
    };
    let r = XmlReader::with_options(xml.as_bytes(), nfc)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(r.get("001").unwrap().data(), Some("é"));
}

#[test]
fn xml_errors_say_what_and_where() {
    let bad_leader = format!(
        "<collection><record><leader>{L}</leader></record>\n<record><leader>short</leader></record></collection>"
    );
    let e = xml_error(&bad_leader);
    assert_eq!(e.record(), Some(1));
    let at = e.offset().unwrap() as usize;
    let second = bad_leader.find("\n<record>").unwrap();
    assert!(at > second && at < bad_leader.len(), "offset {at}");
    assert!(
        matches!(&e.kind(), ErrorKind::Xml(m) if m.contains("leader \"short\"")),
        "{e}"
    );

    for (xml, needle, record) in [
        ("<record><controlfield>x</controlfield></record>", "no tag attribute", 0),
        ("<record><datafield tag=\"2450\"/></record>", "tag \"2450\"", 0),
        ("<record><datafield tag=\"245\" ind1=\"10\"/></record>", "ind1", 0),
        ("<record><datafield tag=\"245\"><subfield code=\"ab\">x</subfield></datafield></record>", "subfield code", 0),
        ("<record><datafield tag=\"245\"><subfield>x</subfield></datafield></record>", "no code attribute", 0),
        ("<record><datafield tag=\"245\"><datafield tag=\"246\"/></datafield></record>", "inside another field", 0),
        ("<record><leader>x</record>", "leader", 0),
        ("<record></record><record></record>", "after the root", 1),
        ("<record></record>junk", "outside the root", 1),
        ("", "no root element", 0),
        ("<collection><record>", "ends inside", 0),
        ("<record>&bogus;</record>", "bogus", 0),
        // Characters XML 1.0 does not allow, anywhere in the document, as themselves or
        // as references.
        ("<record>\u{0}</record>", "U+0000 is not allowed", 0),
        ("<record><leader>x\u{1b}</leader></record>", "U+001B", 0),
        ("<record><controlfield tag=\"00\u{3}\">x</controlfield></record>", "U+0003", 0),
        ("<record></record>\u{1}", "U+0001", 1),
        ("<record><leader>\u{fffe}</leader></record>", "U+FFFE", 0),
        ("<record><leader>&#1;</leader></record>", "U+0001", 0),
        ("<record><datafield tag=\"245\" ind1=\"&#x1F;\"/></record>", "U+001F", 0),
        // Start tags and the declaration as XML 1.0 has them.
        ("<record><datafield tag=\"245\" ind1=\"1\"ind2=\"0\"/></record>", "white space", 0),
        ("<record><datafield tag=\"245\" 1nd1=\"1\"/></record>", "not an XML name", 0),
        ("<record id=\"&nbsp;\"></record>", "&nbsp;", 0),
        ("<record id=\"1\" id=\"2\"></record>", "duplicate attribute id", 0),
        ("<record><x y=\"a<b\"/></record>", "'<'", 0),
        ("<record><1x/></record>", "not an XML name", 0),
        ("<?xml encoding=\"UTF-8\" version=\"1.0\"?><record/>", "XML declaration", 0),
        ("<record><?xml version=\"1.0\"?></record>", "inside the document", 0),
        ("<record><datafield tag=\"245\" tag=\"246\"/></record>", "duplicate", 0),
    ] {
        let e = xml_error(xml);
        assert!(
            matches!(&e.kind(), ErrorKind::Xml(m) if m.contains(needle)),
            "{xml}: {e}"
        );
        assert_eq!(e.record(), Some(record), "{xml}");
        assert!(e.offset().is_some());
    }
    // Not UTF-8.
    let e = XmlReader::new(&b"<record><leader>\xff</leader></record>"[..])
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&e.kind(), ErrorKind::Xml(m) if m.contains("UTF-8")),
        "{e}"
    );
}

fn one_json(json: &str) -> Record {
    let mut records = parse_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{json}"));
    assert_eq!(records.len(), 1);
    let streamed: Vec<Record> = JsonReader::new(json.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(streamed, records, "streaming and slice readers differ");
    records.remove(0)
}

fn json_error(json: &[u8]) -> fastmarc::Error {
    let from_slice: Vec<_> = JsonSliceReader::new(json).collect();
    let streamed: Vec<_> = JsonReader::new(json).collect();
    let (Some(Err(e)), Some(Err(s))) = (from_slice.last(), streamed.last()) else {
        panic!(
            "expected an error for {}, got {from_slice:?} / {streamed:?}",
            shown(json)
        );
    };
    assert_eq!(from_slice.len(), streamed.len());
    assert_eq!(e.record(), s.record());
    e.clone()
}

#[test]
fn json_reading_is_as_lenient_as_pymarc() {
    // Indicators after subfields or missing, unknown keys, several subfields in one object,
    // only the first entry of a field object, a two-digit tag, a BOM.
    let r = one_json(&format!(
        "\u{feff} {{\"x\": [1, {{\"y\": null}}], \"fields\": [\
         {{\"245\": {{\"subfields\": [{{\"a\": \"A\", \"b\": \"B\"}}, {{}}], \"ind2\": \"0\", \"other\": 1, \"ind1\": \"1\"}}}},\
         {{\"42\": {{\"subfields\": [], \"ind1\": \"\"}}}},\
         {{\"500\": {{}}, \"600\": \"ignored\"}},\
         {{\"001\": \"abc\"}}], \"leader\": \"{L}\"}} "
    ));
    assert_eq!(r.leader().as_str(), L);
    assert_eq!(r.len(), 4);
    let f = r.get("245").unwrap();
    assert_eq!(f.indicators(), ['1', '0']);
    assert_eq!(
        subfields(&f),
        [('a', "A".to_string()), ('b', "B".to_string())]
    );
    assert_eq!(r.get("042").unwrap().indicators(), [' ', ' ']);
    assert!(r.get("600").is_none());
    assert_eq!(r.get("500").unwrap().subfields().len(), 0);
    assert_eq!(r.get("001").unwrap().data(), Some("abc"));

    // Raw control characters inside strings, as json.load(strict=False) takes them.
    let raw = format!("[{{\"leader\": \"{L}\", \"fields\": [{{\"001\": \"a\u{1f}b\nc\tč\"}}]}}]");
    assert_eq!(
        one_json(&raw).get("001").unwrap().data(),
        Some("a\u{1f}b\nc\tč")
    );
    let trickled = JsonReader::new(BufReader::with_capacity(2, raw.as_bytes()))
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(trickled.get("001").unwrap().data(), Some("a\u{1f}b\nc\tč"));

    // An empty array is no records.
    assert!(parse_json(b" [ ] ").unwrap().is_empty());
    assert_eq!(JsonReader::new(&b"[]"[..]).count(), 0);
}

#[test]
fn json_errors_say_what_and_where() {
    let second_bad = format!(
        "[{{\"leader\": \"{L}\", \"fields\": []}},\n {{\"leader\": \"short\", \"fields\": []}}]"
    );
    let e = json_error(second_bad.as_bytes());
    assert_eq!(e.record(), Some(1));
    let at = e.offset().unwrap() as usize;
    let start = second_bad.find("\n {").unwrap();
    let leader_end = second_bad.find("short\"").unwrap() + 6;
    assert!(
        at > start && at <= leader_end,
        "offset {at} not in {start}..={leader_end}"
    );
    assert!(
        matches!(&e.kind(), ErrorKind::Json(m) if m.contains("leader \"short\"")),
        "{e}"
    );

    // The offset survives escaping of raw control characters earlier in the input.
    let after_raw = format!(
        "[{{\"leader\": \"{L}\", \"fields\": [{{\"001\": \"\u{1}\u{1}\"}}]}},\n{{\"leader\": 5}}]"
    );
    let e = JsonSliceReader::new(after_raw.as_bytes())
        .nth(1)
        .unwrap()
        .unwrap_err();
    let s = JsonReader::new(after_raw.as_bytes())
        .nth(1)
        .unwrap()
        .unwrap_err();
    // serde_json reports the position just after the offending token.
    let five = after_raw.find(": 5}").unwrap() + 2;
    for err in [e, s] {
        let at = err.offset().unwrap() as usize;
        assert!(
            (five..=five + 2).contains(&at),
            "{err}: expected about {five}"
        );
    }

    for (json, needle, record) in [
        ("{\"fields\": []}".to_string(), "no \"leader\"", 0),
        (format!("{{\"leader\": \"{L}\"}}"), "no \"fields\"", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": [{{}}]}}"), "no tag", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": [{{\"2450\": \"x\"}}]}}"), "tag \"2450\"", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": [{{\"001\": 5}}]}}"), "001", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": [{{\"245\": {{\"ind1\": \"ab\"}}}}]}}"), "ind1", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": [{{\"245\": {{\"subfields\": [{{\"ab\": \"x\"}}]}}}}]}}"), "subfield code", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": [{{\"245\": {{\"subfields\": [{{\"a\": 1}}]}}}}]}}"), "subfield value", 0),
        (format!("{{\"leader\": \"{L}\", \"fields\": []}} x"), "trailing", 1),
        (format!("[{{\"leader\": \"{L}\", \"fields\": []}} {{}}]"), "expected ','", 1),
        (format!("[{{\"leader\": \"{L}\", \"fields\": []}}, ]"), "trailing comma", 1),
        (format!("[{{\"leader\": \"{L}\", \"fields\": []}},"), "end of input", 1),
        ("5".to_string(), "expected an array", 0),
        ("".to_string(), "empty", 0),
        ("[1]".to_string(), "record object", 0),
    ] {
        let e = json_error(json.as_bytes());
        assert!(
            matches!(&e.kind(), ErrorKind::Json(m) if m.contains(needle)),
            "{json}: {e}"
        );
        assert_eq!(e.record(), Some(record), "{json}");
        assert!(e.offset().is_some());
    }
}

// ---- hostile input ---------------------------------------------------------------------

#[test]
fn billion_laughs_is_an_error_without_expansion() {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        xml.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    xml.push_str("]>\n<collection><record><leader>&lol9;</leader></record></collection>");
    let e = xml_error(&xml);
    assert!(
        matches!(&e.kind(), ErrorKind::Xml(m) if m.contains("&lol9;") && m.contains("not expanded")),
        "{e}"
    );

    // Also in an attribute, and for an external entity.
    let in_attr = "<!DOCTYPE r [<!ENTITY t \"245\">]><record><datafield tag=\"&t;\"/></record>";
    assert!(matches!(&xml_error(in_attr).kind(), ErrorKind::Xml(m) if m.contains("not expanded")));
    let external = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
        <record><controlfield tag=\"001\">&x;</controlfield></record>";
    assert!(matches!(&xml_error(external).kind(), ErrorKind::Xml(m) if m.contains("&x;")));

    // A DOCTYPE whose entities are not used is harmless.
    let unused = format!("<!DOCTYPE r [<!ENTITY t \"x\">]><record><leader>{L}</leader></record>");
    assert_eq!(one_xml(&unused).leader().as_str(), L);
}

#[test]
fn deep_xml_nesting_is_an_error() {
    let depth = 100_000;
    let xml = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let e = xml_error(&xml);
    assert!(
        matches!(&e.kind(), ErrorKind::Xml(m) if m.contains("nested deeper")),
        "{e}"
    );
    // The limit is adjustable, and MARCXML inside a few wrappers is well within the default.
    let shallow = XmlReaderOptions {
        max_depth: 2,
        ..XmlReaderOptions::default()
    };
    let three = format!("<collection><record><leader>{L}</leader></record></collection>");
    assert!(XmlReader::with_options(three.as_bytes(), shallow)
        .next()
        .unwrap()
        .is_err());
}

#[test]
fn deep_json_nesting_is_an_error() {
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let e = json_error(arrays.as_bytes());
    assert!(matches!(e.kind().clone(), ErrorKind::Json(_)), "{e}");

    // Deep nesting inside a value that is otherwise skipped hits serde_json's limit.
    let hidden = format!(
        "{{\"leader\": \"{L}\", \"fields\": [], \"x\": {}{}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let e = json_error(hidden.as_bytes());
    assert!(
        matches!(&e.kind(), ErrorKind::Json(m) if m.contains("recursion limit")),
        "{e}"
    );
    let objects = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    assert!(matches!(
        json_error(objects.as_bytes()).kind(),
        ErrorKind::Json(_)
    ));
}

/// Read every `stride`th prefix (and those just before and at the end): the records before the cut come out unchanged, and a cut before the
/// document's end is an error; nothing panics.
fn check_prefixes(
    data: &[u8],
    complete_from: usize,
    stride: usize,
    read: &dyn Fn(&[u8]) -> Vec<fastmarc::Result<Record>>,
) {
    let full: Vec<Record> = read(data).into_iter().collect::<Result<_, _>>().unwrap();
    let cuts = (0..=data.len())
        .step_by(stride)
        .chain(complete_from - 1..=complete_from);
    for cut in cuts {
        let results = read(&data[..cut]);
        let ok = results.iter().take_while(|r| r.is_ok()).count();
        assert!(ok + 1 >= results.len(), "cut {cut}: results after an error");
        for (got, want) in results.iter().take(ok).zip(&full) {
            assert_eq!(got.as_ref().unwrap(), want, "cut {cut}");
        }
        if cut < complete_from {
            assert!(
                results.last().is_some_and(|r| r.is_err()),
                "cut {cut} of {}: no error",
                data.len()
            );
        } else {
            assert_eq!(ok, full.len(), "cut {cut}");
        }
    }
}

#[test]
fn truncated_xml_gives_the_records_before_it_then_an_error() {
    let data = pymarc_file("batch.xml");
    let end = data
        .windows(19)
        .rposition(|w| w == b"</marc:collection>\r")
        .unwrap()
        + 18;
    check_prefixes(&data, end, 1, &|d| XmlReader::new(d).collect());
    // Input arriving in small pieces.
    check_prefixes(&data, end, 13, &|d| {
        XmlReader::new(BufReader::with_capacity(5, d)).collect()
    });
}

#[test]
fn truncated_json_gives_the_records_before_it_then_an_error() {
    let data = pymarc_file("batch.json");
    let end = data.iter().rposition(|&b| b == b']').unwrap() + 1;
    check_prefixes(&data, end, 1, &|d| JsonSliceReader::new(d).collect());
    check_prefixes(&data, end, 1, &|d| JsonReader::new(d).collect());
    // Input arriving in small pieces.
    check_prefixes(&data, end, 13, &|d| {
        JsonReader::new(BufReader::with_capacity(7, d)).collect()
    });
    let one = pymarc_file("one.json");
    let end = one.iter().rposition(|&b| b == b'}').unwrap() + 1;
    check_prefixes(&one, end, 1, &|d| JsonSliceReader::new(d).collect());
}

#[test]
fn records_serialised_elsewhere_are_written_as_write_record_writes_them() {
    let records = iso2709_records("test.dat");
    assert!(records.len() > 1);
    for layout in [JsonLayout::Compact, JsonLayout::Spaced] {
        let mut direct = JsonWriter::with_layout(Vec::new(), layout);
        let mut serialised = JsonWriter::with_layout(Vec::new(), layout);
        for rec in &records {
            direct.write_record(rec).unwrap();
            let mut one = String::new();
            write_record_json(rec, serialised.layout(), &mut one);
            serialised.write_serialised(one.as_bytes()).unwrap();
        }
        assert_eq!(serialised.finish().unwrap(), direct.finish().unwrap());
    }
    for opts in [
        XmlWriteOptions::default(),
        XmlWriteOptions {
            namespace: true,
            ascii: true,
        },
    ] {
        let mut direct = XmlWriter::with_options(Vec::new(), opts);
        let mut serialised = XmlWriter::with_options(Vec::new(), opts);
        for rec in &records {
            direct.write_record(rec).unwrap();
            serialised
                .write_serialised(record_to_xml_with(rec, serialised.options()).as_bytes())
                .unwrap();
        }
        assert_eq!(serialised.finish().unwrap(), direct.finish().unwrap());
    }
    let mut direct = fastmarc::iso2709::Writer::new(Vec::new());
    let mut serialised = fastmarc::iso2709::Writer::new(Vec::new());
    for rec in &records {
        direct.write_record(rec).unwrap();
        serialised
            .write_serialised(&record_to_bytes(rec).unwrap())
            .unwrap();
    }
    assert_eq!(serialised.into_inner(), direct.into_inner());
}

/// What pymarc's JSONReader would read differently is flagged: a data field object
/// without `ind1`, `ind2` or `subfields`, or with one twice; a field object with more
/// than one entry.
#[test]
fn json_documents_pymarc_reads_differently_are_flagged() {
    let doc = |fields: &str| {
        format!(
            r#"[{{"leader": "00000nam a2200000 a 4500", "fields": [{{"001": "x"}}, {fields}]}}]"#
        )
    };
    let full = r#"{"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "T"}]}}"#;
    for (fields, shaped) in [
        (full.to_string(), true),
        (
            r#"{"245": {"subfields": [{"a": "T"}], "ind2": "0", "ind1": "1", "x": 1}}"#.into(),
            true,
        ),
        (
            r#"{"245": {"ind1": "1", "subfields": [{"a": "T"}]}}"#.into(),
            false,
        ),
        (r#"{"245": {"ind1": "1", "ind2": "0"}}"#.into(), false),
        (
            r#"{"245": {"ind1": "1", "ind1": "1", "ind2": "0", "subfields": []}}"#.into(),
            false,
        ),
        (r#"{"500": "a string", "600": "another"}"#.into(), false),
        (
            r#"{"245": {"ind1": "", "ind2": "0", "subfields": []}}"#.into(),
            false,
        ),
        (
            format!(r#"{full}, {{"245": {{"ind1": "1", "ind2": "0", "subfields": "x"}}}}"#),
            true,
        ),
    ] {
        let text = doc(&fields);
        let mut reader = JsonSliceReader::new(text.as_bytes());
        let _ = reader.by_ref().count();
        assert_eq!(reader.pymarc_shaped(), shaped, "{fields}");
    }
}

#[test]
fn xml_says_whether_pymarc_reads_the_same_records() {
    for (field, shaped) in [
        (r#"<datafield tag="245" ind1="1" ind2="0"/>"#, true),
        (r#"<datafield tag="245"/>"#, true),
        (r#"<datafield tag="245" ind1="" ind2="0"/>"#, false),
        (r#"<datafield tag="245" ind1="1" ind2=''/>"#, false),
    ] {
        let doc = format!("<record><leader>00000nam a2200000 a 4500</leader>{field}</record>");
        let declared = format!("<?xml version=\"1.0\"?>{doc}");
        let mut reader = XmlReader::from_slice(declared.as_bytes(), XmlReaderOptions::default());
        assert_eq!(reader.by_ref().count(), 1);
        assert_eq!(reader.pymarc_shaped(), shaped, "{field}");
        // White space before the declaration: read, but not as pymarc reads it.
        let late = format!("\n {declared}");
        let mut reader = XmlReader::from_slice(late.as_bytes(), XmlReaderOptions::default());
        assert_eq!(reader.by_ref().count(), 1);
        assert!(!reader.pymarc_shaped(), "{field}");
        let mut reader = XmlReader::from_slice(doc.as_bytes(), XmlReaderOptions::default());
        assert_eq!(reader.by_ref().count(), 1);
        assert_eq!(reader.pymarc_shaped(), shaped, "{field}");
    }
}

/// A document that is valid UTF-8 is parsed as text, one that is not as bytes: either
/// way the records and errors are the streaming reader's.
#[test]
fn json_text_and_bytes_read_alike() {
    let good = br#"[{"leader": "00000nam a2200000 a 4500", "fields": [{"001": "caf\u00e9 \u6f22"}, {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "raw	tab and caf"#;
    let mut docs: Vec<Vec<u8>> = Vec::new();
    let mut valid = good.to_vec();
    valid.extend_from_slice("\u{e9}\"}]}}]}]".as_bytes());
    docs.push(valid.clone());
    let mut invalid = good.to_vec();
    invalid.extend_from_slice(b"\xe9\"}]}}]}]");
    docs.push(invalid);
    docs.push(valid[..valid.len() - 9].to_vec());
    for doc in docs {
        let slice: Vec<_> = JsonSliceReader::new(&doc).collect();
        let stream: Vec<_> =
            JsonReader::new(std::io::BufReader::with_capacity(3, &doc[..])).collect();
        assert_eq!(format!("{slice:?}"), format!("{stream:?}"));
    }
}
