//! Inputs the fuzz targets (fuzz/, see docs/FUZZING.md) found to break a property, each
//! minimised and kept here with the property it broke.

mod common;

use common::ChoppyReader;
use fastmarc::json::{JsonReader, JsonSliceReader};
use fastmarc::xml::XmlReader;
use fastmarc::{Record, Result};
use std::io::BufReader;

fn xml_both(data: &[u8]) -> (Vec<Result<Record>>, Vec<Result<Record>>) {
    let slice = XmlReader::new(data).take(10).collect();
    let stream = XmlReader::new(BufReader::with_capacity(1, ChoppyReader::new(data, 7)))
        .take(10)
        .collect();
    (slice, stream)
}

fn json_both(data: &[u8]) -> (Vec<Result<Record>>, Vec<Result<Record>>) {
    let slice = JsonSliceReader::new(data).take(10).collect();
    let stream = JsonReader::new(BufReader::with_capacity(1, ChoppyReader::new(data, 7)))
        .take(10)
        .collect();
    (slice, stream)
}

const LEADER: &str = "00000nam a2200000 a 4500";

/// read_xml: a byte order mark arriving in pieces was read as text outside the root element
/// (quick-xml looks for it only in its first buffer).
#[test]
fn xml_byte_order_mark_split_across_reads() {
    let doc = format!(
        "\u{feff}<collection><record><leader>{LEADER}</leader>\
         <controlfield tag=\"001\">x</controlfield></record></collection>"
    );
    let (slice, stream) = xml_both(doc.as_bytes());
    assert_eq!(slice.len(), 1);
    let rec = slice[0].as_ref().expect("record");
    assert_eq!(rec.get("001").and_then(|f| f.data()), Some("x"));
    assert_eq!(stream, slice);
}

/// read_xml: bytes that only begin like a byte order mark reach the parser unchanged, from a
/// stream as from a slice.
#[test]
fn xml_partial_byte_order_mark_is_the_same_error_both_ways() {
    let (slice, stream) = xml_both(b"\xEF\xBB<collection/>");
    assert_eq!(slice.len(), 1);
    assert!(slice[0].is_err());
    assert_eq!(stream, slice);
}

/// read_json: the slice reader mapped an error position back through its control-character
/// escapes twice, reporting offset 2 for the end of the 3-byte input `{"` + LF.
#[test]
fn json_error_offset_after_escaped_control_character() {
    let (slice, stream) = json_both(b"{\"\n");
    let err = slice[0].as_ref().expect_err("cut-off string");
    assert_eq!(err.offset(), Some(3), "{err:?}");
    assert_eq!(stream, slice);

    // Further in, after a record: offsets still count original bytes (serde_json points just
    // after the offending token, here the final `2`).
    let doc = format!("[{{\"leader\": \"{LEADER}\", \"fields\": []}}, {{\"le\nader\": 1 2");
    let (slice, stream) = json_both(doc.as_bytes());
    let err = slice[1].as_ref().expect_err("bad second record");
    assert_eq!(err.offset(), Some(doc.len() as u64), "{err:?}");
    assert_eq!(stream, slice);
}

/// read_json: a byte order mark arriving in pieces was not skipped by the stream reader.
#[test]
fn json_byte_order_mark_split_across_reads() {
    let doc = format!("\u{feff}[{{\"leader\": \"{LEADER}\", \"fields\": [{{\"001\": \"x\"}}]}}]");
    let (slice, stream) = json_both(doc.as_bytes());
    assert_eq!(slice.len(), 1);
    assert!(slice[0].is_ok(), "{:?}", slice[0]);
    assert_eq!(stream, slice);

    let (slice, stream) = json_both(b"\xEF\xBB[]");
    let err = slice[0].as_ref().expect_err("not a BOM");
    assert_eq!(err.offset(), Some(0));
    assert_eq!(stream, slice);
}

/// read_json: an array element that is not an object was parsed whole from a slice but cut
/// at the next delimiter from a stream (`[ }` gathered nothing, `[t` + LF only the `t`), so
/// the two reported different errors at different offsets.
#[test]
fn json_array_element_that_is_not_an_object_is_the_same_error_both_ways() {
    for (doc, at) in [
        (&b"[ }"[..], 2),
        (b"[t\n", 1),
        (b"[1, ]", 1),
        (b"[ ,", 2),
        (b"[\"x\"]", 1),
    ] {
        let (slice, stream) = json_both(doc);
        let text = String::from_utf8_lossy(doc);
        let err = slice[0].as_ref().expect_err(&text);
        assert_eq!(err.offset(), Some(at), "{text}: {err:?}");
        assert_eq!(stream, slice, "{text}");
    }

    let doc = format!("[{{\"leader\": \"{LEADER}\", \"fields\": []}}, 5]");
    let (slice, stream) = json_both(doc.as_bytes());
    assert!(slice[0].is_ok());
    let err = slice[1].as_ref().expect_err("second element");
    assert_eq!(
        err.offset(),
        Some(doc.rfind('5').unwrap() as u64),
        "{err:?}"
    );
    assert_eq!(stream, slice);
}

