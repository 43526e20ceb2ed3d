//! MARC-8 decoding: `marc8_to_unicode` and `decode_marc8_into` agree (the latter only
//! appends, and leaves its output alone on error); output is NFC and free of control codes;
//! only an escape sequence cut short is an error; printable ASCII maps to itself; and the
//! ISO 2709 parser decodes a MARC-8 subfield to exactly what the decoder gives.
#![no_main]

use fastmarc::iso2709::{parse_record, ParseOptions};
use fastmarc::marc8::{decode_marc8_into, marc8_to_unicode};
use fastmarc::Record;
use libfuzzer_sys::fuzz_target;

const ESC: u8 = 0x1B;

/// A MARC-8 record (leader/09 blank) with an 008 holding `bytes` and a 245 $a holding them.
fn marc8_record(bytes: &[u8]) -> Vec<u8> {
    let control = [bytes, b"\x1e"].concat();
    let data = [b"10\x1fa", bytes, b"\x1e"].concat();
    let base = 24 + 2 * 12 + 1;
    let len = base + control.len() + data.len() + 1;
    let mut out = format!("{len:05}nam  22{base:05}   4500").into_bytes();
    out.extend_from_slice(format!("008{:04}{:05}", control.len(), 0).as_bytes());
    out.extend_from_slice(format!("245{:04}{:05}", data.len(), control.len()).as_bytes());
    out.push(0x1e);
    out.extend_from_slice(&control);
    out.extend_from_slice(&data);
    out.push(0x1d);
    out
}

fuzz_target!(|data: &[u8]| {
    let result = marc8_to_unicode(data);

    let mut out = String::from("prefix\u{e9}");
    let mut warnings = Vec::new();
    let into = decode_marc8_into(data, &mut out, &mut warnings);
    let appended = out
        .strip_prefix("prefix\u{e9}")
        .expect("output prefix kept");
    match (&result, &into) {
        (Ok(s), Ok(())) => assert_eq!(appended, s, "decode_marc8_into appends the result"),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "same error both ways");
            assert_eq!(appended, "", "output changed on error");
        }
        _ => panic!("marc8_to_unicode {result:?} but decode_marc8_into {into:?}"),
    }
    // A character cut off by the end of the input is reported at the end (== len).
    for w in &warnings {
        assert!(w.byte_offset <= data.len(), "warning past the input: {w:?}");
    }

    match &result {
        Ok(s) => {
            assert!(unicode_normalization::is_nfc(s), "output not NFC: {s:?}");
            assert!(
                !s.chars().any(|c| c < ' ' && c != '\u{1b}'),
                "a control code in the output: {s:?}"
            );
        }
        Err(e) => {
            assert_eq!(
                data.get(e.byte_offset),
                Some(&ESC),
                "error not at an escape: {e:?}"
            );
        }
    }
    if !data.contains(&ESC) {
        assert!(result.is_ok(), "no escape, yet {result:?}");
    }

    let printable: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| (0x20..0x7f).contains(b))
        .collect();
    assert_eq!(
        marc8_to_unicode(&printable).as_deref(),
        Ok(std::str::from_utf8(&printable).unwrap()),
        "printable ASCII is not itself"
    );

    // The parser, on the same bytes less the ISO 2709 separators (which cannot be data).
    let text: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !(0x1d..=0x1f).contains(b))
        .collect();
    let mut rec = Record::new();
    let parsed = parse_record(&marc8_record(&text), &ParseOptions::default(), &mut rec);
    match marc8_to_unicode(&text) {
        Ok(expected) => {
            assert!(
                parsed.is_ok(),
                "parser rejects decodable MARC-8: {parsed:?}"
            );
            let latin1: String = text.iter().map(|&b| char::from(b)).collect();
            assert_eq!(rec.get("008").and_then(|f| f.data()), Some(&latin1[..]));
            let f = rec.get("245").expect("245");
            assert_eq!(f.subfield('a'), Some(&expected[..]), "245 $a decoded");
        }
        Err(_) => assert!(parsed.is_err(), "parser accepts undecodable MARC-8"),
    }
});
