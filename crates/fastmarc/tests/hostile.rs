//! Malformed ISO 2709: every strict-mode error with its exact kind, record number and byte
//! offset, plus truncation, I/O failure, extreme sizes and random bytes (never a panic, never
//! a hang).
//!
//! Most cases put one good record before the broken one, so that the record number (1) and
//! the stream offset (the good record's length plus the offset inside the bad one) are both
//! checked, and both readers (slice and choppy stream) must report the same thing.

mod common;

use common::*;
use fastmarc::iso2709::{
    parse_record, parse_record_fields, record_to_bytes, Decoding, ParseOptions, Reader,
    ReaderOptions, Recovery, SliceReader, Utf8Errors,
};
use fastmarc::{Error, ErrorKind, Field, Record, Subfield};
use proptest::prelude::*;

/// Layout of `small_raw_record("rec1")`: three directory entries.
const BASE: usize = 24 + 3 * 12 + 1;
/// Offset of the 245 field in the data area: 001 "rec1" + FT, then the 40-byte 008 + FT.
const F245: usize = 5 + 41;

fn good() -> Vec<u8> {
    small_raw_record("good")
}

fn bad_base() -> Vec<u8> {
    small_raw_record("rec1")
}

/// Read `good + bad + good` strictly with both readers; the stream must give the first good
/// record, then exactly one error, then end. Returns the error with its offset made relative
/// to the start of `bad`.
fn strict_error(bad: &[u8]) -> Error {
    let g = good();
    let mut file = g.clone();
    file.extend_from_slice(bad);
    file.extend_from_slice(&g);
    let items = read_both(&file, ReaderOptions::strict());
    assert_eq!(
        items.len(),
        2,
        "expected one record then one error: {items:?}"
    );
    assert!(items[0].is_ok(), "{:?}", items[0]);
    let e = items[1].clone().unwrap_err();
    assert_eq!(e.record(), Some(1), "record number of {e}");
    let offset = e.offset().expect("error has an offset");
    assert!(
        offset >= g.len() as u64,
        "offset {offset} before the bad record"
    );
    // The same error at its offset within the bad record.
    Error::at(e.kind().clone(), 1, offset - g.len() as u64)
}

fn assert_strict_error(bad: &[u8], kind: ErrorKind, offset: usize) {
    let e = strict_error(bad);
    assert_eq!(*e.kind(), kind);
    assert_eq!(e.offset(), Some(offset as u64), "offset of {:?}", e.kind());
}

fn set(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

fn parse(bytes: &[u8], opts: ParseOptions) -> Result<Record, Error> {
    let mut rec = Record::new();
    parse_record(bytes, &opts, &mut rec).map(|_| rec)
}

fn lenient() -> ParseOptions {
    ParseOptions {
        strict: false,
        ..ParseOptions::default()
    }
}

#[test]
fn the_unbroken_record_reads() {
    // Guard for everything below: the base record itself is fine, and the layout constants
    // describe it.
    let b = bad_base();
    let rec = parse(&b, ParseOptions::default()).unwrap();
    assert_eq!(rec.len(), 3);
    assert_eq!(&b[BASE - 1..BASE], &[FT]);
    assert_eq!(&b[BASE + F245..BASE + F245 + 2], b"10");
    assert_eq!(
        rec.get("245").unwrap().subfield('a'),
        Some("Café society :")
    );
}

#[test]
fn empty_input_yields_nothing_in_every_mode() {
    for recovery in [Recovery::Stop, Recovery::SkipRecord, Recovery::Resync] {
        let opts = ReaderOptions {
            recovery,
            ..ReaderOptions::default()
        };
        assert!(read_both(b"", opts).is_empty());
    }
}

#[test]
fn record_length_not_digits() {
    let mut b = bad_base();
    b[2] = b'x';
    assert_strict_error(&b, ErrorKind::RecordLengthNotDigits, 0);
    b[2] = 0xC3; // non-ASCII is not a digit either
    assert_strict_error(&b, ErrorKind::RecordLengthNotDigits, 0);
}

#[test]
fn record_length_below_the_minimum() {
    for len in [0usize, 1, 24] {
        let mut b = bad_base();
        set(&mut b, 0, format!("{len:05}").as_bytes());
        assert_strict_error(&b, ErrorKind::RecordLengthInvalid(len), 0);
    }
}

#[test]
fn record_length_longer_than_the_rest_of_the_stream_is_truncation() {
    let g = good();
    let mut b = bad_base();
    let real = b.len();
    set(&mut b, 0, format!("{:05}", real + 10).as_bytes());
    let mut file = g.clone();
    file.extend_from_slice(&b);
    let items = read_both(&file, ReaderOptions::strict());
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].clone().unwrap_err(),
        Error::at(
            ErrorKind::TruncatedRecord {
                expected: real + 10,
                found: real
            },
            1,
            g.len() as u64
        )
    );
}

