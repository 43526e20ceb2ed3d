//! Writing ISO 2709: exact bytes for records built through the API, byte-identical
//! round trips of pymarc's test files, and the limits of the format.

mod common;

use common::*;
use fastmarc::iso2709::{
    parse_record, record_to_bytes, write_record_to_vec, Decoding, ParseOptions, ReaderOptions,
    SliceReader, Writer, MAX_FIELD_LEN, MAX_RECORD_LEN,
};
use fastmarc::{Error, ErrorKind, Field, Leader, Record, Subfield, TextEncoding};

fn parse(bytes: &[u8], opts: ParseOptions) -> Result<Record, Error> {
    let mut rec = Record::new();
    parse_record(bytes, &opts, &mut rec).map(|_| rec)
}

fn raw_decoding() -> ParseOptions {
    ParseOptions {
        decoding: Decoding::Raw,
        ..ParseOptions::default()
    }
}

fn too_long(what: &'static str, length: usize) -> ErrorKind {
    ErrorKind::TooLongToWrite { what, length }
}

#[test]
fn api_record_matches_independently_built_bytes() {
    let mut rec = Record::with_leader(Leader::from_bytes(b"00000cam  2200000 i 4500").unwrap());
    rec.push(&Field::control(tag("001"), "ocm00012345"));
    rec.push(&Field::control(tag("005"), ""));
    rec.push(&Field::data(
        tag("245"),
        '1',
        '4',
        vec![
            Subfield::new('a', "The Café :"),
            Subfield::new('b', ""),
            Subfield::new('c', "日本語."),
        ],
    ));
    rec.push(&Field::data(tag("500"), ' ', ' ', vec![]));
    rec.push(&Field::data(
        tag("ZZZ"),
        '#',
        '9',
        vec![Subfield::new('z', "alpha tag")],
    ));
    let expected = raw_record(
        b"00000cam a2200000 i 4500",
        &[
            ("001", b"ocm00012345"),
            ("005", b""),
            ("245", "14\x1faThe Café :\x1fb\x1fc日本語.".as_bytes()),
            ("500", b"  "),
            ("ZZZ", b"#9\x1fzalpha tag"),
        ],
    );
    assert_eq!(record_to_bytes(&rec).unwrap(), expected);
}

/// Check the structure of written bytes from first principles.
fn check_layout(bytes: &[u8], fields: usize) {
    let num = |r: std::ops::Range<usize>| -> usize {
        std::str::from_utf8(&bytes[r]).unwrap().parse().unwrap()
    };
    assert_eq!(num(0..5), bytes.len(), "record length");
    let base = num(12..17);
    assert_eq!(base, 24 + 12 * fields + 1, "base address");
    assert_eq!(bytes[base - 1], FT, "directory terminator");
    assert_eq!(*bytes.last().unwrap(), RT, "record terminator");
    let mut next = 0;
    for i in 0..fields {
        let e = 24 + 12 * i;
        let (len, off) = (num(e + 3..e + 7), num(e + 7..e + 12));
        assert_eq!(off, next, "field {i} starts where the previous ended");
        assert_eq!(bytes[base + off + len - 1], FT, "field {i} terminator");
        next = off + len;
    }
    assert_eq!(
        base + next + 1,
        bytes.len(),
        "no bytes after the last field"
    );
}

#[test]
fn directory_base_address_and_length_are_computed() {
    for n in [1, 3, 7] {
        let (file, ranges) = sample_file(n);
        for r in ranges {
            check_layout(&file[r], 5);
        }
    }
    let mut rec = Record::new();
    for i in 0..300 {
        rec.push(&Field::data(
            tag("650"),
            ' ',
            '0',
            vec![Subfield::new('a', "é".repeat(i % 13))],
        ));
    }
    let bytes = record_to_bytes(&rec).unwrap();
    check_layout(&bytes, 300);
    assert_eq!(parse(&bytes, ParseOptions::default()).unwrap().len(), 300);
}

#[test]
fn a_record_with_no_fields_is_written_as_pymarc_writes_it() {
    let bytes = record_to_bytes(&Record::new()).unwrap();
    assert_eq!(bytes, b"00026    a2200025   4500\x1e\x1d");
    // It cannot be read back: ISO 2709 readers want at least one field.
    assert_eq!(
        parse(&bytes, ParseOptions::default())
            .unwrap_err()
            .into_kind(),
        ErrorKind::NoFields
    );
}

