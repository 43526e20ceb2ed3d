//! What every reader's output must satisfy, whatever the input.

use crate::reading::Items;
use fastmarc::iso2709::{Decoding, ParseOptions, ReaderOptions, Recovery};
use fastmarc::{Record, TextEncoding};

/// Smallest framed record: a leader and a record terminator.
const MIN_RECORD_LEN: usize = 25;

/// Output of an ISO 2709 reader over `data` with `opts`.
pub fn check_iso_items(data: &[u8], opts: &ReaderOptions, items: &Items) {
    let mut last_error: Option<(u64, u64)> = None;
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        match item {
            Ok(rec) => check_parsed_record(rec, &opts.parse),
            Err(e) => {
                let (Some(number), Some(offset)) = (e.record(), e.offset()) else {
                    panic!("error without its position: {e:?}");
                };
                assert!(
                    offset <= data.len() as u64,
                    "error offset {offset} past the end of {} bytes: {e:?}",
                    data.len()
                );
                if let Some((n, o)) = last_error {
                    assert!(number > n, "record numbers go back: {n} then {number}");
                    assert!(offset >= o, "error offsets go back: {o} then {offset}");
                }
                last_error = Some((number, offset));
                match opts.recovery {
                    Recovery::Stop => assert!(last, "Stop went on after {e:?}"),
                    Recovery::SkipRecord if e.is_framing() => {
                        assert!(last, "SkipRecord went on after broken framing {e:?}")
                    }
                    _ => {}
                }
            }
        }
    }
    let ok = items.iter().filter(|r| r.is_ok()).count();
    assert!(
        ok <= data.len() / MIN_RECORD_LEN,
        "{ok} records from {} bytes",
        data.len()
    );
}

/// A record the ISO 2709 parser produced with `parse`.
pub fn check_parsed_record(rec: &Record, parse: &ParseOptions) {
    assert!(!rec.is_empty(), "a parsed record without fields");
    let raw = parse.decoding == Decoding::Raw;
    let expected = if raw {
        TextEncoding::Raw
    } else {
        TextEncoding::Unicode
    };
    assert_eq!(rec.encoding(), expected, "encoding of a parsed record");
    assert!(rec.leader().as_bytes().is_ascii(), "leader not ASCII");
    let text_ok = |s: &str, what: &str| {
        if raw {
            assert!(
                s.chars().all(|c| u32::from(c) <= 0xFF),
                "{what} of a raw record holds a char above U+00FF: {s:?}"
            );
        }
        if parse.strict {
            assert!(
                !s.contains('\u{1d}'),
                "strict parsing let a record terminator into {what}: {s:?}"
            );
        }
    };
    for f in rec.fields() {
        let tag = f.tag();
        assert!(tag.as_bytes().is_ascii(), "tag not ASCII: {tag:?}");
        assert_eq!(
            f.is_control(),
            tag.is_control(),
            "field kind does not follow the tag {tag}"
        );
        if let Some(d) = f.data() {
            text_ok(d, "a control field");
            continue;
        }
        for ind in f.indicators() {
            assert!(ind.is_ascii(), "indicator {ind:?} not ASCII in {tag}");
        }
        for s in f.subfields() {
            if parse.strict {
                assert!(
                    s.code.is_ascii_graphic(),
                    "strict parsing accepted subfield code {:?}",
                    s.code
                );
            } else {
                assert!(s.code.is_ascii(), "subfield code {:?} not ASCII", s.code);
            }
            assert!(
                !s.value.contains('\u{1f}'),
                "a subfield value holds a subfield delimiter: {:?}",
                s.value
            );
            text_ok(s.value, "a subfield value");
        }
    }
}

/// `items` up to and including the first error that `stops` says ends the stream.
pub fn through_first(items: &Items, stops: impl Fn(&fastmarc::Error) -> bool) -> Items {
    match items
        .iter()
        .position(|r| r.as_ref().err().is_some_and(&stops))
    {
        Some(i) => items[..=i].to_vec(),
        None => items.clone(),
    }
}

/// The three recoveries with the same parse options differ only after the errors that end
/// the stricter one: Stop is SkipRecord through its first error, SkipRecord is Resync
/// through its first framing error.
pub fn check_recoveries_agree(stop: &Items, skip: &Items, resync: &Items) {
    assert_eq!(
        stop,
        &through_first(skip, |_| true),
        "Stop is not SkipRecord cut after its first error"
    );
    assert_eq!(
        skip,
        &through_first(resync, |e| e.is_framing()),
        "SkipRecord is not Resync cut after its first framing error"
    );
}

/// Readers that stop at their first error (XML, JSON): only the last item may be one.
pub fn check_ends_at_error(items: &Items, what: &str) {
    if let Some(i) = items.iter().position(|r| r.is_err()) {
        assert_eq!(i + 1, items.len(), "{what} went on after {:?}", items[i]);
    }
}