#[test]
fn record_length_longer_than_the_record_mid_stream() {
    // The announced end falls inside the next record, where there is no terminator.
    let mut b = bad_base();
    let real = b.len();
    set(&mut b, 0, format!("{:05}", real + 10).as_bytes());
    assert_strict_error(&b, ErrorKind::EndOfRecordNotFound, 0);
}

#[test]
fn record_length_shorter_than_the_record() {
    let mut b = bad_base();
    let real = b.len();
    set(&mut b, 0, format!("{:05}", real - 10).as_bytes());
    assert_strict_error(&b, ErrorKind::EndOfRecordNotFound, 0);
}

#[test]
fn missing_record_terminator() {
    let mut b = bad_base();
    let last = b.len() - 1;
    b[last] = b'x';
    // The framing reports it where the record starts ...
    assert_strict_error(&b, ErrorKind::EndOfRecordNotFound, 0);
    // ... and the record parser, given the bytes directly, where the terminator should be.
    let e = parse(&b, ParseOptions::default()).unwrap_err();
    assert_eq!(
        (e.kind().clone(), e.offset()),
        (ErrorKind::EndOfRecordNotFound, Some(last as u64))
    );
}

#[test]
fn parse_record_checks_the_length_against_the_bytes() {
    let b = bad_base();
    let e = parse(&b[..b.len() - 1], ParseOptions::default()).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::RecordLengthInvalid(b.len()));
    let e = parse(&b[..20], ParseOptions::default()).unwrap_err();
    assert_eq!(
        (e.kind().clone(), e.offset()),
        (ErrorKind::LeaderInvalid, Some(0))
    );
}

#[test]
fn leader_not_ascii() {
    let mut b = bad_base();
    b[6] = 0xE9;
    assert_strict_error(&b, ErrorKind::LeaderInvalid, 0);
    // Lenient parsing cannot use a non-ASCII leader either (pymarc fails to decode it).
    let e = parse(&b, lenient()).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::LeaderInvalid);
}

#[test]
fn base_address_not_digits() {
    let mut b = bad_base();
    b[13] = b'x';
    assert_strict_error(&b, ErrorKind::BaseAddressNotDigits, 12);
    // Blanks are not digits in strict mode (lenient mode trims them, as pymarc's int() does).
    let mut b = bad_base();
    set(&mut b, 12, format!("{:>5}", BASE).as_bytes());
    assert_strict_error(&b, ErrorKind::BaseAddressNotDigits, 12);
    assert_eq!(parse(&b, lenient()).unwrap().len(), 3);
}

#[test]
fn base_address_zero() {
    let mut b = bad_base();
    set(&mut b, 12, b"00000");
    assert_strict_error(&b, ErrorKind::BaseAddressNotFound, 12);
}

#[test]
fn base_address_past_the_end_or_inside_the_leader() {
    let len = bad_base().len();
    for base in [len, len + 1, 99_999, 24, 1] {
        let mut b = bad_base();
        set(&mut b, 12, format!("{base:05}").as_bytes());
        assert_strict_error(&b, ErrorKind::BaseAddressInvalid(base), 12);
    }
}

#[test]
fn directory_not_a_multiple_of_twelve() {
    let mut b = bad_base();
    set(&mut b, 12, format!("{:05}", BASE + 1).as_bytes());
    assert_strict_error(&b, ErrorKind::DirectoryLengthInvalid(37), 24);
}