#[test]
fn unicode_records_get_leader_09_a_and_raw_records_keep_theirs() {
    let leader = Leader::from_bytes(b"00000nam  2200000 a 4500").unwrap();
    let mut rec = Record::with_leader(leader);
    rec.push(&Field::control(tag("001"), "x"));
    assert_eq!(record_to_bytes(&rec).unwrap()[9], b'a');
    rec.set_encoding(TextEncoding::Raw);
    assert_eq!(record_to_bytes(&rec).unwrap()[9], b' ');
    // The record itself is not changed by writing.
    assert_eq!(rec.leader().character_coding_scheme(), b' ');
}

#[test]
fn raw_records_are_written_byte_for_byte() {
    let mut rec = Record::new();
    rec.set_encoding(TextEncoding::Raw);
    rec.push(&Field::data(
        tag("245"),
        '0',
        '0',
        vec![Subfield::new('a', "\u{e9}\u{ff}\u{80}x")],
    ));
    let bytes = record_to_bytes(&rec).unwrap();
    let expected = raw_record(
        b"00000     2200000   4500",
        &[("245", b"00\x1fa\xe9\xff\x80x")],
    );
    assert_eq!(bytes, expected);
    // A character beyond one byte cannot be written raw, and nothing is written.
    rec.push(&Field::data(
        tag("246"),
        '0',
        '0',
        vec![Subfield::new('a', "€")],
    ));
    let mut out = b"before".to_vec();
    let e = write_record_to_vec(&rec, &mut out).unwrap_err();
    assert!(
        matches!(e.kind().clone(), ErrorKind::InvalidValue(_)),
        "{e}"
    );
    assert_eq!(out, b"before");
}

#[test]
fn edited_records_write_only_their_live_fields() {
    let mut rec = sample_record("id1", "Jane Eyre");
    rec.replace(
        3,
        &Field::data(tag("245"), '0', '0', vec![Subfield::new('a', "Villette")]),
    )
    .unwrap();
    rec.remove(2);
    rec.insert_ordered(&Field::data(
        tag("100"),
        '1',
        ' ',
        vec![Subfield::new('a', "Bell, Currer")],
    ));
    rec.remove_tag("650");
    let bytes = record_to_bytes(&rec).unwrap();
    let mut fresh = rec.clone();
    fresh.compact();
    assert!(fresh.text_len() < rec.text_len());
    assert_eq!(record_to_bytes(&fresh).unwrap(), bytes);
    check_layout(&bytes, 4);
    let back = parse(&bytes, ParseOptions::default()).unwrap();
    assert_eq!(back.title().as_deref(), Some("Villette"));
    assert!(back.fields().eq(rec.fields()));
}

// ---- limits ---------------------------------------------------------------------------

#[test]
fn a_field_over_9999_bytes_is_refused_and_nothing_is_written() {
    // A data field is its value plus five bytes (indicators, delimiter, code, terminator).
    let field = |value: String| Field::data(tag("520"), ' ', ' ', vec![Subfield::new('a', value)]);
    let mut rec = sample_record("id", "t");
    rec.push(&field("x".repeat(MAX_FIELD_LEN - 5)));
    let bytes = record_to_bytes(&rec).unwrap();
    assert_eq!(parse(&bytes, ParseOptions::default()).unwrap().len(), 6);

    let mut rec = sample_record("id", "t");
    rec.push(&field("x".repeat(MAX_FIELD_LEN - 4)));
    let mut out = b"already here".to_vec();
    assert_eq!(
        write_record_to_vec(&rec, &mut out).unwrap_err().into_kind(),
        too_long("field", 10_000)
    );
    assert_eq!(out, b"already here");

    // Lengths are bytes, not characters: 4,998 two-byte characters are 10,001 bytes.
    let mut rec = sample_record("id", "t");
    rec.push(&field("é".repeat(4_998)));
    assert_eq!(
        record_to_bytes(&rec).unwrap_err().into_kind(),
        too_long("field", 10_001)
    );
    // A control field is its data plus the terminator.
    let mut rec = Record::new();
    rec.push(&Field::control(tag("001"), "9".repeat(MAX_FIELD_LEN)));
    assert_eq!(
        record_to_bytes(&rec).unwrap_err().into_kind(),
        too_long("field", 10_000)
    );
}

