//! Reading ISO 2709: the three recovery modes, slice and streaming readers agreeing, lenient
//! (pymarc-like) parsing, and every MARC file in pymarc's test suite.

mod common;

use common::*;
use fastmarc::iso2709::{
    parse_record, Decoding, ParseOptions, Reader, ReaderOptions, Recovery, SliceReader,
};
use fastmarc::{Error, ErrorKind, Record, SubfieldRef};

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

fn with_recovery(recovery: Recovery, parse: ParseOptions) -> ReaderOptions {
    ReaderOptions { parse, recovery }
}

// ---- recovery modes -----------------------------------------------------------------

/// A stream with one of each kind of damage between good records. Returns the bytes and
/// the start offset of each part.
fn damaged_stream() -> (Vec<u8>, Vec<usize>) {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    parts.push(small_raw_record("r0"));
    // 1: a record-level error (base address zero); framing is fine.
    let mut bad = small_raw_record("r1");
    bad[12..17].copy_from_slice(b"00000");
    parts.push(bad);
    parts.push(small_raw_record("r2"));
    // 3: broken framing: the length is not digits.
    let mut bad = small_raw_record("r3");
    bad[1] = b'O';
    parts.push(bad);
    parts.push(small_raw_record("r4"));
    // 5: broken framing: the length is ten bytes short.
    let mut bad = small_raw_record("r5");
    let short = format!("{:05}", bad.len() - 10);
    bad[..5].copy_from_slice(short.as_bytes());
    parts.push(bad);
    parts.push(small_raw_record("r6"));
    // 7: stray bytes ending in a record terminator.
    parts.push(b"junk\x1d".to_vec());
    parts.push(small_raw_record("r8"));
    // 9: cut off by the end of the stream.
    let cut = small_raw_record("r9");
    parts.push(cut[..40].to_vec());

    let mut file = Vec::new();
    let mut starts = Vec::new();
    for p in &parts {
        starts.push(file.len());
        file.extend_from_slice(p);
    }
    (file, starts)
}

fn good(id: &str) -> Result<Record, Error> {
    parse(&small_raw_record(id), ParseOptions::default())
}

#[test]
fn stop_ends_after_the_first_error() {
    let (file, at) = damaged_stream();
    let items = read_both(&file, ReaderOptions::strict());
    assert_eq!(
        items,
        vec![
            good("r0"),
            Err(Error::at(
                ErrorKind::BaseAddressNotFound,
                1,
                at[1] as u64 + 12
            )),
        ]
    );
    // And after broken framing too.
    let items = read_both(&file[at[2]..], ReaderOptions::strict());
    assert_eq!(
        items,
        vec![
            good("r2"),
            Err(Error::at(
                ErrorKind::RecordLengthNotDigits,
                1,
                (at[3] - at[2]) as u64
            )),
        ]
    );
}

#[test]
fn skip_record_goes_past_bad_records_but_not_broken_framing() {
    let (file, at) = damaged_stream();
    let opts = with_recovery(Recovery::SkipRecord, ParseOptions::default());
    let items = read_both(&file, opts);
    assert_eq!(
        items,
        vec![
            good("r0"),
            Err(Error::at(
                ErrorKind::BaseAddressNotFound,
                1,
                at[1] as u64 + 12
            )),
            good("r2"),
            Err(Error::at(ErrorKind::RecordLengthNotDigits, 3, at[3] as u64)),
        ]
    );
}

#[test]
fn resync_delivers_every_good_record() {
    let (file, at) = damaged_stream();
    let items = read_both(&file, ReaderOptions::resyncing());
    assert_eq!(
        items,
        vec![
            good("r0"),
            Err(Error::at(
                ErrorKind::BaseAddressNotFound,
                1,
                at[1] as u64 + 12
            )),
            good("r2"),
            Err(Error::at(ErrorKind::RecordLengthNotDigits, 3, at[3] as u64)),
            good("r4"),
            Err(Error::at(ErrorKind::EndOfRecordNotFound, 5, at[5] as u64)),
            good("r6"),
            Err(Error::at(ErrorKind::RecordLengthNotDigits, 7, at[7] as u64)),
            good("r8"),
            Err(Error::at(
                ErrorKind::TruncatedRecord {
                    expected: small_raw_record("r9").len(),
                    found: 40
                },
                9,
                at[9] as u64
            )),
        ]
    );
    assert_eq!(ReaderOptions::resyncing().recovery, Recovery::Resync);
}