#[test]
fn directory_entry_not_digits() {
    // Entry 1's length, then entry 2's offset.
    let mut b = bad_base();
    b[24 + 12 + 5] = b'x';
    assert_strict_error(&b, ErrorKind::DirectoryEntryNotDigits { entry: 1 }, 36);
    let mut b = bad_base();
    b[24 + 24 + 11] = b' ';
    assert_strict_error(&b, ErrorKind::DirectoryEntryNotDigits { entry: 2 }, 48);
}

#[test]
fn directory_not_ascii() {
    let mut b = bad_base();
    b[24 + 12] = 0xC3;
    assert_strict_error(&b, ErrorKind::DirectoryNotAscii, 24);
}

#[test]
fn directory_entry_outside_the_data() {
    // Entry 2 (245): an offset past the data, a length reaching the record terminator, and
    // a zero length (a field needs at least its terminator).
    let len245 = bad_base().len() - 1 - BASE - F245;
    for (what, value) in [
        ("offset", format!("{:04}{:05}", len245, 9_999)),
        ("length", format!("{:04}{:05}", len245 + 1, F245)),
        ("zero", format!("{:04}{:05}", 0, F245)),
    ] {
        let mut b = bad_base();
        set(&mut b, 24 + 24 + 3, value.as_bytes());
        let e = strict_error(&b);
        assert_eq!(
            *e.kind(),
            ErrorKind::DirectoryEntryOutOfBounds { entry: 2 },
            "{what}"
        );
        assert_eq!(e.offset(), Some(48), "{what}");
    }
}

/// Overlapping directory entries are allowed: ISO 2709 does not forbid two entries sharing
/// bytes, each field is still well terminated, and the strict parser reads what every entry
/// points at. Writing the record back lays the fields out one after another.
#[test]
fn overlapping_directory_entries_are_read() {
    let mut b = bad_base();
    // Point the 008 entry at the 001 field.
    set(&mut b, 24 + 12 + 3, b"000500000");
    let rec = parse(&b, ParseOptions::default()).unwrap();
    assert_eq!(rec.get("001").unwrap().data(), Some("rec1"));
    assert_eq!(rec.get("008").unwrap().data(), Some("rec1"));
    let again = parse(&record_to_bytes(&rec).unwrap(), ParseOptions::default()).unwrap();
    assert!(again.fields().eq(rec.fields()));
    // The 41-byte 008 is now a copy of the 5-byte 001.
    assert_eq!(again.leader().record_length(), Some(b.len() - 41 + 5));
    assert_eq!(strict_error_free(&b), 1);
}

/// Reads `good + b` strictly; returns how many records after the good one came out (and
/// checks there was no error).
fn strict_error_free(b: &[u8]) -> usize {
    let mut file = good();
    file.extend_from_slice(b);
    let items = read_both(&file, ReaderOptions::strict());
    assert!(items.iter().all(|r| r.is_ok()), "{items:?}");
    items.len() - 1
}

#[test]
fn field_terminator_missing() {
    let mut b = bad_base();
    let ft_008 = BASE + 5 + 40;
    assert_eq!(b[ft_008], FT);
    b[ft_008] = b' ';
    assert_strict_error(
        &b,
        ErrorKind::FieldTerminatorMissing { tag: "008".into() },
        ft_008,
    );
}

#[test]
fn directory_terminator_missing() {
    let mut b = bad_base();
    b[BASE - 1] = b'0';
    assert_strict_error(&b, ErrorKind::DirectoryTerminatorMissing, BASE - 1);
    // Lenient parsing does not need it.
    assert_eq!(parse(&b, lenient()).unwrap().len(), 3);
}

#[test]
fn no_fields() {
    let b = raw_record(UTF8_LEADER, &[]);
    assert_strict_error(&b, ErrorKind::NoFields, 24);
}

/// A record with a 245 whose bytes after the tag are `field` (without terminator).
fn with_245(field: &[u8]) -> Vec<u8> {
    raw_record(
        UTF8_LEADER,
        &[
            ("001", b"rec1"),
            ("008", b"870303s1987    nyu           000 0 eng d"),
            ("245", field),
        ],
    )
}