#[test]
fn a_record_over_99999_bytes_is_refused() {
    // 11 fields of 9,081 bytes: 157 + 99,891 + 1 = 100,049 bytes.
    let mut rec = Record::new();
    for _ in 0..11 {
        rec.push(&Field::data(
            tag("500"),
            ' ',
            ' ',
            vec![Subfield::new('a', "y".repeat(9_076))],
        ));
    }
    let e = record_to_bytes(&rec).unwrap_err();
    assert!(
        matches!(e.kind().clone(), ErrorKind::TooLongToWrite { what: "record", length } if length > MAX_RECORD_LEN),
        "{e}"
    );
    // One byte less per field than needed to fit exactly still fits.
    let mut rec = Record::new();
    for i in 0..11 {
        let n = if i == 10 { 9_076 } else { 9_071 };
        rec.push(&Field::data(
            tag("500"),
            ' ',
            ' ',
            vec![Subfield::new('a', "y".repeat(n))],
        ));
    }
    assert_eq!(record_to_bytes(&rec).unwrap().len(), MAX_RECORD_LEN);
    rec.push(&Field::control(tag("001"), ""));
    // The extra field adds a 12-byte entry and a 1-byte field.
    assert_eq!(
        record_to_bytes(&rec).unwrap_err().into_kind(),
        too_long("record", MAX_RECORD_LEN + 13)
    );
}

#[test]
fn ten_thousand_fields_need_too_long_a_directory() {
    let mut rec = Record::new();
    for _ in 0..10_000 {
        rec.push(&Field::data(
            tag("500"),
            ' ',
            ' ',
            vec![Subfield::new('a', "x")],
        ));
    }
    let mut out = Vec::new();
    assert_eq!(
        write_record_to_vec(&rec, &mut out).unwrap_err().into_kind(),
        too_long("record", 24 + 120_001)
    );
    assert!(out.is_empty());
}

#[test]
fn the_writer_writes_nothing_of_a_record_it_refuses() {
    let good_a = sample_record("a", "First");
    let mut bad = sample_record("b", "Second");
    bad.push(&Field::control(tag("009"), "z".repeat(20_000)));
    let good_c = sample_record("c", "Third");
    let mut w = Writer::new(Vec::new());
    w.write_record(&good_a).unwrap();
    assert_eq!(
        w.write_record(&bad).unwrap_err().into_kind(),
        too_long("field", 20_001)
    );
    w.write_record(&good_c).unwrap();
    w.flush().unwrap();
    let out = w.into_inner();
    let mut expected = record_to_bytes(&good_a).unwrap();
    expected.extend_from_slice(&record_to_bytes(&good_c).unwrap());
    assert_eq!(out, expected);
    let titles: Vec<_> = read_both(&out, ReaderOptions::strict())
        .into_iter()
        .map(|r| r.unwrap().title().unwrap())
        .collect();
    assert_eq!(titles, ["First", "Third"]);
}

// ---- pymarc's files round trip --------------------------------------------------------

/// Every well-framed record of a file, as its bytes.
fn framed_records(bytes: &[u8]) -> Vec<&[u8]> {
    let mut reader = SliceReader::with_options(bytes, ReaderOptions::resyncing());
    let mut out = Vec::new();
    while let Some(frame) = reader.next_frame() {
        if let Ok((rec, _, _)) = frame {
            out.push(rec);
        }
    }
    out
}

#[test]
fn utf8_records_are_rewritten_byte_for_byte() {
    let mut checked = Vec::new();
    for (name, bytes) in pymarc_marc_files() {
        for rec_bytes in framed_records(&bytes) {
            if rec_bytes[9] != b'a' {
                continue;
            }
            let Ok(rec) = parse(rec_bytes, ParseOptions::default()) else {
                continue; // not well-formed (see iso2709_read.rs for which and why)
            };
            assert_eq!(rec.encoding(), TextEncoding::Unicode);
            assert!(
                record_to_bytes(&rec).unwrap() == rec_bytes,
                "{name}: record differs when written back"
            );
            checked.push(name.clone());
        }
    }
    checked.dedup();
    assert_eq!(
        checked,
        [
            "alphatag.dat",
            "diacritic.dat",
            "marc8-to-unicode.dat",
            "multi_isbn.dat",
            "one.dat",
            "regression45.dat",
            "utf8_errors.dat",
            "utf8_with_leader_flag.dat",
        ]
    );
}

