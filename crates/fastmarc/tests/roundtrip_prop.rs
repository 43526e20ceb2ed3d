//! Property tests: generated records survive writing and reading; cut and corrupted files
//! give exactly what can be promised, and never a panic or a hang.

mod common;

use common::*;
use fastmarc::internal::resync_point;
use fastmarc::iso2709::{
    parse_record, record_to_bytes, Decoding, ParseOptions, ReaderOptions, Recovery, Writer,
};
use fastmarc::{Error, ErrorKind, Field, Leader, Record, Subfield, Tag, TextEncoding};
use proptest::prelude::*;
use std::ops::Range;

// ---- generators -----------------------------------------------------------------------

/// Tags: mostly numeric (control tags among them), some alphanumeric, a few with any
/// ASCII graphic character or a blank.
fn arb_tag() -> impl Strategy<Value = Tag> {
    let digits = "[0-9]{3}";
    let control = "00[1-9]";
    let alnum = "[0-9A-Za-z]{3}";
    let graphic = "[!-~ ]{3}";
    prop_oneof![4 => digits, 2 => control, 2 => alnum, 1 => graphic]
        .prop_map(|s| Tag::new(&s).unwrap())
}

/// Text of any Unicode except the three ISO 2709 separators, which cannot be data.
fn arb_text(max: usize, latin1: bool) -> impl Strategy<Value = String> {
    let ch = if latin1 {
        (0u32..=0xFF)
            .prop_map(|c| char::from_u32(c).unwrap())
            .boxed()
    } else {
        any::<char>().boxed()
    };
    proptest::collection::vec(ch, 0..max).prop_map(|cs| {
        cs.into_iter()
            .filter(|c| !('\u{1d}'..='\u{1f}').contains(c))
            .collect()
    })
}

fn printable() -> impl Strategy<Value = char> {
    (0x20u8..=0x7E).prop_map(char::from)
}

fn arb_field(latin1: bool) -> impl Strategy<Value = Field> {
    arb_tag().prop_flat_map(move |tag| {
        if tag.is_control() {
            arb_text(30, latin1)
                .prop_map(move |d| Field::control(tag, d))
                .boxed()
        } else {
            let code = (0x21u8..=0x7E).prop_map(char::from);
            let subfield = (code, arb_text(20, latin1)).prop_map(|(c, v)| Subfield::new(c, v));
            (
                printable(),
                printable(),
                proptest::collection::vec(subfield, 0..=10),
            )
                .prop_map(move |(i1, i2, subs)| Field::data(tag, i1, i2, subs))
                .boxed()
        }
    })
}

/// A leader of printable ASCII (no separator bytes, so framing stays unambiguous).
fn arb_leader() -> impl Strategy<Value = Leader> {
    proptest::collection::vec(0x20u8..=0x7E, 24).prop_map(|b| Leader::from_bytes(&b).unwrap())
}

fn arb_record_with(latin1: bool) -> impl Strategy<Value = Record> {
    (
        arb_leader(),
        proptest::collection::vec(arb_field(latin1), 0..=20),
    )
        .prop_map(move |(leader, fields)| {
            let mut r = Record::with_leader(leader);
            if latin1 {
                r.set_encoding(TextEncoding::Raw);
            }
            for f in &fields {
                r.push(f);
            }
            r
        })
}

fn arb_record() -> impl Strategy<Value = Record> {
    arb_record_with(false)
}

/// Records with at least one field, so every one can be read back.
fn arb_readable_record() -> impl Strategy<Value = Record> {
    (arb_record(), arb_field(false)).prop_map(|(mut r, f)| {
        if r.is_empty() {
            r.push(&f);
        }
        r
    })
}

/// A file of several readable records: its bytes, each record's range, each record as
/// read back.
fn arb_file() -> impl Strategy<Value = (Vec<u8>, Vec<Range<usize>>, Vec<Record>)> {
    proptest::collection::vec(arb_readable_record(), 1..=5).prop_map(|recs| {
        let mut bytes = Vec::new();
        let mut ranges = Vec::new();
        let mut parsed = Vec::new();
        for r in &recs {
            let b = record_to_bytes(r).unwrap();
            ranges.push(bytes.len()..bytes.len() + b.len());
            parsed.push(parse(&b, ParseOptions::default()).unwrap());
            bytes.extend_from_slice(&b);
        }
        (bytes, ranges, parsed)
    })
}