#[test]
fn bad_subfield_codes() {
    // (field bytes, offset of the offending code inside the field)
    let cases: [(&[u8], usize); 5] = [
        (b"10\x1f aSpace as code", 3),
        ("10\x1faOk\x1f\u{e9}t\u{e9}".as_bytes(), 7),
        (b"10\x1f\x01control", 3),
        (b"10\x1faX\x1f\x1fbY", 6),
        (b"10\x1faDelimiter at the end\x1f", 25),
    ];
    for (field, at) in cases {
        let b = with_245(field);
        assert_strict_error(
            &b,
            ErrorKind::BadSubfieldCode { tag: "245".into() },
            BASE + F245 + at,
        );
    }
}

#[test]
fn indicators_not_two_ascii_characters() {
    let cases: [&[u8]; 5] = [
        b"\x1faNo indicators",
        b"1\x1faOne",
        b"100\x1faThree",
        "1\u{e9}\x1faNon-ASCII".as_bytes(),
        b"",
    ];
    for field in cases {
        let b = with_245(field);
        assert_strict_error(
            &b,
            ErrorKind::IndicatorsInvalid { tag: "245".into() },
            BASE + F245,
        );
    }
    // Two indicators and no subfields at all is a valid (if odd) field.
    let rec = parse(&with_245(b"10"), ParseOptions::default()).unwrap();
    assert_eq!(rec.get("245").unwrap().subfields().len(), 0);
}

fn with_utf8_errors(utf8_errors: Utf8Errors) -> ParseOptions {
    ParseOptions {
        utf8_errors,
        ..ParseOptions::default()
    }
}

#[test]
fn invalid_utf8_under_leader_09_a() {
    let b = with_245(b"10\x1faCaf\xe9 society\x1fbok");
    // Strict: the record is an error, located at the subfield's value.
    assert_strict_error(
        &b,
        ErrorKind::InvalidUtf8 { tag: "245".into() },
        BASE + F245 + 4,
    );
    // Replace: one U+FFFD per invalid sequence, like Python's "replace".
    let rec = parse(&b, with_utf8_errors(Utf8Errors::Replace)).unwrap();
    assert_eq!(
        rec.get("245").unwrap().subfield('a'),
        Some("Caf\u{FFFD} society")
    );
    assert_eq!(rec.get("245").unwrap().subfield('b'), Some("ok"));
    // Ignore: dropped.
    let rec = parse(&b, with_utf8_errors(Utf8Errors::Ignore)).unwrap();
    assert_eq!(rec.get("245").unwrap().subfield('a'), Some("Caf society"));
}

#[test]
fn invalid_utf8_replacement_follows_python() {
    // A truncated 4-byte sequence is one U+FFFD; two stray bytes are two.
    let b = with_245(b"10\x1faa\xf0\x9f\x98b\x1fbc\xff\xfed");
    let rec = parse(&b, with_utf8_errors(Utf8Errors::Replace)).unwrap();
    let f = rec.get("245").unwrap();
    assert_eq!(f.subfield('a'), Some("a\u{FFFD}b"));
    assert_eq!(f.subfield('b'), Some("c\u{FFFD}\u{FFFD}d"));
    let rec = parse(&b, with_utf8_errors(Utf8Errors::Ignore)).unwrap();
    let f = rec.get("245").unwrap();
    assert_eq!(f.subfield('a'), Some("ab"));
    assert_eq!(f.subfield('b'), Some("cd"));
}

#[test]
fn invalid_utf8_in_a_control_field() {
    let b = raw_record(UTF8_LEADER, &[("001", b"ab\xffc")]);
    assert_strict_error(&b, ErrorKind::InvalidUtf8 { tag: "001".into() }, 25 + 12);
    let rec = parse(&b, with_utf8_errors(Utf8Errors::Replace)).unwrap();
    assert_eq!(rec.get("001").unwrap().data(), Some("ab\u{FFFD}c"));
}

#[test]
fn invalid_utf8_is_no_error_when_the_bytes_are_not_decoded_as_utf8() {
    let mut b = with_245(b"10\x1faCaf\xe9");
    b[9] = b' '; // leader/09 blank: MARC-8
    assert!(parse(&b, ParseOptions::default()).is_ok());
    let raw = ParseOptions {
        decoding: Decoding::Raw,
        ..ParseOptions::default()
    };
    let b = with_245(b"10\x1faCaf\xe9");
    let rec = parse(&b, raw).unwrap();
    assert_eq!(rec.get("245").unwrap().subfield('a'), Some("Caf\u{e9}"));
}

