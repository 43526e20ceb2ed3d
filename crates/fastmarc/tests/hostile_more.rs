//! Hostile input beyond `hostile.rs`: lenient parsing of directory spans that cut a UTF-8
//! character, MARC-8 escapes through the reader, the good records around every kind of bad
//! one in permissive mode, truncation followed by more records, and memory bounded by the
//! input (an allocator that counts this thread's peak).

mod common;

use common::*;
use fastmarc::iso2709::{
    parse_record, Decoding, ParseOptions, Reader, ReaderOptions, SliceReader, Utf8Errors,
};
use fastmarc::json::JsonSliceReader;
use fastmarc::xml::XmlReader;
use fastmarc::{ErrorKind, Record};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ---- an allocator that knows this thread's peak ------------------------------------------

struct CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // try_with: allocations while the thread's locals are being torn down are not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// The most heap this thread held at once while running `f`, above what it held before.
fn peak_heap_of(f: impl FnOnce()) -> usize {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    f();
    (PEAK.with(Cell::get) - start).max(0) as usize
}

/// What reading `input` may take: a few copies of it, plus a fixed allowance for the
/// reader's buffer (64 KiB growing to hold one record of at most 99,999 bytes) and one record.
fn allowance(input: &[u8]) -> usize {
    4 * input.len() + (1 << 20)
}

// ---- helpers ------------------------------------------------------------------------------

const BASE: usize = 24 + 3 * 12 + 1;

fn set(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

fn lenient(utf8_errors: Utf8Errors) -> ParseOptions {
    ParseOptions {
        strict: false,
        utf8_errors,
        ..ParseOptions::default()
    }
}

fn parse(bytes: &[u8], opts: ParseOptions) -> fastmarc::Result<Record> {
    let mut rec = Record::new();
    parse_record(bytes, &opts, &mut rec).map(|_| rec)
}

/// Every value of every field, as a program reading the record would touch them.
fn touch_everything(rec: &Record) -> usize {
    rec.fields()
        .map(|f| match f.data() {
            Some(d) => d.len(),
            None => f.subfields().map(|s| s.value.len()).sum(),
        })
        .sum()
}

// ---- directory spans that cut a character ---------------------------------------------------

/// In `small_raw_record("rec1")` the 245's "é" is bytes 53..55 of the data area. Directory
/// entries pointing into it leave a field ending in half a character: lenient parsing (the
/// pymarc-compatible mode, which does not require a field terminator at the entry's end)
/// must report invalid UTF-8 or replace it, never hand out a field that panics when read.
#[test]
fn lenient_spans_ending_inside_a_utf8_character() {
    // (entry index, length and offset digits)
    for (entry, digits) in [(0usize, b"000500050"), (0, b"005500000"), (1, b"000800047")] {
        let mut b = small_raw_record("rec1");
        set(&mut b, 24 + 12 * entry + 3, digits);
        let tag = ["001", "008", "245"][entry];
        match parse(&b, lenient(Utf8Errors::Strict)) {
            Ok(rec) => panic!(
                "{tag} {digits:?}: read as {} bytes of text",
                touch_everything(&rec)
            ),
            Err(e) => assert_eq!(*e.kind(), ErrorKind::InvalidUtf8 { tag: tag.into() }),
        }
        let rec = parse(&b, lenient(Utf8Errors::Replace)).expect("replaced");
        touch_everything(&rec);
        let field = rec.get(tag).unwrap();
        let text = field
            .data()
            .map(str::to_owned)
            .unwrap_or_else(|| field.subfields().map(|s| s.value.to_owned()).collect());
        assert!(text.contains('\u{FFFD}'), "{tag}: {text:?}");
    }
}

// ---- MARC-8 through the reader --------------------------------------------------------------

fn marc8_245(value: &[u8]) -> Vec<u8> {
    let mut field = b"10\x1fa".to_vec();
    field.extend_from_slice(value);
    raw_record(MARC8_LEADER, &[("001", b"m8"), ("245", &field)])
}

#[test]
fn bad_marc8_escapes_are_located_errors_between_good_records() {
    let good = small_raw_record("good");
    for value in [&b"abc\x1b"[..], b"x\x1b)", b"\x1b$,", b"ab\x1bN"] {
        let bad = marc8_245(value);
        let mut file = good.clone();
        file.extend_from_slice(&bad);
        file.extend_from_slice(&good);
        let items = read_both(&file, ReaderOptions::resyncing());
        assert_eq!(items.len(), 3, "{value:?}: {:?}", errors(&items));
        assert!(items[0].is_ok() && items[2].is_ok());
        let e = items[1].clone().unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::InvalidMarc8 { tag: "245".into() });
        assert_eq!(e.record(), Some(1));
        let offset = e.offset().unwrap() as usize;
        let base: usize = std::str::from_utf8(&bad[12..17]).unwrap().parse().unwrap();
        assert!(
            (good.len() + base..good.len() + bad.len()).contains(&offset),
            "{value:?}: offset {offset} outside the 245's data"
        );
        // Read as raw bytes they are no error at all.
        let raw = ParseOptions {
            decoding: Decoding::Raw,
            ..ParseOptions::default()
        };
        assert!(parse(&bad, raw).is_ok());
    }
}