fn parse(bytes: &[u8], opts: ParseOptions) -> Result<Record, Error> {
    let mut rec = Record::new();
    parse_record(bytes, &opts, &mut rec).map(|_| rec)
}

/// Leaders agree except where the writer fills in length, base address and (for Unicode
/// records) the coding scheme.
fn assert_leader_kept(written: &Leader, original: &Leader, coding: u8) {
    let (w, o) = (written.as_bytes(), original.as_bytes());
    for i in (5..24).filter(|i| !(12..17).contains(i) && *i != 9) {
        assert_eq!(w[i], o[i], "leader/{i:02}");
    }
    assert_eq!(w[9], coding);
}

// ---- round trips ----------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn records_survive_write_then_read(rec in arb_readable_record()) {
        let bytes = record_to_bytes(&rec).unwrap();
        let back = parse(&bytes, ParseOptions::default()).unwrap();
        prop_assert_eq!(back.len(), rec.len());
        prop_assert!(back.fields().eq(rec.fields()), "{:?}\n{:?}", back, rec);
        assert_leader_kept(back.leader(), rec.leader(), b'a');
        prop_assert_eq!(back.leader().record_length(), Some(bytes.len()));
        prop_assert_eq!(back.leader().base_address(), Some(24 + 12 * rec.len() + 1));
        // Written again, the record read back gives the same bytes.
        prop_assert_eq!(record_to_bytes(&back).unwrap(), bytes);
    }

    #[test]
    fn raw_records_survive_write_then_read(rec in arb_record_with(true), extra in arb_field(true)) {
        let mut rec = rec;
        if rec.is_empty() {
            rec.push(&extra);
        }
        let bytes = record_to_bytes(&rec).unwrap();
        let raw = ParseOptions { decoding: Decoding::Raw, ..ParseOptions::default() };
        let back = parse(&bytes, raw).unwrap();
        prop_assert!(back.fields().eq(rec.fields()));
        assert_leader_kept(back.leader(), rec.leader(), rec.leader().character_coding_scheme());
        prop_assert_eq!(record_to_bytes(&back).unwrap(), bytes);
    }

    #[test]
    fn a_record_as_read_writes_like_the_same_record_edited(
        rec in arb_readable_record(),
        edit in 0..3usize,
        at in any::<prop::sample::Index>(),
        byte in 0x20u8..=0x7E,
        strict in any::<bool>(),
        decoding in prop_oneof![Just(Decoding::Auto), Just(Decoding::Marc8), Just(Decoding::Raw)],
    ) {
        // A record parsed from canonical bytes is written by copying its data area; one
        // with any edit, field by field. Both must give the same bytes, also for records
        // whose directory is out of order or (leniently read) not zero-padded.
        let mut bytes = record_to_bytes(&rec).unwrap();
        let entries = rec.len();
        let entry = 24 + 12 * at.index(entries);
        match edit {
            1 if entries > 1 => {
                let (a, b) = bytes[24..24 + 24].split_at_mut(12);
                a.swap_with_slice(b);
            }
            2 => bytes[entry + 3 + at.index(9)] = byte,
            _ => {}
        }
        let opts = ParseOptions { decoding, strict, ..ParseOptions::default() };
        if let Ok(back) = parse(&bytes, opts) {
            let mut edited = back.clone();
            edited.compact();
            prop_assert_eq!(edited.clone(), back.clone());
            let (as_read, field_by_field) = (record_to_bytes(&back), record_to_bytes(&edited));
            prop_assert_eq!(as_read.ok(), field_by_field.ok());
        }
    }

    #[test]
    fn files_survive_the_writer_and_both_readers(recs in proptest::collection::vec(arb_readable_record(), 0..6)) {
        let mut w = Writer::new(Vec::new());
        for r in &recs {
            w.write_record(r).unwrap();
        }
        let bytes = w.into_inner();
        let items = read_both(&bytes, ReaderOptions::strict());
        prop_assert_eq!(items.len(), recs.len());
        for (got, want) in items.iter().zip(&recs) {
            let got = got.as_ref().unwrap();
            prop_assert!(got.fields().eq(want.fields()));
        }
    }

    #[test]
    fn any_generated_record_writes_or_refuses_cleanly(rec in arb_record()) {
        // Records without fields are written (as pymarc does) though they cannot be read.
        let bytes = record_to_bytes(&rec).unwrap();
        match parse(&bytes, ParseOptions::default()) {
            Ok(back) => prop_assert!(back.fields().eq(rec.fields())),
            Err(e) => {
                prop_assert!(rec.is_empty());
                prop_assert_eq!(e.into_kind(), ErrorKind::NoFields);
            }
        }
    }
}

