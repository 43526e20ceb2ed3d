//! Shared helpers for the integration tests: hand-built ISO 2709 bytes (so hostile tests can
//! break exactly one thing), records built through the API, readers fed in small pieces, and
//! pymarc's test files.
#![allow(dead_code)] // each test binary uses a different subset

use fastmarc::iso2709::{
    record_to_bytes, ParseOptions, Reader, ReaderOptions, Recovery, SliceReader, Utf8Errors,
};
use fastmarc::{Field, Record, Result, Subfield, Tag};
use std::io::{self, Read};
use std::path::PathBuf;

pub const RT: u8 = 0x1D;
pub const FT: u8 = 0x1E;
pub const SD: u8 = 0x1F;

pub fn tag(s: &str) -> Tag {
    Tag::new(s).expect("test tag")
}

/// The directory holding pymarc 5.4.0's test files. A missing directory is a failure, not a
/// skip: these tests are only meaningful with the data.
pub fn pymarc_test_dir() -> PathBuf {
    let dir = std::env::var_os("PYMARC_TEST_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../cache/pymarc-5.4.0/test")
        });
    assert!(
        dir.join("test.dat").is_file(),
        "pymarc's test data not found in {}: unpack pymarc-5.4.0's sdist and point \
         PYMARC_TEST_DIR at its test/ directory",
        dir.display()
    );
    dir
}

/// The bytes of one of pymarc's test files.
pub fn pymarc_file(name: &str) -> Vec<u8> {
    let path = pymarc_test_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every `.dat` and `.mrc` file in pymarc's test directory, sorted by name.
pub fn pymarc_marc_files() -> Vec<(String, Vec<u8>)> {
    let dir = pymarc_test_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list pymarc test dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".dat") || n.ends_with(".mrc"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let bytes = pymarc_file(&n);
            (n, bytes)
        })
        .collect()
}

/// ISO 2709 bytes assembled by hand from a leader (its length and base address are filled
/// in) and fields given as raw bytes *without* their field terminator. Tests then break the
/// result in one precise place.
pub fn raw_record(leader: &[u8; 24], fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (t, bytes) in fields {
        let len = bytes.len() + 1;
        directory.extend_from_slice(format!("{t}{len:04}{:05}", data.len()).as_bytes());
        data.extend_from_slice(bytes);
        data.push(FT);
    }
    directory.push(FT);
    let base = 24 + directory.len();
    let total = base + data.len() + 1;
    let mut out = leader.to_vec();
    out[0..5].copy_from_slice(format!("{total:05}").as_bytes());
    out[12..17].copy_from_slice(format!("{base:05}").as_bytes());
    out.extend_from_slice(&directory);
    out.extend_from_slice(&data);
    out.push(RT);
    out
}

pub const UTF8_LEADER: &[u8; 24] = b"00000nam a2200000 a 4500";
pub const MARC8_LEADER: &[u8; 24] = b"00000nam  2200000 a 4500";

/// A small, valid UTF-8 record in raw form: 001, 008, 245 with three subfields.
pub fn small_raw_record(id: &str) -> Vec<u8> {
    raw_record(
        UTF8_LEADER,
        &[
            ("001", id.as_bytes()),
            ("008", b"870303s1987    nyu           000 0 eng d"),
            (
                "245",
                "10\x1faCaf\u{e9} society :\x1fbthe story /\x1fcby someone.".as_bytes(),
            ),
        ],
    )
}

/// A record built through the API.
pub fn sample_record(id: &str, title: &str) -> Record {
    let mut r = Record::new();
    r.push(&Field::control(tag("001"), id));
    r.push(&Field::control(
        tag("008"),
        "870303s1987    nyu           000 0 eng d",
    ));
    r.push(&Field::data(
        tag("100"),
        '1',
        ' ',
        vec![
            Subfield::new('a', "Brontë, Charlotte,"),
            Subfield::new('d', "1816-1855."),
        ],
    ));
    r.push(&Field::data(
        tag("245"),
        '1',
        '0',
        vec![Subfield::new('a', title), Subfield::new('c', "by C. B.")],
    ));
    r.push(&Field::data(
        tag("650"),
        ' ',
        '0',
        vec![
            Subfield::new('a', "Governesses"),
            Subfield::new('v', "Fiction."),
        ],
    ));
    r
}

/// Several records of different sizes written one after another; also returns each
/// record's byte range in the file.
pub fn sample_file(n: usize) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
    let mut out = Vec::new();
    let mut ranges = Vec::new();
    for i in 0..n {
        let title = format!("Title number {i} {}", "x".repeat(i * 7 % 50));
        let bytes = record_to_bytes(&sample_record(&format!("id{i:04}"), &title)).unwrap();
        ranges.push(out.len()..out.len() + bytes.len());
        out.extend_from_slice(&bytes);
    }
    (out, ranges)
}

/// A `Read` that hands out its data in small pieces of pseudo-random size (and now and then
/// an `Interrupted` error, which readers must retry), as a pipe or socket might.
pub struct ChoppyReader<'a> {
    data: &'a [u8],
    pos: usize,
    state: u64,
    max_piece: usize,
}