// ---- permissive mode keeps what surrounds a bad record ---------------------------------------

/// Broken records of every kind the issue lists, each as it sits between two good ones.
fn broken_records() -> Vec<(&'static str, Vec<u8>)> {
    let b = small_raw_record("rec1");
    let len = b.len();
    let with = |at: usize, value: &[u8]| {
        let mut r = b.clone();
        set(&mut r, at, value);
        r
    };
    vec![
        (
            "length longer",
            with(0, format!("{:05}", len + 10).as_bytes()),
        ),
        (
            "length shorter",
            with(0, format!("{:05}", len - 10).as_bytes()),
        ),
        ("length not digits", with(2, b"x")),
        ("length zero", with(0, b"00000")),
        ("base past the end", with(12, b"99999")),
        ("base zero", with(12, b"00000")),
        ("entry outside", with(24 + 24 + 3, b"004609999")),
        (
            "directory not a multiple of 12",
            with(12, format!("{:05}", BASE + 1).as_bytes()),
        ),
        ("field terminator missing", with(BASE + 45, b" ")),
        ("record terminator missing", with(len - 1, b"x")),
        (
            "record terminator in a field",
            raw_record(UTF8_LEADER, &[("001", b"a\x1db")]),
        ),
        (
            "invalid UTF-8",
            raw_record(UTF8_LEADER, &[("001", b"x"), ("245", b"10\x1faCaf\xe9")]),
        ),
        ("bad MARC-8 escape", marc8_245(b"abc\x1b")),
        ("no fields", raw_record(UTF8_LEADER, &[])),
    ]
}

#[test]
fn permissive_reading_delivers_every_good_record_around_a_bad_one() {
    let good = small_raw_record("good");
    let good_record = parse(&good, ParseOptions::default()).unwrap();
    for (what, bad) in broken_records() {
        let mut file = good.clone();
        for _ in 0..3 {
            file.extend_from_slice(&bad);
            file.extend_from_slice(&good);
        }
        check_any_input(&file);
        let items = read_both(&file, ReaderOptions::resyncing());
        let ok: Vec<_> = items.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 4, "{what}: {:?}", errors(&items));
        assert!(ok.iter().all(|r| **r == good_record), "{what}");
        let errs = errors(&items);
        assert!(!errs.is_empty(), "{what}: no error reported");
        for (kind, record, offset) in errs {
            let (Some(record), Some(offset)) = (record, offset) else {
                panic!("{what}: {kind:?} without a position");
            };
            // Record n (counting good and bad) of the file starts at...
            let start =
                |n: u64| (n as usize).div_ceil(2) * good.len() + (n as usize / 2) * bad.len();
            assert!(record % 2 == 1, "{what}: error in good record {record}");
            let within = start(record) as u64..(start(record) + bad.len()) as u64;
            assert!(within.contains(&offset), "{what}: {kind:?} at {offset}");
        }
    }
}