/// Found by read_xml (30-minute run): two byte order marks. quick-xml dropped the second one
/// when it arrived in one piece (a slice) but not in several (a stream), so the two readers
/// disagreed. One mark is a mark; the second is content, an error either way.
#[test]
fn xml_with_two_byte_order_marks_is_the_same_error_from_slice_and_stream() {
    use fastmarc::xml::XmlReader;
    let input: &[u8] = b"\xef\xbb\xbf\xef\xbb\xbf<collection/>";
    let read = |r: &mut dyn FnMut(&mut fastmarc::Record) -> fastmarc::Result<bool>| {
        let mut rec = fastmarc::Record::new();
        r(&mut rec).map(|_| ()).map_err(|e| e.into_kind())
    };
    let mut slice = XmlReader::new(input);
    let from_slice = read(&mut |rec| slice.read_record(rec));
    let mut stream = XmlReader::new(std::io::BufReader::with_capacity(1, input));
    let from_stream = read(&mut |rec| stream.read_record(rec));
    assert!(from_slice.is_err(), "{from_slice:?}");
    assert_eq!(from_slice, from_stream);
    // A single mark is dropped by both.
    let one: &[u8] = b"\xef\xbb\xbf<collection/>";
    let mut rec = fastmarc::Record::new();
    assert!(!XmlReader::new(one).read_record(&mut rec).unwrap());
    assert!(!XmlReader::new(std::io::BufReader::with_capacity(1, one))
        .read_record(&mut rec)
        .unwrap());
}

/// Found by read_json (30-minute run): a bad `\u` escape followed by a raw control byte.
/// The stream reader escapes raw control bytes before parsing, the slice reader only after
/// a "control character" error, so they met different errors at different offsets.
#[test]
fn json_bad_escape_before_a_raw_control_byte_is_the_same_error_both_ways() {
    use fastmarc::json::{JsonReader, JsonSliceReader};
    let input: &[u8] = b"{\"\\u\x00";
    let slice: Vec<_> = JsonSliceReader::new(input).collect();
    let stream: Vec<_> = JsonReader::new(std::io::BufReader::with_capacity(1, input)).collect();
    assert!(slice.iter().any(|r| r.is_err()), "{slice:?}");
    assert_eq!(slice, stream);
}

/// Found by roundtrip (10-second smoke run): a carriage return in a subfield. pymarc's
/// MARCXML layout writes it as it is, as pymarc does, and XML reads a raw carriage return
/// as a line feed; the other layouts write it `&#13;`, which reads back as itself.
#[test]
fn a_carriage_return_in_text_survives_only_the_well_formed_layouts() {
    use fastmarc::xml::{record_to_xml_with, write_record_xml_as, XmlLayout, XmlWriteOptions};
    use fastmarc::{Field, Subfield, Tag};
    let mut rec = Record::new();
    rec.push(&Field::data(
        Tag::new("500").unwrap(),
        ' ',
        ' ',
        vec![Subfield::new('a', "The Library \rf Congress")],
    ));
    let read = |xml: &str| -> Vec<Result<Record>> { XmlReader::new(xml.as_bytes()).collect() };
    let opts = XmlWriteOptions::default();

    let pymarc = record_to_xml_with(&rec, opts);
    assert!(pymarc.contains("Library \rf"), "{pymarc:?}");
    let back = read(&pymarc);
    let value = |r: &Record| {
        r.fields()
            .next()
            .unwrap()
            .subfield('a')
            .unwrap()
            .to_string()
    };
    assert_eq!(value(back[0].as_ref().unwrap()), "The Library \nf Congress");

    for layout in [XmlLayout::RecordPerLine, XmlLayout::Indented] {
        let mut xml = String::new();
        write_record_xml_as(&rec, opts, layout, &mut xml);
        assert!(xml.contains("Library &#13;f"), "{xml:?}");
        assert_eq!(read(&xml), vec![Ok(rec.clone())], "{layout:?}");
    }
}