// ---- cut files --------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_prefix_gives_the_records_before_the_cut((bytes, ranges, parsed) in arb_file(), cut_seed in any::<prop::sample::Index>()) {
        let cut = cut_seed.index(bytes.len() + 1);
        let prefix = &bytes[..cut];
        let whole = ranges.iter().filter(|r| r.end <= cut).count();
        let mut expected: Vec<fastmarc::Result<Record>> =
            parsed[..whole].iter().cloned().map(Ok).collect();
        if let Some(r) = ranges.iter().find(|r| r.start < cut && cut < r.end) {
            let found = cut - r.start;
            let announced = if found < 5 { 5 } else { r.len() };
            expected.push(Err(Error::at(
                ErrorKind::TruncatedRecord { expected: announced, found },
                whole as u64,
                r.start as u64,
            )));
        }
        for parse_opts in [ParseOptions::default(), ParseOptions { strict: false, ..ParseOptions::default() }] {
            // All three modes give the same: nothing follows the cut to resynchronise on.
            let items = read_all_modes(prefix, parse_opts);
            prop_assert_eq!(&items, &expected);
        }
    }
}

// ---- corrupted files ----------------------------------------------------------------------

/// A byte to write over another: anything but the record terminator.
fn not_rt() -> impl Strategy<Value = u8> {
    any::<u8>().prop_map(|b| if b == RT { b'?' } else { b })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Arbitrary overwrites, record terminators included: nothing to promise but sanity.
    #[test]
    fn random_mutations_never_panic_or_hang(
        (bytes, _, _) in arb_file(),
        muts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = bytes;
        for (at, b) in muts {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        check_any_input(&bytes);
    }

    /// Damage confined to known places, so the outcome can be stated exactly: a record whose
    /// length is made non-digit is a framing error at its start; a record damaged elsewhere
    /// (never at its terminator, never creating one) is one item, a record or an error of
    /// its own; every untouched record comes back unchanged. Resync gives all of it;
    /// SkipRecord stops at the first framing error; Stop at the first error.
    #[test]
    fn resync_recovers_every_untouched_record(
        (bytes, ranges, parsed) in arb_file(),
        length_hits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..5, not_rt()), 0..3),
        body_hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), not_rt()), 0..6),
        strict in any::<bool>(),
    ) {
        let mut bytes = bytes;
        let n = ranges.len();
        let mut length_broken = vec![false; n];
        let mut touched = vec![false; n];
        for (rec, pos, b) in length_hits {
            let i = rec.index(n);
            // Any byte but a digit makes the length unreadable.
            let b = if b.is_ascii_digit() { b'x' } else { b };
            bytes[ranges[i].start + pos] = b;
            length_broken[i] = true;
        }
        for (rec, pos, b) in body_hits {
            let i = rec.index(n);
            let r = &ranges[i];
            // Between the length and the terminator.
            let at = r.start + 5 + pos.index(r.len() - 6);
            bytes[at] = b;
            touched[i] = true;
        }
        // Resynchronising from a record with a broken length resumes after its terminator,
        // unless a plausible record start happens to end there too (see resync_point): then
        // that is one more item, which this exact model leaves out.
        for (i, r) in ranges.iter().enumerate() {
            if length_broken[i] {
                prop_assume!(resync_point(&bytes[r.start..]) == Some(r.len()));
            }
        }
        let parse_opts = ParseOptions { strict, ..ParseOptions::default() };
        let items = read_all_modes(&bytes, parse_opts);
        prop_assert_eq!(items.len(), n);
        for (i, item) in items.iter().enumerate() {
            let r = &ranges[i];
            if length_broken[i] {
                prop_assert_eq!(
                    item,
                    &Err(Error::at(ErrorKind::RecordLengthNotDigits, i as u64, r.start as u64))
                );
            } else if touched[i] {
                if let Err(e) = item {
                    prop_assert_eq!(e.record(), Some(i as u64));
                    let off = e.offset().unwrap() as usize;
                    prop_assert!(r.contains(&off), "{} outside {:?}", e, r);
                    prop_assert!(!e.is_framing());
                }
            } else if strict {
                prop_assert_eq!(item, &Ok(parsed[i].clone()));
            } else {
                // Lenient parsing of a well-formed record gives the same record.
                prop_assert_eq!(item.as_ref().unwrap(), &parsed[i]);
            }
        }
    }

    /// Overwrites anywhere (lengths included) that neither create nor destroy a record
    /// terminator. Every step of the reader then starts at a record boundary (resynchronising
    /// ends at the damaged record's own terminator), so the only
    /// way an untouched record can be missed is a damaged length that happens to announce
    /// exactly the end of a later record, swallowing the ones between. Every untouched
    /// record not so swallowed comes back, in order.
    #[test]
    fn resync_finds_untouched_records_after_any_non_terminator_damage(
        (bytes, ranges, parsed) in arb_file(),
        muts in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), not_rt()), 1..8),
    ) {
        let mut bytes = bytes;
        let n = ranges.len();
        let mut touched = vec![false; n];
        for (rec, pos, b) in muts {
            let i = rec.index(n);
            let r = &ranges[i];
            bytes[r.start + pos.index(r.len() - 1)] = b;
            touched[i] = true;
        }
        // Records a damaged length could swallow.
        let mut maybe_swallowed = vec![false; n];
        for (j, r) in ranges.iter().enumerate() {
            let len = std::str::from_utf8(&bytes[r.start..r.start + 5])
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<usize>().ok());
            if let Some(len) = len {
                if let Some(k) = ranges.iter().position(|q| q.end == r.start + len) {
                    for s in maybe_swallowed.iter_mut().take(k + 1).skip(j + 1) {
                        *s = true;
                    }
                }
            }
        }
        let expected: Vec<&Record> = (0..n)
            .filter(|&i| !touched[i] && !maybe_swallowed[i])
            .map(|i| &parsed[i])
            .collect();
        let items = read_all_modes(&bytes, ParseOptions::default());
        // At most a framing error and one resynchronised record per record.
        prop_assert!(items.len() <= 2 * n);
        let got: Vec<&Record> = items.iter().filter_map(|r| r.as_ref().ok()).collect();
        // `expected` is a subsequence of `got`.
        let mut it = got.iter();
        for want in &expected {
            prop_assert!(it.any(|g| g == want), "record missing: {:?}", want);
        }
    }
}

#[test]
fn resync_recovery_is_tested_against_real_damage() {
    // A fixed instance of the exact model above, so a failure is easy to read.
    let (mut bytes, ranges) = sample_file(4);
    bytes[ranges[1].start + 2] = b'x';
    let body = ranges[2].start + 30;
    bytes[body] = 0xFF; // inside the directory
    let items = read_all_modes(&bytes, ParseOptions::default());
    assert_eq!(items.len(), 4);
    assert!(items[0].is_ok() && items[3].is_ok());
    assert_eq!(
        items[1],
        Err(Error::at(
            ErrorKind::RecordLengthNotDigits,
            1,
            ranges[1].start as u64
        ))
    );
    assert_eq!(
        items[2],
        Err(Error::at(
            ErrorKind::DirectoryNotAscii,
            2,
            ranges[2].start as u64 + 24
        ))
    );
    let skip = read_both(
        &bytes,
        ReaderOptions {
            recovery: Recovery::SkipRecord,
            ..ReaderOptions::default()
        },
    );
    assert_eq!(skip.len(), 2);
}