/// Stray bytes without a record terminator (a line end between records, a record cut off
/// in the middle) are one error; the record after them is found again: it is the one the
/// next terminator ends.
#[test]
fn resync_finds_the_record_after_stray_bytes() {
    let mut file = small_raw_record("a");
    let crlf = file.len();
    file.extend_from_slice(b"\r\n");
    file.extend_from_slice(&small_raw_record("b"));
    let cut = file.len();
    file.extend_from_slice(&small_raw_record("cut")[..70]);
    file.extend_from_slice(&small_raw_record("c"));
    file.extend_from_slice(b"\n");
    let items = read_both(&file, ReaderOptions::resyncing());
    assert_eq!(
        items,
        vec![
            good("a"),
            Err(Error::at(ErrorKind::RecordLengthNotDigits, 1, crlf as u64)),
            good("b"),
            Err(Error::at(ErrorKind::EndOfRecordNotFound, 3, cut as u64)),
            good("c"),
            Err(Error::at(
                ErrorKind::TruncatedRecord {
                    expected: 5,
                    found: 1
                },
                5,
                file.len() as u64 - 1
            )),
        ]
    );
}

/// Stray bytes that end in a terminator but hold no record are skipped through it.
#[test]
fn resync_skips_stray_bytes_through_their_terminator() {
    let mut file = small_raw_record("a");
    let junk = file.len();
    file.extend_from_slice(b"00030 not a record \x1d");
    file.extend_from_slice(&small_raw_record("b"));
    let items = read_both(&file, ReaderOptions::resyncing());
    assert_eq!(
        items,
        vec![
            good("a"),
            Err(Error::at(ErrorKind::EndOfRecordNotFound, 1, junk as u64)),
            good("b"),
        ]
    );
}

/// Resynchronising works the same however far the next terminator is: here megabytes of
/// stray bytes lie between two records, more than any buffer holds at once.
#[test]
fn resync_over_a_long_stretch_without_terminators() {
    let mut file = small_raw_record("a");
    let junk = file.len();
    file.extend(std::iter::repeat_n(b'z', 3_000_000));
    file.extend_from_slice(&small_raw_record("b"));
    let items = read_both(&file, ReaderOptions::resyncing());
    assert_eq!(
        items,
        vec![
            good("a"),
            Err(Error::at(ErrorKind::RecordLengthNotDigits, 1, junk as u64)),
            good("b"),
        ]
    );
}

#[test]
fn readers_agree_however_the_input_is_split() {
    let (file, _) = damaged_stream();
    for recovery in [Recovery::Stop, Recovery::SkipRecord, Recovery::Resync] {
        for strict in [true, false] {
            let opts = with_recovery(
                recovery,
                ParseOptions {
                    strict,
                    ..ParseOptions::default()
                },
            );
            let expected = read_slice(&file, opts);
            for seed in 0..40 {
                assert_eq!(read_choppy(&file, opts, seed), expected, "seed {seed}");
            }
            let one_byte: Vec<_> =
                Reader::with_options(ChoppyReader::with_max_piece(&file, 9, 1), opts).collect();
            assert_eq!(one_byte, expected);
        }
    }
}

#[test]
fn read_record_reuses_one_record_and_matches_the_iterator() {
    let (file, _) = damaged_stream();
    let opts = ReaderOptions::resyncing();
    let expected = read_slice(&file, opts);
    let mut slice = SliceReader::with_options(&file, opts);
    let mut stream = Reader::with_options(ChoppyReader::new(&file, 3), opts);
    let mut rec = Record::new();
    let mut rec2 = Record::new();
    for want in &expected {
        let got = slice.read_record(&mut rec).map(|more| {
            assert!(more);
            rec.clone()
        });
        assert_eq!(&got, want);
        let got = stream.read_record(&mut rec2).map(|more| {
            assert!(more);
            rec2.clone()
        });
        assert_eq!(&got, want);
    }
    assert_eq!(slice.read_record(&mut rec), Ok(false));
    assert_eq!(stream.read_record(&mut rec2), Ok(false));
    // The cut-off record at the end is reported, not consumed.
    assert_eq!(slice.offset(), file.len() as u64 - 40);
    assert_eq!(stream.offset(), file.len() as u64 - 40);
}

