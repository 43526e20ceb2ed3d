//! Every way of reading a buffer, each collected with a bound on the number of items, so a
//! reader that never ends fails loudly instead of running out of memory.

use crate::pieces::{seed_of, Pieces};
use fastmarc::iso2709::{
    Decoding, ParseOptions, Reader, ReaderOptions, Recovery, SliceReader, Utf8Errors,
};
use fastmarc::json::{JsonReader, JsonSliceReader};
use fastmarc::xml::{XmlReader, XmlReaderOptions};
use fastmarc::{Record, Result};
use std::io::BufReader;

pub type Items = Vec<Result<Record>>;

/// Each item (record or error) consumes at least one byte, and one more item may end the
/// stream (an error at its very end).
fn item_limit(len: usize) -> usize {
    len + 2
}

pub fn collect_bounded(
    iter: impl Iterator<Item = Result<Record>>,
    len: usize,
    what: &str,
) -> Items {
    let limit = item_limit(len);
    let items: Items = iter.take(limit + 1).collect();
    assert!(
        items.len() <= limit,
        "{what}: more than {limit} items from {len} bytes: the reader does not end"
    );
    items
}

/// The ways of interpreting a record's bytes worth fuzzing: the defaults, pymarc's lenient
/// parse, and every decoding and UTF-8 error mode at least once (with the UTF-8-under-MARC-8
/// check, which the defaults leave off).
pub fn parse_option_sets() -> [ParseOptions; 6] {
    let p = |decoding, utf8_errors, strict| ParseOptions {
        decoding,
        utf8_errors,
        strict,
        detect_utf8_under_marc8: true,
    };
    [
        ParseOptions::default(),
        p(Decoding::Auto, Utf8Errors::Strict, false),
        p(Decoding::Utf8, Utf8Errors::Replace, false),
        p(Decoding::Marc8, Utf8Errors::Strict, true),
        p(Decoding::Raw, Utf8Errors::Strict, false),
        p(Decoding::Utf8, Utf8Errors::Ignore, true),
    ]
}

pub const RECOVERIES: [Recovery; 3] = [Recovery::Stop, Recovery::SkipRecord, Recovery::Resync];

pub fn iso_slice(data: &[u8], opts: ReaderOptions) -> Items {
    collect_bounded(
        SliceReader::with_options(data, opts),
        data.len(),
        "SliceReader",
    )
}

/// The streaming reader, fed in pieces of up to `max_piece` bytes.
pub fn iso_stream(data: &[u8], opts: ReaderOptions, max_piece: usize) -> Items {
    let source = Pieces::new(data, seed_of(data), max_piece);
    collect_bounded(Reader::with_options(source, opts), data.len(), "Reader")
}

/// The slice reader again, reusing one `Record` for every record (as `read_record` allows),
/// so leftovers of an earlier record would show.
pub fn iso_slice_reusing(data: &[u8], opts: ReaderOptions) -> Items {
    let mut reader = SliceReader::with_options(data, opts);
    let mut rec = Record::new();
    let mut items = Vec::new();
    loop {
        match reader.read_record(&mut rec) {
            Ok(true) => items.push(Ok(rec.clone())),
            Ok(false) => break,
            Err(e) => items.push(Err(e)),
        }
        assert!(
            items.len() <= item_limit(data.len()),
            "SliceReader::read_record does not end"
        );
    }
    items
}

pub fn xml_slice(data: &[u8], opts: XmlReaderOptions) -> Items {
    collect_bounded(
        XmlReader::with_options(data, opts),
        data.len(),
        "XmlReader over a slice",
    )
}

/// The XML reader over a stream in small pieces behind a small buffer.
pub fn xml_stream(data: &[u8], opts: XmlReaderOptions) -> Items {
    let source = BufReader::with_capacity(7, Pieces::new(data, seed_of(data), 5));
    collect_bounded(
        XmlReader::with_options(source, opts),
        data.len(),
        "XmlReader over a stream",
    )
}

pub fn json_slice(data: &[u8]) -> Items {
    collect_bounded(JsonSliceReader::new(data), data.len(), "JsonSliceReader")
}

pub fn json_stream(data: &[u8]) -> Items {
    let source = BufReader::with_capacity(7, Pieces::new(data, seed_of(data), 5));
    collect_bounded(JsonReader::new(source), data.len(), "JsonReader")
}

/// The records among `items`.
pub fn records(items: &Items) -> impl Iterator<Item = &Record> {
    items.iter().filter_map(|r| r.as_ref().ok())
}
