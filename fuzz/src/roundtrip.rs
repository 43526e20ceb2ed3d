//! Write a record in each format and read it back: it must come back equal, wherever the
//! format can hold what the record holds.

use crate::reading::{json_slice, json_stream, xml_slice, Items};
use fastmarc::iso2709::{
    parse_record, record_to_bytes, write_record_to_vec, Decoding, ParseOptions, ReaderOptions,
    Recovery, SliceReader, Utf8Errors,
};
use fastmarc::json::{write_record_json, JsonLayout};
use fastmarc::xml::{
    is_xml_char, record_to_xml_with, write_record_xml_as, XmlLayout, XmlReaderOptions,
    XmlWriteOptions,
};
use fastmarc::{ErrorKind, Record, Tag, TextEncoding};

const RT: char = '\u{1d}';
const SD: char = '\u{1f}';

/// Every text of the record: leader, control data, subfield values.
fn texts(rec: &Record) -> Vec<&str> {
    let mut out = vec![rec.leader().as_str()];
    for f in rec.fields() {
        match f.data() {
            Some(d) => out.push(d),
            None => out.extend(f.subfields().map(|s| s.value)),
        }
    }
    out
}

/// Tags MARCXML and MARC-in-JSON can name (the readers take what `Tag::new` takes).
fn tags_nameable(rec: &Record) -> bool {
    rec.fields()
        .all(|f| Tag::from_bytes(f.tag().as_bytes()).is_ok())
}

/// Whether ISO 2709 read strictly can hold a record built by another reader: fields whose
/// kind follows their tag, ASCII indicators, graphic subfield codes, and no separator
/// where it would end or split something.
pub fn iso_representable(rec: &Record) -> bool {
    !rec.is_empty()
        && rec.encoding() == TextEncoding::Unicode
        && rec.fields().all(|f| {
            if f.is_control() != f.tag().is_control() {
                return false;
            }
            match f.data() {
                Some(d) => !d.contains(RT),
                None => {
                    f.indicators()
                        .iter()
                        .all(|&c| c.is_ascii() && c != RT && c != SD)
                        && f.subfields()
                            .all(|s| s.code.is_ascii_graphic() && !s.value.contains([RT, SD]))
                }
            }
        })
}

/// ISO 2709: written and read back with the options that fit what the record holds, it is
/// the record with the leader positions the writer sets (length, base address and, for
/// Unicode, leader/09 = `a`); writing that again gives the same bytes.
pub fn check_iso(rec: &Record, strict: bool) {
    let bytes = match record_to_bytes(rec) {
        Ok(b) => b,
        Err(e) => {
            assert!(
                matches!(e.kind(), ErrorKind::TooLongToWrite { .. }),
                "writing a record failed with {e:?}"
            );
            return;
        }
    };
    let mut expected = rec.clone();
    let leader = expected.leader_mut();
    leader.set_record_length(bytes.len());
    leader.set_base_address(24 + 12 * rec.len() + 1);
    if rec.encoding() == TextEncoding::Unicode {
        leader.set_character_coding_scheme(b'a');
    }
    assert_eq!(
        &bytes[..5],
        format!("{:05}", bytes.len()).as_bytes(),
        "record length"
    );
    let parse = ParseOptions {
        decoding: match rec.encoding() {
            TextEncoding::Unicode => Decoding::Utf8,
            TextEncoding::Raw => Decoding::Raw,
        },
        utf8_errors: Utf8Errors::Strict,
        strict,
        detect_utf8_under_marc8: false,
    };
    let mut back = Record::new();
    if let Err(e) = parse_record(&bytes, &parse, &mut back) {
        panic!("the writer's output does not parse ({e}):\n{rec:?}\n{bytes:?}");
    }
    assert_eq!(back, expected, "ISO 2709 round trip changed the record");
    assert_eq!(
        back.encoding(),
        rec.encoding(),
        "ISO 2709 round trip encoding"
    );

    // Framed in a stream, between copies of itself; and appended after other output.
    let mut stream = bytes.clone();
    write_record_to_vec(rec, &mut stream).expect("second write");
    let opts = ReaderOptions {
        parse,
        recovery: Recovery::Stop,
    };
    let read: Items = SliceReader::with_options(&stream, opts).collect();
    assert_eq!(
        read,
        vec![Ok(expected.clone()), Ok(expected)],
        "two written records read back"
    );
    assert_eq!(
        &stream[..bytes.len()],
        &stream[bytes.len()..],
        "write_record_to_vec appends the same bytes"
    );
    assert_eq!(
        record_to_bytes(&back).as_deref(),
        Ok(&bytes[..]),
        "writing the read-back record gives other bytes"
    );
}