#[test]
fn every_well_formed_record_is_rewritten_byte_for_byte_raw() {
    let mut count = 0;
    for (name, bytes) in pymarc_marc_files() {
        for rec_bytes in framed_records(&bytes) {
            let Ok(rec) = parse(rec_bytes, raw_decoding()) else {
                continue;
            };
            assert_eq!(rec.encoding(), TextEncoding::Raw);
            assert!(
                record_to_bytes(&rec).unwrap() == rec_bytes,
                "{name}: raw record differs when written back"
            );
            count += 1;
        }
    }
    // All 65 records pymarc reads, less the 14 strict parsing rejects.
    assert_eq!(count, 51);
}

#[test]
fn marc8_records_are_written_as_utf8() {
    let mut count = 0;
    for (name, bytes) in pymarc_marc_files() {
        for rec_bytes in framed_records(&bytes) {
            if rec_bytes[9] == b'a' {
                continue;
            }
            let Ok(rec) = parse(rec_bytes, ParseOptions::default()) else {
                continue;
            };
            let out = record_to_bytes(&rec).unwrap();
            assert_eq!(out[9], b'a', "{name}");
            assert!(std::str::from_utf8(&out).is_ok(), "{name}: not UTF-8");
            let back = parse(&out, ParseOptions::default()).unwrap();
            assert!(back.fields().eq(rec.fields()), "{name}");
            assert_eq!(back.leader().as_str()[10..], rec.leader().as_str()[10..]);
            count += 1;
        }
    }
    // The 44 MARC-8 records pymarc reads, less bad_subfield_code.dat's, which is malformed.
    assert_eq!(count, 43);
}

#[test]
fn files_rewritten_record_by_record_read_back_identically() {
    for name in ["test.dat", "marc.dat", "regression45.dat", "1251.dat"] {
        let bytes = pymarc_file(name);
        let parse = ParseOptions {
            strict: false,
            decoding: Decoding::Raw,
            ..ParseOptions::default()
        };
        let opts = ReaderOptions {
            parse,
            ..ReaderOptions::default()
        };
        let records: Vec<Record> = read_both(&bytes, opts)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let mut w = Writer::new(Vec::new());
        for r in &records {
            w.write_record(r).unwrap();
        }
        let out = w.into_inner();
        let again: Vec<Record> = read_both(&out, opts)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(again.len(), records.len(), "{name}");
        for (a, b) in again.iter().zip(&records) {
            assert!(a.fields().eq(b.fields()), "{name}");
        }
    }
}

/// Fields parsed from text that needed no decoding are written by copying their parsed
/// form; this must give what writing subfield by subfield gives, in every case where the
/// parsed form is not canonical too (empty subfields, odd indicator runs, stray codes).
#[test]
fn copied_fields_write_what_subfield_by_subfield_writing_would() {
    let lenient = ParseOptions {
        strict: false,
        ..ParseOptions::default()
    };
    let leader = b"00000nam a2200000 a 4500";
    let cases: &[&[u8]] = &[
        b"10\x1faTitle\x1fbsub",
        b"10\x1fa\x1f\x1fbafter two delimiters",
        b"1\x1faone indicator",
        b"123\x1fathree indicators",
        b"10",
        b"10no delimiter at all",
        b"10\x1f\x01control code",
        "10\x1f\u{e9}non-ASCII code".as_bytes(),
    ];
    for field in cases {
        let bytes = common::raw_record(leader, &[("001", b"id"), ("245", field)]);
        let rec = parse(&bytes, lenient).expect("lenient parse");
        // The same record built through the API, so its fields have no parsed form.
        let mut rebuilt = Record::with_leader(*rec.leader());
        for f in rec.fields() {
            rebuilt.push(&f.to_field());
        }
        assert_eq!(
            record_to_bytes(&rec).unwrap(),
            record_to_bytes(&rebuilt).unwrap(),
            "field {:?}",
            String::from_utf8_lossy(field)
        );
    }
    // Adding a subfield to a parsed field writes the new subfield too.
    let bytes = common::raw_record(leader, &[("245", b"10\x1faTitle")]);
    let mut rec = parse(&bytes, ParseOptions::default()).unwrap();
    rec.push_subfield('c', "added");
    let back = parse(&record_to_bytes(&rec).unwrap(), ParseOptions::default()).unwrap();
    let subfields: Vec<_> = back
        .field(0)
        .unwrap()
        .subfields()
        .map(|s| (s.code, s.value.to_string()))
        .collect();
    assert_eq!(
        subfields,
        [('a', "Title".to_string()), ('c', "added".to_string())]
    );
}