/// A record terminator inside a field is structurally impossible in ISO 2709 (and a sign
/// the record was spliced or mis-framed): strict parsing reports it where it is; lenient
/// parsing keeps it as data, as pymarc does.
#[test]
fn record_terminator_inside_field_data() {
    let b = with_245(b"10\x1faBefore\x1dafter");
    assert_strict_error(
        &b,
        ErrorKind::RecordTerminatorInField { tag: "245".into() },
        BASE + F245 + 10,
    );
    let rec = parse(&b, lenient()).unwrap();
    assert_eq!(
        rec.get("245").unwrap().subfield('a'),
        Some("Before\u{1d}after")
    );
    // In a control field too.
    let b = raw_record(UTF8_LEADER, &[("001", b"a\x1db")]);
    assert_strict_error(
        &b,
        ErrorKind::RecordTerminatorInField { tag: "001".into() },
        25 + 12 + 1,
    );
}

#[test]
fn every_prefix_of_a_file_is_records_then_truncation() {
    let (file, ranges) = sample_file(4);
    for cut in 0..=file.len() {
        for recovery in [Recovery::Stop, Recovery::SkipRecord, Recovery::Resync] {
            let opts = ReaderOptions {
                recovery,
                ..ReaderOptions::default()
            };
            let items = read_both(&file[..cut], opts);
            let whole = ranges.iter().filter(|r| r.end <= cut).count();
            let ok: Vec<_> = items.iter().take_while(|r| r.is_ok()).collect();
            assert_eq!(ok.len(), whole, "cut at {cut}");
            match ranges.iter().find(|r| r.start < cut && cut < r.end) {
                None => assert_eq!(items.len(), whole, "cut at a boundary: {cut}"),
                Some(r) => {
                    let found = cut - r.start;
                    let expected = if found < 5 { 5 } else { r.len() };
                    assert_eq!(items.len(), whole + 1, "cut at {cut}");
                    assert_eq!(
                        items[whole].clone().unwrap_err(),
                        Error::at(
                            ErrorKind::TruncatedRecord { expected, found },
                            whole as u64,
                            r.start as u64
                        )
                    );
                }
            }
        }
    }
}

#[test]
fn an_io_error_is_reported_with_its_position_and_ends_the_stream() {
    let (file, ranges) = sample_file(3);
    let fail_after = ranges[1].start + 10;
    let source = FailingReader {
        data: &file,
        pos: 0,
        fail_after,
    };
    let items: Vec<_> = Reader::with_options(source, ReaderOptions::resyncing())
        .take(10)
        .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    let e = items[1].clone().unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::Io(std::io::ErrorKind::BrokenPipe, _)
    ));
    assert_eq!(e.record(), Some(1));
    assert_eq!(e.offset(), Some(ranges[1].start as u64));
    // The reader's own io::Error is kept, for callers that look at its errno or kind.
    let source = std::error::Error::source(&e).expect("the I/O error is the source");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
    assert_eq!(io.to_string(), "gone");
}

/// Data fields of the given value lengths (each field is its value plus five bytes:
/// two indicators, delimiter, code, terminator).
fn record_with_values(lengths: &[usize]) -> Record {
    let mut r = Record::new();
    for (i, &n) in lengths.iter().enumerate() {
        let value: String = (0..n)
            .map(|j| char::from(b'a' + ((i + j) % 26) as u8))
            .collect();
        r.push(&Field::data(
            tag("500"),
            ' ',
            ' ',
            vec![Subfield::new('a', value)],
        ));
    }
    r
}

#[test]
fn the_largest_record_reads_from_a_slice_and_a_trickling_stream() {
    // 11 fields: base 24 + 133 = 157; fields total 99,999 - 157 - 1 = 99,841.
    let mut lengths = vec![9_076 - 5; 10];
    lengths.push(9_081 - 5);
    let rec = record_with_values(&lengths);
    let bytes = record_to_bytes(&rec).unwrap();
    assert_eq!(bytes.len(), 99_999);
    assert_eq!(&bytes[..5], b"99999");
    let mut file = bytes.clone();
    file.extend_from_slice(&bytes);
    for items in [
        read_slice(&file, ReaderOptions::strict()),
        read_choppy(&file, ReaderOptions::strict(), 7),
        Reader::new(ChoppyReader::with_max_piece(&file, 3, 40_000)).collect(),
    ] {
        assert_eq!(items.len(), 2);
        for r in items {
            let mut expected = rec.clone();
            expected.leader_mut().set_record_length(99_999);
            expected.leader_mut().set_base_address(157);
            expected.leader_mut().set_character_coding_scheme(b'a');
            assert_eq!(r.unwrap(), expected);
        }
    }
}