#[test]
fn next_raw_gives_the_framed_bytes() {
    let (file, ranges) = sample_file(3);
    let mut reader = Reader::new(ChoppyReader::new(&file, 11));
    for r in &ranges {
        assert_eq!(reader.next_raw().unwrap().unwrap(), &file[r.clone()]);
    }
    assert!(reader.next_raw().is_none());
    assert_eq!(reader.offset(), file.len() as u64);
}

// ---- lenient parsing, as pymarc's Record.decode_marc ---------------------------------

/// The 245 of a lenient parse of a record whose 245 bytes are `field`.
fn lenient_245(field: &[u8]) -> (Vec<char>, Vec<(char, String)>) {
    let b = raw_record(UTF8_LEADER, &[("001", b"x"), ("245", field)]);
    let rec = parse(&b, lenient()).unwrap();
    let f = rec.get("245").unwrap();
    let subs = f
        .subfields()
        .map(|SubfieldRef { code, value }| (code, value.to_string()))
        .collect();
    (f.indicators().to_vec(), subs)
}

fn sub(code: char, value: &str) -> (char, String) {
    (code, value.to_string())
}

// Expected values below are what pymarc 5.4.0 gives for the same bytes.

#[test]
fn lenient_indicators() {
    assert_eq!(
        lenient_245(b"\x1faX"),
        (vec![' ', ' '], vec![sub('a', "X")])
    );
    assert_eq!(
        lenient_245(b"1\x1faX"),
        (vec!['1', ' '], vec![sub('a', "X")])
    );
    assert_eq!(
        lenient_245(b"123\x1faX"),
        (vec!['1', '2'], vec![sub('a', "X")])
    );
    // Non-ASCII indicators cannot be decoded (pymarc raises UnicodeDecodeError).
    let b = raw_record(UTF8_LEADER, &[("245", "\u{e9}0\x1faX".as_bytes())]);
    assert_eq!(
        parse(&b, lenient()).unwrap_err().into_kind(),
        ErrorKind::IndicatorsInvalid { tag: "245".into() }
    );
}

#[test]
fn lenient_empty_subfields_are_skipped() {
    assert_eq!(
        lenient_245(b"10\x1f\x1faX\x1f"),
        (vec!['1', '0'], vec![sub('a', "X")])
    );
}

#[test]
fn lenient_subfield_codes() {
    // Any ASCII byte is a code, even a blank or a control character.
    assert_eq!(lenient_245(b"10\x1f aX").1, vec![sub(' ', "aX")]);
    assert_eq!(lenient_245(b"10\x1f\x01aX").1, vec![sub('\u{1}', "aX")]);
    // A non-ASCII code is decomposed and its first ASCII character used; the code takes
    // the bytes of the first character (UTF-8), or one byte when that is not UTF-8.
    assert_eq!(
        lenient_245("10\x1f\u{e9}X".as_bytes()).1,
        vec![sub('e', "X")]
    );
    assert_eq!(lenient_245(b"10\x1f\xe9X").1, vec![sub('e', "X")]);
    // The first ASCII character of the decomposition may lie beyond the code.
    assert_eq!(
        lenient_245("10\x1f\u{20ac}Y".as_bytes()).1,
        vec![sub('Y', "Y")]
    );
    // No ASCII at all: pymarc fails with IndexError; here it is a bad subfield code.
    let b = raw_record(UTF8_LEADER, &[("245", "10\x1f\u{20ac}".as_bytes())]);
    let e = parse(&b, lenient()).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::BadSubfieldCode { tag: "245".into() });
    assert_eq!(e.offset(), Some(37 + 3));
}