impl<'a> ChoppyReader<'a> {
    pub fn new(data: &'a [u8], seed: u64) -> Self {
        ChoppyReader::with_max_piece(data, seed, 17)
    }

    pub fn with_max_piece(data: &'a [u8], seed: u64, max_piece: usize) -> Self {
        ChoppyReader {
            data,
            pos: 0,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            max_piece: max_piece.max(1),
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: deterministic, good enough to vary piece sizes.
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }
}

impl Read for ChoppyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.next_random();
        if r.is_multiple_of(11) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "try again"));
        }
        let want = 1 + (r >> 8) as usize % self.max_piece;
        let n = want.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A reader that fails with a real I/O error after handing out `fail_after` bytes.
pub struct FailingReader<'a> {
    pub data: &'a [u8],
    pub pos: usize,
    pub fail_after: usize,
}

impl Read for FailingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.fail_after {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"));
        }
        let n = buf
            .len()
            .min(self.fail_after - self.pos)
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Hard upper bound on items a reader may yield for `len` input bytes: every record or
/// error consumes at least one byte, plus one final item. Guards tests against hangs.
fn item_limit(len: usize) -> usize {
    len + 2
}

/// Everything a `SliceReader` yields.
pub fn read_slice(data: &[u8], opts: ReaderOptions) -> Vec<Result<Record>> {
    let limit = item_limit(data.len());
    let items: Vec<_> = SliceReader::with_options(data, opts)
        .take(limit + 1)
        .collect();
    assert!(items.len() <= limit, "SliceReader did not terminate");
    items
}

/// Everything a streaming `Reader` yields when the input arrives in small pieces.
pub fn read_choppy(data: &[u8], opts: ReaderOptions, seed: u64) -> Vec<Result<Record>> {
    let limit = item_limit(data.len());
    let items: Vec<_> = Reader::with_options(ChoppyReader::new(data, seed), opts)
        .take(limit + 1)
        .collect();
    assert!(items.len() <= limit, "Reader did not terminate");
    items
}

/// Read with both readers, check they agree exactly, and return the result.
pub fn read_both(data: &[u8], opts: ReaderOptions) -> Vec<Result<Record>> {
    let slice = read_slice(data, opts);
    let seed = data.len() as u64 ^ 0x5eed;
    let choppy = read_choppy(data, opts, seed);
    assert_eq!(slice, choppy, "SliceReader and Reader disagree ({opts:?})");
    slice
}

pub fn count_ok(items: &[Result<Record>]) -> usize {
    items.iter().filter(|r| r.is_ok()).count()
}

/// The errors among the items, as (kind, record number, offset).
pub fn errors(items: &[Result<Record>]) -> Vec<(fastmarc::ErrorKind, Option<u64>, Option<u64>)> {
    items
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| (e.kind().clone(), e.record(), e.offset()))
        .collect()
}

/// The items up to and including the first error (what `Recovery::Stop` gives).
pub fn through_first_error(items: &[Result<Record>]) -> Vec<Result<Record>> {
    match items.iter().position(|r| r.is_err()) {
        Some(i) => items[..=i].to_vec(),
        None => items.to_vec(),
    }
}

/// The items up to and including the first framing error (what `Recovery::SkipRecord`
/// gives, since it differs from `Resync` only after broken framing).
pub fn through_first_framing_error(items: &[Result<Record>]) -> Vec<Result<Record>> {
    match items
        .iter()
        .position(|r| r.as_ref().is_err_and(|e| e.is_framing()))
    {
        Some(i) => items[..=i].to_vec(),
        None => items.to_vec(),
    }
}

/// Read `data` in all three recovery modes with both readers; check the modes agree where
/// they must and return the `Resync` items.
pub fn read_all_modes(data: &[u8], parse: ParseOptions) -> Vec<Result<Record>> {
    let with = |recovery| ReaderOptions { parse, recovery };
    let resync = read_both(data, with(Recovery::Resync));
    let skip = read_both(data, with(Recovery::SkipRecord));
    let stop = read_both(data, with(Recovery::Stop));
    assert_eq!(
        skip,
        through_first_framing_error(&resync),
        "SkipRecord vs Resync"
    );
    assert_eq!(stop, through_first_error(&resync), "Stop vs Resync");
    resync
}

/// What every reader must do with any input at all: terminate, agree between slice and
/// stream, keep the modes consistent, and locate every error inside the input with
/// record numbers and offsets that never go backwards.
pub fn check_any_input(data: &[u8]) {
    for strict in [true, false] {
        for utf8_errors in [Utf8Errors::Strict, Utf8Errors::Replace] {
            let parse = ParseOptions {
                strict,
                utf8_errors,
                ..ParseOptions::default()
            };
            let items = read_all_modes(data, parse);
            let mut last = (0u64, 0u64);
            for e in items.iter().filter_map(|r| r.as_ref().err()) {
                let (Some(rec), Some(off)) = (e.record(), e.offset()) else {
                    panic!("error without position: {e:?}");
                };
                assert!(off <= data.len() as u64, "{e} beyond {} bytes", data.len());
                assert!((rec, off) >= last, "{e} goes backwards");
                last = (rec, off);
            }
        }
    }
}