/// After stray bytes longer than any buffer, a record of the largest size is found again
/// however the stream arrives (the reader keeps a record's worth of bytes while it
/// searches for the next terminator).
#[test]
fn resync_finds_the_largest_record_after_a_long_gap() {
    let mut lengths = vec![9_076 - 5; 10];
    lengths.push(9_081 - 5);
    let big = record_to_bytes(&record_with_values(&lengths)).unwrap();
    assert_eq!(big.len(), 99_999);
    for gap in [1, 99_998, 99_999, 100_000, 199_998, 250_001] {
        let mut file = vec![b'z'; gap];
        file.extend_from_slice(&big);
        file.extend_from_slice(&good());
        let expected = vec![
            Err(Error::at(ErrorKind::RecordLengthNotDigits, 0, 0)),
            parse(&big, ParseOptions::default()),
            parse(&good(), ParseOptions::default()),
        ];
        assert_eq!(
            read_both(&file, ReaderOptions::resyncing()),
            expected,
            "gap {gap}"
        );
        for max_piece in [1_000, 65_536, 150_000] {
            let source = ChoppyReader::with_max_piece(&file, gap as u64, max_piece);
            let items: Vec<_> = Reader::with_options(source, ReaderOptions::resyncing()).collect();
            assert_eq!(items, expected, "gap {gap}, pieces up to {max_piece}");
        }
    }
}

/// What a naive writer would produce for a record whose directory alone is 120,001 bytes:
/// lengths that do not fit five digits, cut to their last five. The reader must fail
/// cleanly, and resynchronise past it.
#[test]
fn ten_thousand_fields_cannot_be_framed() {
    let fields: Vec<(&str, &[u8])> = vec![("500", &b"  \x1fax"[..]); 10_000];
    let mut huge = raw_record_unchecked(&fields);
    assert!(huge.len() > 99_999);
    let real_len = huge.len();
    set(
        &mut huge,
        0,
        format!("{:05}", real_len % 100_000).as_bytes(),
    );
    set(
        &mut huge,
        12,
        format!("{:05}", (24 + 120_001) % 100_000).as_bytes(),
    );

    let items = read_both(&huge, ReaderOptions::strict());
    assert_eq!(
        items,
        vec![Err(Error::at(ErrorKind::EndOfRecordNotFound, 0, 0))]
    );
    // With a good record after it, resynchronising finds that record.
    let g = good();
    let mut file = huge.clone();
    file.extend_from_slice(&g);
    let items = read_both(&file, ReaderOptions::resyncing());
    assert_eq!(items.len(), 2, "{:?}", errors(&items));
    assert_eq!(
        items[0],
        Err(Error::at(ErrorKind::EndOfRecordNotFound, 0, 0))
    );
    assert_eq!(items[1], parse(&g, ParseOptions::default()));
}

/// `raw_record` without the five-digit formatting limits (for records too big for ISO 2709).
fn raw_record_unchecked(fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (t, bytes) in fields {
        let len = bytes.len() + 1;
        directory.extend_from_slice(format!("{t}{len:04}{:05}", data.len() % 100_000).as_bytes());
        data.extend_from_slice(bytes);
        data.push(FT);
    }
    directory.push(FT);
    let mut out = UTF8_LEADER.to_vec();
    out.extend_from_slice(&directory);
    out.extend_from_slice(&data);
    out.push(RT);
    out
}

/// A structural or digit byte more often than chance would give.
fn record_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        1 => Just(FT),
        2 => Just(SD),
        1 => Just(RT),
        2 => b'0'..=b'9',
        2 => b'a'..=b'z',
    ]
}