/// 001 "abc" and 245 "10\x1faX" with the 245's directory entry (length and offset, nine
/// digits) replaced.
fn with_245_entry(entry: &[u8; 9]) -> Vec<u8> {
    let mut b = raw_record(UTF8_LEADER, &[("001", b"abc"), ("245", b"10\x1faX")]);
    b[24 + 12 + 3..24 + 24].copy_from_slice(entry);
    b
}

#[test]
fn lenient_field_data_is_the_entry_less_its_last_byte() {
    // One byte short: the last data byte goes, not the terminator.
    assert_eq!(lenient_245(b"10\x1faX").1, vec![sub('a', "X")]);
    let rec = parse(&with_245_entry(b"000500004"), lenient()).unwrap();
    assert_eq!(rec.get("245").unwrap().subfield('a'), Some(""));
    // Strict parsing wants the terminator there.
    assert_eq!(
        parse(&with_245_entry(b"000500004"), ParseOptions::default())
            .unwrap_err()
            .into_kind(),
        ErrorKind::FieldTerminatorMissing { tag: "245".into() }
    );
    // A zero length gives an empty field.
    let mut b = with_245_entry(b"000600004");
    b[24 + 3..24 + 7].copy_from_slice(b"0000");
    assert_eq!(
        parse(&b, lenient()).unwrap().get("001").unwrap().data(),
        Some("")
    );
}

#[test]
fn lenient_directory_entries_out_of_bounds_are_clamped() {
    // An offset past the data: an empty field, blank indicators, no subfields.
    let rec = parse(&with_245_entry(b"000609999"), lenient()).unwrap();
    let f = rec.get("245").unwrap();
    assert_eq!(f.indicators(), [' ', ' ']);
    assert_eq!(f.subfields().len(), 0);
    // A length past the end: the field runs to the end of the record, terminators and all.
    let rec = parse(&with_245_entry(b"005000004"), lenient()).unwrap();
    assert_eq!(rec.get("245").unwrap().subfield('a'), Some("X\u{1e}\u{1d}"));
    // Strict parsing refuses both.
    for entry in [b"000609999", b"005000004"] {
        assert_eq!(
            parse(&with_245_entry(entry), ParseOptions::default())
                .unwrap_err()
                .into_kind(),
            ErrorKind::DirectoryEntryOutOfBounds { entry: 1 }
        );
    }
}

#[test]
fn lenient_numbers_may_be_padded_with_blanks() {
    // pymarc reads lengths and offsets with int(), which ignores surrounding blanks.
    let rec = parse(&with_245_entry(b" 006    4"), lenient()).unwrap();
    assert_eq!(rec.get("245").unwrap().subfield('a'), Some("X"));
    assert_eq!(
        parse(&with_245_entry(b" 006    4"), ParseOptions::default())
            .unwrap_err()
            .into_kind(),
        ErrorKind::DirectoryEntryNotDigits { entry: 1 }
    );
    // Blanks inside a number are not accepted by int() either.
    assert_eq!(
        parse(&with_245_entry(b"0 0600004"), lenient())
            .unwrap_err()
            .into_kind(),
        ErrorKind::DirectoryEntryNotDigits { entry: 1 }
    );
}

#[test]
fn lenient_parsing_does_not_need_terminators() {
    let mut b = raw_record(UTF8_LEADER, &[("001", b"abc"), ("245", b"10\x1faX")]);
    let base = 24 + 24 + 1;
    b[base - 1] = b' '; // directory terminator
    b[base + 3] = b'.'; // 001's field terminator
    let rec = parse(&b, lenient()).unwrap();
    assert_eq!(rec.get("001").unwrap().data(), Some("abc"));
    assert_eq!(rec.get("245").unwrap().subfield('a'), Some("X"));
    assert_eq!(
        parse(&b, ParseOptions::default()).unwrap_err().into_kind(),
        ErrorKind::DirectoryTerminatorMissing
    );
}

#[test]
fn lenient_parsing_still_needs_fields_and_a_base_address() {
    let b = raw_record(UTF8_LEADER, &[]);
    assert_eq!(
        parse(&b, lenient()).unwrap_err().into_kind(),
        ErrorKind::NoFields
    );
    let mut b = small_raw_record("x");
    b[12..17].copy_from_slice(b"00000");
    assert_eq!(
        parse(&b, lenient()).unwrap_err().into_kind(),
        ErrorKind::BaseAddressNotFound
    );
}