#[test]
fn a_record_cut_at_every_byte_then_good_records_resynchronises() {
    let good = small_raw_record("good");
    let bad = small_raw_record("rec1");
    for cut in 0..bad.len() {
        let mut file = good.clone();
        file.extend_from_slice(&bad[..cut]);
        file.extend_from_slice(&good);
        file.extend_from_slice(&good);
        let items = read_both(&file, ReaderOptions::resyncing());
        // The good record before, one error for the cut one (none if nothing is left of
        // it), then both good records after: resynchronising finds the first of them even
        // when the cut record's announced length reaches into it.
        assert_eq!(count_ok(&items), 3, "cut {cut}: {:?}", errors(&items));
        assert_eq!(items.len(), if cut == 0 { 3 } else { 4 }, "cut {cut}");
        assert!(
            items[0].is_ok() && items[items.len() - 1].is_ok(),
            "cut {cut}"
        );
    }
}

// ---- memory ----------------------------------------------------------------------------------

fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut state = 0x2709_u64;
    let random: Vec<u8> = (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut lying = Vec::new();
    for i in 0..20_000u32 {
        lying.extend_from_slice(b"99999");
        if i % 7 == 0 {
            lying.push(RT);
        }
    }
    let mut many_broken = Vec::new();
    for (_, bad) in broken_records() {
        for _ in 0..200 {
            many_broken.extend_from_slice(&bad);
            many_broken.extend_from_slice(&small_raw_record("good"));
        }
    }
    vec![
        ("random bytes", random),
        ("lengths of 99999 over and over", lying),
        ("broken records", many_broken),
        ("empty", Vec::new()),
    ]
}

#[test]
fn reading_hostile_input_takes_memory_bounded_by_the_input() {
    for (what, input) in hostile_inputs() {
        for opts in [ReaderOptions::resyncing(), ReaderOptions::strict()] {
            let slice = peak_heap_of(|| {
                for item in SliceReader::with_options(&input, opts) {
                    drop(item);
                }
            });
            let stream = peak_heap_of(|| {
                for item in Reader::with_options(ChoppyReader::new(&input, 1), opts) {
                    drop(item);
                }
            });
            for (reader, peak) in [("slice", slice), ("stream", stream)] {
                assert!(
                    peak <= allowance(&input),
                    "{what}, {reader}: {peak} bytes at peak for {} bytes of input",
                    input.len()
                );
            }
        }
    }
}

#[test]
fn billion_laughs_and_deep_nesting_take_memory_bounded_by_the_input() {
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]><collection><record><leader>&lol9;</leader></record></collection>");
    let depth = 100_000;
    let deep_xml = "<a>".repeat(depth) + &"</a>".repeat(depth);
    let deep_json = "[".repeat(depth) + &"]".repeat(depth);
    let deep_objects = "{\"a\":".repeat(depth) + &"}".repeat(depth);
    for (what, input) in [
        ("billion laughs", laughs.as_str()),
        ("deep XML", deep_xml.as_str()),
    ] {
        let mut results = Vec::new();
        let peak = peak_heap_of(|| results = XmlReader::new(input.as_bytes()).collect());
        assert!(results.last().is_some_and(|r| r.is_err()), "{what}");
        assert!(peak <= allowance(input.as_bytes()), "{what}: {peak} bytes");
    }
    for (what, input) in [("deep arrays", &deep_json), ("deep objects", &deep_objects)] {
        let mut results = Vec::new();
        let peak = peak_heap_of(|| results = JsonSliceReader::new(input.as_bytes()).collect());
        assert!(results.last().is_some_and(|r| r.is_err()), "{what}");
        assert!(peak <= allowance(input.as_bytes()), "{what}: {peak} bytes");
    }
}