/// A record-shaped byte string: a mostly-ASCII leader, a well-formatted directory whose
/// entries point anywhere near the data, then random data; length and base address are
/// right unless `skew` shifts them, so random content gets past framing into the parser.
fn shaped_record(
    leader: &[u8],
    entries: &[([u8; 3], usize, usize)],
    data: &[u8],
    skew: (usize, usize),
) -> Vec<u8> {
    let mut out = leader.to_vec();
    for (t, len, off) in entries {
        out.extend_from_slice(t);
        out.extend_from_slice(format!("{len:04}{off:05}").as_bytes());
    }
    out.push(FT);
    let base = out.len() + skew.1;
    out.extend_from_slice(data);
    out.push(RT);
    let total = out.len() + skew.0;
    out[0..5].copy_from_slice(format!("{:05}", total % 100_000).as_bytes());
    out[12..17].copy_from_slice(format!("{:05}", base % 100_000).as_bytes());
    out
}

fn arb_tag_bytes() -> impl Strategy<Value = [u8; 3]> {
    prop_oneof![
        3 => (0u8..10, 0u8..10, 0u8..10).prop_map(|(a, b, c)| [b'0' + a, b'0' + b, b'0' + c]),
        1 => any::<[u8; 3]>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_any_input(&data);
        for strict in [true, false] {
            let opts = ParseOptions { strict, ..ParseOptions::default() };
            let _ = parse(&data, opts);
        }
    }

    #[test]
    fn random_record_shaped_bytes_never_panic(
        leader in proptest::collection::vec(prop_oneof![9 => 0u8..128, 1 => any::<u8>()], 24),
        coding in prop_oneof![Just(b'a'), Just(b' ')],
        entries in proptest::collection::vec((arb_tag_bytes(), 0usize..60, 0usize..300), 0..12),
        data in proptest::collection::vec(record_byte(), 0..300),
        skew in prop_oneof![4 => Just((0usize, 0usize)), 1 => (0usize..3, 0usize..3)],
    ) {
        let mut leader = leader;
        leader[9] = coding;
        let rec = shaped_record(&leader, &entries, &data, skew);
        let mut file = rec.clone();
        file.extend_from_slice(&small_raw_record("after"));
        file.extend_from_slice(&rec);
        check_any_input(&file);
        let some_tags = || {
            let mut set = fastmarc::TagSet::new();
            for t in ["001", "245", "650"] {
                set.insert(tag(t));
            }
            set.insert_others();
            set
        };
        for strict in [true, false] {
            for decoding in [Decoding::Auto, Decoding::Raw, Decoding::Marc8, Decoding::Utf8] {
                for utf8_errors in [Utf8Errors::Strict, Utf8Errors::Replace, Utf8Errors::Ignore] {
                    let opts = ParseOptions {
                        strict,
                        decoding,
                        utf8_errors,
                        // The UTF-8 check runs on what the decoder runs on: one switch
                        // covers both.
                        detect_utf8_under_marc8: strict,
                    };
                    let _ = parse(&rec, opts);
                    // Skipping fields must not panic either.
                    let _ = parse_record_fields(&rec, &opts, &some_tags(), &mut Record::new());
                }
            }
        }
    }
}

#[test]
fn garbage_stream_terminates_in_every_mode() {
    // Digits that announce huge records, over and over, with terminators here and there.
    let mut data = Vec::new();
    for i in 0..2_000u32 {
        data.extend_from_slice(b"99999");
        if i % 7 == 0 {
            data.push(RT);
        }
    }
    check_any_input(&data);
    let items = read_both(&data, ReaderOptions::resyncing());
    assert!(items.len() > 200);
    assert!(items.iter().all(|r| r.is_err()));
    assert_eq!(SliceReader::new(&data).count(), 1);
}

#[test]
fn lenient_parsing_refuses_input_too_long_for_a_record() {
    // A good record with a huge last field: lenient parsing takes the directory's word for
    // lengths, but input this long (64 MiB and more) is an error, not 4 GiB of spans.
    let mut b = bad_base();
    let end = b.len() - 1;
    b.splice(end..end, std::iter::repeat_n(b'x', 1 << 26));
    let e = parse(&b, lenient()).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::RecordLengthInvalid(b.len()));
    assert_eq!(e.offset(), Some(0));
    // Just under the limit it parses.
    b.truncate((1 << 26) - 1);
    b.push(RT);
    assert!(parse(&b, lenient()).is_ok());
}