// ---- pymarc's test files --------------------------------------------------------------

/// Records and failures pymarc 5.4.0's MARCReader reports for each file (a `None` from the
/// reader is a failure), found by running pymarc on the files; identical with
/// `to_unicode=True` and `to_unicode=False`.
const PYMARC_COUNTS: &[(&str, usize, usize)] = &[
    ("1251.dat", 6, 0),
    ("alphatag.dat", 1, 0),
    ("bad_eacc_encoding.dat", 1, 0),
    ("bad_indicator.dat", 1, 1),
    ("bad_marc8_escape.dat", 1, 0),
    ("bad_records.mrc", 2, 7),
    ("bad_subfield_code.dat", 1, 0),
    ("diacritic.dat", 1, 0),
    ("marc.dat", 20, 0),
    ("marc8-to-unicode.dat", 1, 0),
    ("marc8.dat", 1, 0),
    ("multi_isbn.dat", 1, 0),
    ("one.dat", 1, 0),
    ("regression45.dat", 12, 0),
    ("test.dat", 10, 0),
    ("testunimarc.dat", 1, 1),
    ("utf8_errors.dat", 1, 0),
    ("utf8_invalid.mrc", 1, 0),
    ("utf8_with_leader_flag.dat", 1, 0),
    ("utf8_without_leader_flag.dat", 1, 0),
];

fn pymarc_counts(name: &str) -> (usize, usize) {
    let (_, ok, bad) = PYMARC_COUNTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not in PYMARC_COUNTS"));
    (*ok, *bad)
}

/// Read a file in every recovery mode (checking they are consistent) and return the
/// `SkipRecord` result, which is what pymarc's reader corresponds to.
fn read_skipping(bytes: &[u8], parse: ParseOptions) -> Vec<fastmarc::Result<Record>> {
    through_first_framing_error(&read_all_modes(bytes, parse))
}

#[test]
fn pymarc_files_are_all_known() {
    let names: Vec<String> = pymarc_marc_files().into_iter().map(|(n, _)| n).collect();
    let known: Vec<&str> = PYMARC_COUNTS.iter().map(|(n, _, _)| *n).collect();
    assert_eq!(names, known);
}

#[test]
fn pymarc_files_read_leniently_like_pymarc() {
    for (name, bytes) in pymarc_marc_files() {
        let (ok, bad) = pymarc_counts(&name);
        for decoding in [Decoding::Auto, Decoding::Raw] {
            let parse = ParseOptions {
                strict: false,
                decoding,
                ..ParseOptions::default()
            };
            let items = read_skipping(&bytes, parse);
            assert_eq!(count_ok(&items), ok, "{name} {decoding:?}: records");
            assert_eq!(items.len() - ok, bad, "{name} {decoding:?}: failures");
            // Resync finds nothing more: in these files broken framing is only at the end.
            let resync = read_both(&bytes, with_recovery(Recovery::Resync, parse));
            assert_eq!(resync, items, "{name}: Resync");
        }
    }
}

/// An error as (kind, record number, stream offset).
type Located = (ErrorKind, u64, u64);