/// MARCXML can hold every character XML 1.0 can (the writer replaces the others, the C0
/// controls but tab, LF and CR, with U+FFFD), in text, indicators and subfield codes.
pub fn xml_representable(rec: &Record) -> bool {
    tags_nameable(rec)
        && texts(rec).iter().all(|t| t.chars().all(is_xml_char))
        && rec.fields().all(|f| {
            f.indicators().into_iter().all(is_xml_char)
                && f.subfields().all(|s| is_xml_char(s.code))
        })
}

/// MARCXML, in each writer option set: read back, the record is equal; and whatever the
/// record holds, no character XML 1.0 cannot carry reaches a well-formed layout. pymarc's
/// layout writes a carriage return in text as it is, as pymarc does, and XML reads it as a
/// line feed: that layout is compared only for text without one; the well-formed layout,
/// which writes it `&#13;`, always.
pub fn check_xml(rec: &Record) {
    let layouts = [
        XmlWriteOptions {
            namespace: false,
            ascii: true,
        },
        XmlWriteOptions {
            namespace: false,
            ascii: false,
        },
        XmlWriteOptions {
            namespace: true,
            ascii: false,
        },
    ];
    let representable = xml_representable(rec);
    let raw_carriage_return = texts(rec).iter().any(|t| t.contains('\r'));
    for layout in layouts {
        let xml = record_to_xml_with(rec, layout);
        let mut lines = String::new();
        write_record_xml_as(rec, layout, XmlLayout::RecordPerLine, &mut lines);
        assert!(
            lines.chars().all(is_xml_char),
            "a character XML cannot carry in\n{lines:?}"
        );
        let mut readers = vec![XmlReaderOptions::default()];
        if layout.namespace {
            readers.push(XmlReaderOptions {
                marc_namespace_only: true,
                ..XmlReaderOptions::default()
            });
        }
        for ropts in readers {
            let back = xml_slice(xml.as_bytes(), ropts);
            if representable && !raw_carriage_return {
                assert_eq!(
                    back,
                    vec![Ok(rec.clone())],
                    "MARCXML round trip ({layout:?}, {ropts:?}) of\n{xml}"
                );
            }
            let back = xml_slice(lines.as_bytes(), ropts);
            if representable {
                assert_eq!(
                    back,
                    vec![Ok(rec.clone())],
                    "MARCXML round trip ({layout:?}, {ropts:?}, one record a line) of\n{lines}"
                );
            }
        }
    }
}

/// MARC-in-JSON holds any text; only the tags must be nameable.
pub fn check_json(rec: &Record) {
    if !tags_nameable(rec) {
        return;
    }
    for layout in [JsonLayout::Spaced, JsonLayout::Compact] {
        let mut json = String::new();
        write_record_json(rec, layout, &mut json);
        assert_eq!(
            json_slice(json.as_bytes()),
            vec![Ok(rec.clone())],
            "MARC-in-JSON round trip ({layout:?}) of\n{json}"
        );
        let array = format!("[{json},{json}]");
        assert_eq!(
            json_stream(array.as_bytes()),
            vec![Ok(rec.clone()), Ok(rec.clone())],
            "MARC-in-JSON array of two, streamed"
        );
    }
}

/// The record rebuilt field by field through the owned `Field` is equal; text output and
/// the pymarc conveniences do not panic.
pub fn check_model(rec: &Record) {
    let mut copy = Record::with_leader(*rec.leader());
    copy.set_encoding(rec.encoding());
    for f in rec.fields() {
        copy.push(&f.to_field());
        let _ = (f.value(), f.format_field());
    }
    assert_eq!(&copy, rec, "rebuilt from owned fields");
    let _ = (
        rec.to_string(),
        rec.title(),
        rec.author(),
        rec.isbn(),
        rec.issn_title(),
    );
}
