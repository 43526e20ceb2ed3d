//! MARC-8 writing, against the Library of Congress MARC-8 test data pymarc ships
//! (`test_marc8.txt` and its UTF-8 twin `test_utf8.txt`, line for line) and pymarc's
//! MARC-8 record files: encoding the Unicode text and decoding the result gives back the
//! same NFC text, and whole records survive the trip through ISO 2709.

use fastmarc::iso2709::{record_to_bytes, Decoding, ParseOptions, ReaderOptions, SliceReader};
use fastmarc::marc8::{encode_marc8_into, marc8_to_unicode, record_to_marc8, unicode_to_marc8};
use unicode_normalization::UnicodeNormalization;

mod common;

/// Characters the decoder accepts from vendor-specific codes that the LC tables lack.
const VENDOR_ONLY: [char; 4] = ['\u{2026}', '\u{2014}', '\u{2019}', '\u{2122}'];

#[test]
fn lc_test_lines_round_trip() {
    let dir = common::pymarc_test_dir();
    let utf8 = std::fs::read_to_string(dir.join("test_utf8.txt")).unwrap();
    let mut lines = 0;
    for line in utf8.lines() {
        let mut bytes = Vec::new();
        let mut missing = Vec::new();
        encode_marc8_into(line, &mut bytes, &mut missing);
        // One line holds vendor codes outside the LC tables (read, never written): those
        // characters come back as references.
        let expected: String = line
            .nfc()
            .map(|c| {
                if missing.iter().any(|m| m.ch == c) {
                    assert!(
                        VENDOR_ONLY.contains(&c),
                        "{line:?}: {c:?} has no MARC-8 code"
                    );
                    format!("&#x{:04X};", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect();
        let back = marc8_to_unicode(&bytes).unwrap();
        assert_eq!(back, expected, "{line:?} -> {bytes:x?}");
        lines += 1;
    }
    assert!(lines > 1000, "only {lines} lines");
}

#[test]
fn lc_marc8_lines_decode_encode_decode_to_the_same_text() {
    let dir = common::pymarc_test_dir();
    let marc8 = std::fs::read(dir.join("test_marc8.txt")).unwrap();
    for line in marc8.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let text = marc8_to_unicode(line).unwrap();
        if text.contains(VENDOR_ONLY) {
            continue;
        }
        let again = marc8_to_unicode(&unicode_to_marc8(&text)).unwrap();
        assert_eq!(again, text, "{line:x?}");
    }
}

#[test]
fn marc8_record_files_survive_writing_back_to_marc8() {
    let opts = ReaderOptions {
        parse: ParseOptions {
            decoding: Decoding::Marc8,
            strict: false,
            ..ParseOptions::default()
        },
        ..ReaderOptions::resyncing()
    };
    let mut records = 0;
    for name in [
        "marc8.dat",
        "diacritic.dat",
        "test.dat",
        "marc8-to-unicode.dat",
    ] {
        let data = common::pymarc_file(name);
        for rec in SliceReader::with_options(&data, opts).flatten() {
            let (marc8, missing) = record_to_marc8(&rec);
            assert_eq!(marc8.leader().character_coding_scheme(), b' ');
            let bytes = record_to_bytes(&marc8).unwrap();
            assert_eq!(bytes[9], b' ');
            let back = SliceReader::with_options(&bytes, opts)
                .next()
                .unwrap()
                .unwrap();
            if missing.is_empty() {
                for (a, b) in rec.fields().zip(back.fields()) {
                    assert_eq!(a, b, "{name}");
                }
                assert_eq!(rec.len(), back.len());
            }
            records += 1;
        }
    }
    assert!(records > 10, "{records}");
}