#[test]
fn pymarc_files_read_strictly() {
    // Files with records strict parsing rejects, and why; every other file reads exactly
    // as pymarc reads it.
    let strict_failures: &[(&str, usize, &[Located])] = &[
        (
            "bad_indicator.dat",
            0,
            &[
                (ErrorKind::IndicatorsInvalid { tag: "0 2".into() }, 0, 325),
                (ErrorKind::RecordLengthNotDigits, 1, 1159),
            ],
        ),
        (
            "bad_subfield_code.dat",
            0,
            &[(
                ErrorKind::FieldTerminatorMissing { tag: "245".into() },
                0,
                531,
            )],
        ),
        (
            "utf8_invalid.mrc",
            0,
            &[(ErrorKind::BadSubfieldCode { tag: "260".into() }, 0, 497)],
        ),
    ];
    for (name, bytes) in pymarc_marc_files() {
        let parse = ParseOptions {
            decoding: Decoding::Raw,
            ..ParseOptions::default()
        };
        let items = read_skipping(&bytes, parse);
        let found: Vec<_> = errors(&items)
            .into_iter()
            .map(|(k, r, o)| (k, r.unwrap(), o.unwrap()))
            .collect();
        if name == "regression45.dat" {
            // Eleven of its twelve records have a 752 with three indicator bytes.
            assert_eq!(count_ok(&items), 1);
            assert_eq!(found.len(), 11);
            assert!(found.iter().enumerate().all(|(i, (k, r, _))| *r == i as u64
                && *k == ErrorKind::IndicatorsInvalid { tag: "752".into() }));
        } else if let Some((_, ok, errs)) = strict_failures.iter().find(|(n, _, _)| *n == name) {
            assert_eq!(count_ok(&items), *ok, "{name}");
            assert_eq!(found, errs.to_vec(), "{name}");
        } else {
            let (ok, bad) = pymarc_counts(&name);
            assert_eq!(count_ok(&items), ok, "{name}");
            assert_eq!(found.len(), bad, "{name}");
        }
    }
}

#[test]
fn bad_records_mrc_fails_where_pymarc_fails() {
    // pymarc: BaseAddressInvalid, BaseAddressNotFound, RecordDirectoryInvalid,
    // UnicodeDecodeError (directory), ValueError (base address), NoFieldsFound, then one
    // good record and TruncatedRecord.
    let bytes = pymarc_file("bad_records.mrc");
    for strict in [true, false] {
        let parse = ParseOptions {
            strict,
            ..ParseOptions::default()
        };
        let items = read_both(&bytes, with_recovery(Recovery::SkipRecord, parse));
        let kinds: Vec<Option<ErrorKind>> = items
            .iter()
            .map(|r| r.as_ref().err().map(|e| e.kind().clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                None,
                Some(ErrorKind::BaseAddressInvalid(99_937)),
                Some(ErrorKind::BaseAddressNotFound),
                Some(ErrorKind::DirectoryLengthInvalid(13)),
                Some(ErrorKind::DirectoryNotAscii),
                Some(ErrorKind::BaseAddressNotDigits),
                Some(ErrorKind::NoFields),
                None,
                Some(ErrorKind::TruncatedRecord {
                    expected: 127,
                    found: 100
                }),
            ]
        );
        for r in items.iter().filter_map(|r| r.as_ref().ok()) {
            let f = r.get("245").unwrap();
            assert_eq!(f.subfield('a'), Some("The pragmatic programmer : "));
            assert_eq!(f.subfield('b'), Some("from journeyman to master /"));
            assert_eq!(f.subfield('c'), Some("Andrew Hunt, David Thomas."));
        }
    }
}

#[test]
fn pymarc_reader_tests_hold() {
    // The facts pymarc's own reader tests check.
    let lenient_items = |name: &str| {
        read_both(
            &pymarc_file(name),
            with_recovery(Recovery::SkipRecord, lenient()),
        )
    };
    let rec = lenient_items("bad_subfield_code.dat").remove(0).unwrap();
    assert_eq!(
        rec.get("245").unwrap().subfield('a'),
        Some("ActivePerl with ASP and ADO /")
    );
    let rec = lenient_items("bad_indicator.dat").remove(0).unwrap();
    assert_eq!(
        rec.get("245").unwrap().subfield('a'),
        Some("Aristocrats of color :")
    );
    let rec = lenient_items("regression45.dat").remove(0).unwrap();
    let f = rec.get("752").unwrap();
    assert_eq!(f.subfield('a'), Some("Russian Federation"));
    assert_eq!(f.subfield('b'), Some("Kostroma Oblast"));
    assert_eq!(f.subfield('d'), Some("Kostroma"));
    let titles: Vec<_> = read_both(&pymarc_file("test.dat"), ReaderOptions::strict())
        .into_iter()
        .map(|r| r.unwrap().title().unwrap_or_default())
        .collect();
    assert_eq!(titles.len(), 10);
    assert!(
        titles[0].starts_with("ActivePerl with ASP and ADO /"),
        "{titles:?}"
    );
}

