//! Lenient parsing reads past odd indicators, non-ASCII subfield codes and unmapped MARC-8
//! characters, and says so in `Record::diagnostics`, in the order met.

use fastmarc::iso2709::{parse_record, ParseOptions};
use fastmarc::{Diagnostic, Record};

const FT: u8 = 0x1e;
const SD: u8 = 0x1f;

/// A record with a MARC-8 leader (coding scheme blank) and the given fields (no terminators).
fn record(fields: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, content) in fields {
        directory.extend_from_slice(
            format!("{tag}{:04}{:05}", content.len() + 1, data.len()).as_bytes(),
        );
        data.extend_from_slice(content);
        data.push(FT);
    }
    directory.push(FT);
    let base = 24 + directory.len();
    let total = base + data.len() + 1;
    let mut out = format!("{total:05}nam  22{base:05} a 4500").into_bytes();
    out.extend(directory);
    out.extend(data);
    out.push(0x1d);
    out
}

fn lenient() -> ParseOptions {
    ParseOptions {
        strict: false,
        ..ParseOptions::default()
    }
}

#[test]
fn lenient_parsing_lists_what_it_read_past_in_order() {
    let bytes = record(&[
        ("100", [&[SD][..], b"aNone"].concat()),
        ("245", [&b"1"[..], &[SD], b"aOne"].concat()),
        ("246", [&b"123"[..], &[SD], b"aThree"].concat()),
        (
            "500",
            [&b"  "[..], &[SD], b"\xe9x", &[SD], b"a\xff"].concat(),
        ),
    ]);
    let mut rec = Record::new();
    parse_record(&bytes, &lenient(), &mut rec).unwrap();
    let found = rec.diagnostics();
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(
        found[0],
        Diagnostic::MissingIndicators([&[SD][..], b"aNone"].concat())
    );
    assert_eq!(
        found[1],
        Diagnostic::OneIndicator([&b"1"[..], &[SD], b"aOne"].concat())
    );
    assert_eq!(
        found[2],
        Diagnostic::ExtraIndicators([&b"123"[..], &[SD], b"aThree"].concat())
    );
    assert_eq!(found[3], Diagnostic::BadSubfieldCode(b"\xe9x".to_vec()));
    match &found[4] {
        Diagnostic::Marc8Unmapped(w) => {
            assert_eq!(
                w.to_string(),
                "Unable to parse character 0xff in g0=66 g1=69"
            )
        }
        other => panic!("{other:?}"),
    }
    // Reusing the record forgets them.
    parse_record(
        &record(&[("245", b"10\x1faFine".to_vec())]),
        &lenient(),
        &mut rec,
    )
    .unwrap();
    assert!(rec.diagnostics().is_empty());
}

#[test]
fn a_negative_directory_number_slices_as_python_does() {
    // pymarc reads an entry's start with int() and slices the record from base + start; a
    // negative start can reach back before the data area. Here base 49 and start -6 give
    // the directory's own bytes 43..47, "-000", as pymarc reads them (checked with pymarc).
    let mut bytes = record(&[("001", b"id".to_vec()), ("245", b"10\x1faAbc".to_vec())]);
    let entry = 24 + 12;
    bytes[entry + 3..entry + 12].copy_from_slice(b"0005-0006");
    let mut rec = Record::new();
    parse_record(&bytes, &lenient(), &mut rec).unwrap();
    let field = rec.fields().nth(1).unwrap();
    assert_eq!(field.tag().as_str(), "245");
    assert_eq!(field.indicators(), ['-', '0']);
    assert_eq!(field.subfields().count(), 0);
    assert_eq!(
        rec.diagnostics(),
        [Diagnostic::ExtraIndicators(b"-000".to_vec())]
    );
}

#[test]
fn utf8_text_under_a_marc8_leader_is_noticed_once_and_real_marc8_is_not() {
    // 245 and 500 hold UTF-8 ("é" is C3 A9) under a blank leader/09: noticed once, at 245.
    let bytes = record(&[
        ("100", [&b"1 "[..], &[SD], b"aPlain"].concat()),
        ("245", [&b"10"[..], &[SD], "aCaf\u{e9}".as_bytes()].concat()),
        (
            "500",
            [&b"  "[..], &[SD], "a\u{e9}t\u{e9}".as_bytes()].concat(),
        ),
    ]);
    let detect = |opts: ParseOptions| ParseOptions {
        detect_utf8_under_marc8: true,
        ..opts
    };
    // The tags noted, parsing `bytes` with `opts`.
    let noted = |bytes: &[u8], opts: ParseOptions| -> Vec<String> {
        let mut rec = Record::new();
        parse_record(bytes, &opts, &mut rec).unwrap();
        rec.diagnostics()
            .iter()
            .filter_map(|d| match d {
                Diagnostic::Utf8UnderMarc8(tag) => Some(tag.to_string()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(noted(&bytes, detect(ParseOptions::default())), ["245"]);
    assert_eq!(noted(&bytes, detect(lenient())), ["245"]);
    // Not asked for, it is not looked for.
    assert!(noted(&bytes, ParseOptions::default()).is_empty());
    // MARC-8's acute (E2) before a letter, and an escape to Greek: not UTF-8.
    let bytes = record(&[
        ("245", [&b"10"[..], &[SD], b"aCaf\xe2e"].concat()),
        ("500", [&b"  "[..], &[SD], b"a\x1bgb\x1bs"].concat()),
    ]);
    assert!(noted(&bytes, detect(ParseOptions::default())).is_empty());
}