#[test]
fn utf8_files_decode_as_utf8() {
    let with_flag = read_both(
        &pymarc_file("utf8_with_leader_flag.dat"),
        ReaderOptions::strict(),
    );
    let without = read_both(
        &pymarc_file("utf8_without_leader_flag.dat"),
        ReaderOptions {
            parse: ParseOptions {
                decoding: Decoding::Utf8,
                ..ParseOptions::default()
            },
            ..ReaderOptions::default()
        },
    );
    let a = with_flag[0].as_ref().unwrap();
    let b = without[0].as_ref().unwrap();
    assert!(a.fields().eq(b.fields()));
    assert!(!a.to_string().is_ascii());
}

/// `parse_record_fields`: the record holds just those fields, in order; the text of the others is
/// not decoded (so bad text there is no error), but their directory entries are still
/// checked.
#[test]
fn parsing_some_fields_keeps_those_and_checks_the_rest_of_the_structure() {
    let mut set = fastmarc::TagSet::new();
    set.insert(tag("001"));
    set.insert(tag("650"));
    let only = |bytes: &[u8]| {
        let mut rec = Record::new();
        fastmarc::iso2709::parse_record_fields(bytes, &ParseOptions::default(), &set, &mut rec)
            .map(|()| rec)
    };
    let bytes = raw_record(
        UTF8_LEADER,
        &[
            ("001", b"id1"),
            ("245", b"10\x1faNot UTF-8: \xff\xfe"),
            ("650", b" 0\x1faCats\x1fvFiction."),
            ("500", b"  \x1faA note."),
            ("650", b" 0\x1faDogs"),
        ],
    );
    assert!(parse(&bytes, ParseOptions::default()).is_err());
    let rec = only(&bytes).unwrap();
    let tags: Vec<_> = rec.fields().map(|f| f.tag().to_string()).collect();
    assert_eq!(tags, ["001", "650", "650"]);
    assert_eq!(rec.fields().nth(1).unwrap().value(), "Cats Fiction.");

    // A field outside the set that runs past the data area is still a strict error.
    let mut broken = bytes.clone();
    let entry = 24 + 12 * 3; // the 500's directory entry
    broken[entry + 3..entry + 7].copy_from_slice(b"9999");
    let e = only(&broken).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::DirectoryEntryOutOfBounds { entry: 3 }),
        "{e}"
    );
}

/// A MARC-8 record's kept fields are decoded as the whole parse decodes them, field by
/// field: a plain ASCII field as it is, one with an escape or a combining mark decoded,
/// even when every other field is plain.
#[test]
fn a_projection_decodes_each_marc8_field_it_keeps() {
    let mut set = fastmarc::TagSet::new();
    set.insert(tag("245"));
    set.insert(tag("650"));
    let bytes = raw_record(
        MARC8_LEADER,
        &[
            ("001", b"m8"),
            ("245", b"10\x1faPlain title"),
            ("650", b" 0\x1faCaf\xe2e"),
            ("650", b" 0\x1fa\x1b(BMenus"),
            ("700", b"1 \x1faNot kept"),
        ],
    );
    for decoding in [Decoding::Auto, Decoding::Marc8, Decoding::Raw] {
        let opts = ParseOptions {
            decoding,
            ..ParseOptions::default()
        };
        let whole = parse(&bytes, opts).unwrap();
        let mut part = Record::new();
        fastmarc::iso2709::parse_record_fields(&bytes, &opts, &set, &mut part).unwrap();
        let kept: Vec<_> = whole
            .fields()
            .filter(|f| ["245", "650"].contains(&f.tag().as_str()))
            .collect();
        assert!(kept.iter().copied().eq(part.fields()), "{decoding:?}");
        if decoding != Decoding::Raw {
            let values: Vec<_> = part.fields().map(|f| f.value()).collect();
            assert_eq!(values, ["Plain title", "Caf\u{e9}", "Menus"]);
        }
    }
}

proptest::proptest! {
    /// A projection's fields are the whole parse's fields with its tags, whatever their
    /// text and however it is decoded: ASCII, other UTF-8, bytes that are not UTF-8 (an
    /// error, or replaced), MARC-8 escapes and control bytes, or, in lenient parsing, a
    /// span one byte short that cuts a character.
    #[test]
    fn a_projection_has_the_whole_parses_fields_with_its_tags(
        fields in proptest::collection::vec(
            (
                proptest::sample::select(vec!["001", "008", "245", "650", "700"]),
                proptest::collection::vec(
                    proptest::sample::select(b"ab 0\x1f\xc3\xa9\xe2\x82\xac\xff\x1b(B\x7f\x1d".to_vec()),
                    0..24,
                ),
            ),
            1..7,
        ),
        short in proptest::option::of(0usize..7),
        garble in proptest::option::of((0usize..7, 0usize..12, proptest::sample::select(b" x\xff".to_vec()))),
        strict in proptest::bool::ANY,
        replace in proptest::bool::ANY,
        marc8 in proptest::bool::ANY,
        decoding in proptest::sample::select(vec![Decoding::Auto, Decoding::Utf8, Decoding::Marc8, Decoding::Raw]),
    ) {
        let fields: Vec<(&str, &[u8])> = fields.iter().map(|(t, b)| (*t, b.as_slice())).collect();
        let mut bytes = raw_record(if marc8 { MARC8_LEADER } else { UTF8_LEADER }, &fields);
        if let Some(i) = short.filter(|&i| i < fields.len() && !strict) {
            let entry = 24 + 12 * i + 3;
            let len: usize = std::str::from_utf8(&bytes[entry..entry + 4]).unwrap().parse().unwrap();
            bytes[entry..entry + 4].copy_from_slice(format!("{:04}", len - 1).as_bytes());
        }
        if let Some((i, at, b)) = garble.filter(|&(i, ..)| i < fields.len()) {
            bytes[24 + 12 * i + at] = b;
        }
        let opts = ParseOptions {
            strict,
            utf8_errors: if replace { fastmarc::iso2709::Utf8Errors::Replace } else { fastmarc::iso2709::Utf8Errors::Strict },
            decoding,
            ..ParseOptions::default()
        };
        let mut set = fastmarc::TagSet::new();
        set.insert(tag("008"));
        set.insert(tag("650"));
        let mut part = Record::new();
        let projected = fastmarc::iso2709::parse_record_fields(&bytes, &opts, &set, &mut part);
        let base = (24 + 12 * fields.len() + 1) as u64;
        match parse(&bytes, opts) {
            Ok(whole) => {
                proptest::prop_assert!(projected.is_ok(), "{:?}", projected);
                let kept = whole.fields().filter(|f| ["008", "650"].contains(&f.tag().as_str()));
                proptest::prop_assert!(kept.eq(part.fields()));
            }
            // The leader and directory are checked whatever the projection keeps.
            Err(e) if e.offset().is_some_and(|at| at < base) => {
                proptest::prop_assert_eq!(projected.map_err(|p| p.to_string()), Err(e.to_string()));
            }
            // A projection that succeeds where the whole parse fails leaves out the field
            // the error is in (for a field's error, its offset is in that field's bytes).
            Err(e) if projected.is_ok() => {
                let at = e.offset().unwrap();
                // Lenient parsing reads " 12" as 12, and spans may overlap: some field
                // left out must hold the offset.
                let holds = |entry: &[u8]| {
                    let number = |r: std::ops::Range<usize>| {
                        std::str::from_utf8(&entry[r]).ok()?.trim().parse::<u64>().ok()
                    };
                    matches!((number(3..7), number(7..12)),
                        (Some(len), Some(start)) if (base + start..base + start + len).contains(&at))
                };
                let mut holders = bytes[24..base as usize - 1].chunks(12).filter(|e| holds(e)).peekable();
                if holders.peek().is_some() {
                    let mut left_out = holders.filter(|e| ![&b"008"[..], b"650"].contains(&&e[..3]));
                    proptest::prop_assert!(left_out.next().is_some(), "{}", e);
                }
            }
            Err(_) => {}
        }
    }
}
