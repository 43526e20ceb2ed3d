//! MARC-in-JSON both ways, in the form pymarc reads and writes:
//!
//! ```json
//! {"leader": "...", "fields": [{"001": "data"},
//!   {"245": {"ind1": "1", "ind2": "0", "subfields": [{"a": "..."}]}}]}
//! ```
//!
//! Reading builds records straight from the JSON tokens (no intermediate value tree) with
//! serde_json's slice parser, one record of a top-level array at a time: [`JsonReader`]
//! gathers one record's bytes from a stream, so a huge array streams in constant memory.
//! Like pymarc it takes a single record object too, and beyond pymarc several record objects
//! one after another (JSON Lines, or concatenated objects as yaz writes them). It reads only
//! the first entry of a field
//! object, and accepts raw control characters inside strings (`json.load(strict=False)`).
//! The JSON shape decides control versus data field (pymarc drops the data of a field whose
//! shape does not suit its tag); missing indicators are blanks. serde_json's nesting limit
//! (128) stays on: deeply nested input is an error, not a stack overflow.
//!
//! ```
//! use fastmarc::json::{record_to_json, JsonSliceReader, JsonWriter};
//! use fastmarc::{Field, Record, Tag};
//!
//! let mut rec = Record::new();
//! rec.push(&Field::control(Tag::new("001")?, "ocm0001"));
//! assert!(record_to_json(&rec).contains(r#"{"001": "ocm0001"}"#));
//!
//! // An array of records, as pymarc's JSONWriter writes it.
//! let mut writer = JsonWriter::new(Vec::new());
//! writer.write_record(&rec)?;
//! writer.write_record(&rec)?;
//! let document = writer.finish()?;
//!
//! let records = JsonSliceReader::new(&document).collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(records.len(), 2);
//! assert_eq!(record_to_json(&records[1]), record_to_json(&rec));
//! # Ok::<(), fastmarc::Error>(())
//! ```
//!
//! Writing reproduces Python's `json.dumps` byte for byte: pymarc's key order, `ensure_ascii`
//! escaping, and either its default separators (`as_json()`) or compact ones (`JSONWriter`).

use crate::error::{Error, ErrorKind, Result};
use crate::field::Tag;
use crate::leader::Leader;
use crate::record::Record;
use crate::sink::Sink;
use crate::xml::{abbreviate, indicator, parse_tag, subfield_code};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead, Write};

// ---- reading: JSON tokens to a record -------------------------------------------------

/// A record parsed from one JSON object, and whether pymarc reads the object as the
/// same record: every field object has one entry, and every data field object has
/// `ind1`, `ind2` and `subfields`, each once (pymarc fails without them, or makes a field
/// without subfields, where the core takes blanks and nothing).
struct JsonRecord(Record, bool);

impl<'de> Deserialize<'de> for JsonRecord {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut rec = Record::new();
        let mut pymarc_shaped = true;
        d.deserialize_map(RecordVisitor(Build {
            rec: &mut rec,
            pymarc_shaped: &mut pymarc_shaped,
        }))?;
        Ok(JsonRecord(rec, pymarc_shaped))
    }
}

/// The record being built, and whether its JSON is shaped as pymarc reads it the same way.
struct Build<'r> {
    rec: &'r mut Record,
    pymarc_shaped: &'r mut bool,
}

impl Build<'_> {
    fn reborrow(&mut self) -> Build<'_> {
        Build {
            rec: self.rec,
            pymarc_shaped: self.pymarc_shaped,
        }
    }
}

/// A value that is read and dropped. Unlike serde's `IgnoredAny` (which serde_json skips
/// without a depth limit) it nests through `deserialize_any`, so serde_json's recursion
/// limit makes absurdly deep input an error here too.
struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(Skipped)
    }
}

impl<'de> Visitor<'de> for Skipped {
    type Value = Skipped;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Skipped, A::Error> {
        while map.next_entry::<Skipped, Skipped>()?.is_some() {}
        Ok(Skipped)
    }
}

/// A JSON string handed to a function that checks and converts it.
struct StrWith<F>(F, &'static str);

impl<'de, T, F> DeserializeSeed<'de> for StrWith<F>
where
    F: FnOnce(&str) -> std::result::Result<T, String>,
{
    type Value = T;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<T, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, T, F> Visitor<'de> for StrWith<F>
where
    F: FnOnce(&str) -> std::result::Result<T, String>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<T, E> {
        (self.0)(s).map_err(E::custom)
    }
}

enum RecordKey {
    Leader,
    Fields,
    Other,
}

struct RecordVisitor<'r>(Build<'r>);

impl<'de> Visitor<'de> for RecordVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MARC-in-JSON record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut build = self.0;
        let mut leader = None;
        let mut has_fields = false;
        let key = || {
            StrWith(
                |k: &str| {
                    Ok(match k {
                        "leader" => RecordKey::Leader,
                        "fields" => RecordKey::Fields,
                        _ => RecordKey::Other,
                    })
                },
                "a key",
            )
        };
        while let Some(k) = map.next_key_seed(key())? {
            match k {
                RecordKey::Leader => {
                    leader = Some(map.next_value_seed(StrWith(parse_leader, "a leader string"))?)
                }
                RecordKey::Fields => {
                    // A repeated key replaces the earlier value, as in a Python dict.
                    build.rec.clear();
                    *build.pymarc_shaped = true;
                    map.next_value_seed(FieldsSeed(build.reborrow()))?;
                    has_fields = true;
                }
                RecordKey::Other => {
                    map.next_value::<Skipped>()?;
                }
            }
        }
        let leader = leader.ok_or_else(|| de::Error::custom("record has no \"leader\""))?;
        if !has_fields {
            return Err(de::Error::custom("record has no \"fields\""));
        }
        build.rec.set_leader(leader);
        Ok(())
    }
}

fn parse_leader(s: &str) -> std::result::Result<Leader, String> {
    Leader::from_bytes(s.as_bytes())
        .map_err(|_| format!("leader {:?} is not 24 ASCII characters", abbreviate(s, 40)))
}

/// The `fields` array.
struct FieldsSeed<'r>(Build<'r>);

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of field objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut build = self.0;
        while seq
            .next_element_seed(FieldSeed(build.reborrow()))?
            .is_some()
        {}
        Ok(())
    }
}

/// One `{"tag": value}` object. Only its first entry counts, as in pymarc.
struct FieldSeed<'r>(Build<'r>);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field object {\"tag\": value}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let Some(tag) = map.next_key_seed(StrWith(parse_tag, "a tag"))? else {
            return Err(de::Error::custom("field object has no tag"));
        };
        let mut build = self.0;
        map.next_value_seed(FieldValue {
            build: build.reborrow(),
            tag,
        })?;
        while map.next_entry::<Skipped, Skipped>()?.is_some() {
            *build.pymarc_shaped = false;
        }
        Ok(())
    }
}

/// A field's value: a string makes a control field, an object a data field (the JSON
/// shape decides, whatever the tag).
struct FieldValue<'r> {
    build: Build<'r>,
    tag: Tag,
}

enum DataKey {
    Ind1,
    Ind2,
    Subfields,
    Other,
}

impl<'de> DeserializeSeed<'de> for FieldValue<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldValue<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "field {}: a string (control field) or an object with ind1, ind2 and subfields",
            self.tag
        )
    }

    fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<(), E> {
        self.build.rec.push_control(self.tag, s);
        Ok(())
    }

    /// Indicators may come after the subfields; missing ones are blanks.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let (Build { rec, pymarc_shaped }, tag) = (self.build, self.tag);
        rec.start_data_field(tag, ' ', ' ');
        let mut indicators = [' ', ' '];
        let mut has_subfields = false;
        // How many times each of ind1 and ind2 came.
        let mut seen = [0u8; 2];
        let key = || {
            StrWith(
                |k: &str| {
                    Ok(match k {
                        "ind1" => DataKey::Ind1,
                        "ind2" => DataKey::Ind2,
                        "subfields" => DataKey::Subfields,
                        _ => DataKey::Other,
                    })
                },
                "a key",
            )
        };
        // An empty indicator is a blank here; pymarc keeps it empty.
        let mut empty_indicator = false;
        let ind = |which: &'static str| {
            StrWith(
                move |s: &str| Ok((indicator(Some(s), which, tag)?, s.is_empty())),
                "a one-character indicator string",
            )
        };
        while let Some(k) = map.next_key_seed(key())? {
            match k {
                DataKey::Ind1 => {
                    let empty;
                    (indicators[0], empty) = map.next_value_seed(ind("ind1"))?;
                    empty_indicator |= empty;
                    seen[0] = seen[0].saturating_add(1);
                }
                DataKey::Ind2 => {
                    let empty;
                    (indicators[1], empty) = map.next_value_seed(ind("ind2"))?;
                    empty_indicator |= empty;
                    seen[1] = seen[1].saturating_add(1);
                }
                DataKey::Subfields => {
                    if has_subfields {
                        return Err(de::Error::custom(format!(
                            "field {tag} has \"subfields\" twice"
                        )));
                    }
                    map.next_value_seed(SubfieldsSeed(&mut *rec))?;
                    has_subfields = true;
                }
                DataKey::Other => {
                    map.next_value::<Skipped>()?;
                }
            }
        }
        if let Some(last) = rec.fields.last_mut() {
            last.indicators = indicators;
        }
        *pymarc_shaped &= seen == [1, 1] && has_subfields && !empty_indicator;
        Ok(())
    }
}

/// The `subfields` array of `{"code": "value"}` objects.
struct SubfieldsSeed<'r>(&'r mut Record);

impl<'de> DeserializeSeed<'de> for SubfieldsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SubfieldsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of subfield objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while seq.next_element_seed(SubfieldSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// One subfield object; every entry is a subfield, in order (pymarc reads them all).
struct SubfieldSeed<'r>(&'r mut Record);

impl<'de> DeserializeSeed<'de> for SubfieldSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SubfieldSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a subfield object {\"code\": \"value\"}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let rec = self.0;
        while let Some(code) = map.next_key_seed(StrWith(subfield_code, "a subfield code"))? {
            map.next_value_seed(StrWith(
                |value: &str| {
                    rec.push_subfield(code, value);
                    Ok(())
                },
                "a subfield value string",
            ))?;
        }
        Ok(())
    }
}

// ---- reading: the top-level array, from a slice or a stream ---------------------------

/// Bytes the record parser reads from, and where it is.
trait JsonInput {
    /// The next byte without consuming it; `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>>;
    fn bump(&mut self);
    /// Stream offset of the next byte.
    fn offset(&self) -> u64;
    /// Skip a UTF-8 byte order mark at the very start.
    fn skip_bom(&mut self) -> Result<()>;
    /// Parse the value at the current position as a record. Errors carry their offset.
    fn record(&mut self) -> Result<Record>;
}

/// Tracks whether a byte is inside a JSON string, to find the raw control characters that
/// Python's `json.load(strict=False)` (which pymarc uses) accepts and serde_json does not.
#[derive(Clone, Copy, Default)]
struct StringTracker {
    in_string: bool,
    after_backslash: bool,
}

impl StringTracker {
    /// Account for one byte; `true` if it is a raw control character inside a string.
    fn step(&mut self, b: u8) -> bool {
        if !self.in_string {
            self.in_string = b == b'"';
            return false;
        }
        if self.after_backslash {
            self.after_backslash = false;
            return false;
        }
        match b {
            b'\\' => self.after_backslash = true,
            b'"' => self.in_string = false,
            _ => return b < 0x20,
        }
        false
    }
}

const NOT_A_RECORD_OR_ARRAY: &str = "expected an array of record objects or one record";
const HEX: &[u8; 16] = b"0123456789abcdef";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `\u00XX` for a control byte.
fn control_escape(b: u8) -> [u8; 6] {
    [
        b'\\',
        b'u',
        b'0',
        b'0',
        HEX[usize::from(b >> 4)],
        HEX[usize::from(b & 15)],
    ]
}

/// Where six-byte escapes stand in for raw control bytes in bytes handed to serde_json,
/// to map positions there back to offsets in the original input.
#[derive(Default)]
struct Escapes {
    /// Original offset of the escaped bytes' start.
    base: u64,
    /// Positions of the escapes, ascending.
    at: Vec<usize>,
}

impl Escapes {
    fn original_offset(&self, pos: usize) -> u64 {
        let whole = self.at.partition_point(|&e| e + 6 <= pos);
        let pos = match self.at.get(whole) {
            Some(&e) if e < pos => e,
            _ => pos,
        };
        self.base + (pos - 5 * whole) as u64
    }
}

/// Byte index in `bytes` of serde_json's (line, column) position: the column counts bytes
/// from the start of the line.
fn index_of_position(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &bytes[start..]) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    (start + column).min(bytes.len())
}

/// Parse one record from the start of `bytes` with serde_json's fast slice reader: the
/// record and the number of bytes it took.
fn parse_record_slice(bytes: &[u8]) -> std::result::Result<(JsonRecord, usize), serde_json::Error> {
    first_record(serde_json::Deserializer::from_slice(bytes).into_iter())
}

/// [`parse_record_slice`] of text already known to be UTF-8: serde_json then checks no
/// string's UTF-8 again (a tenth of the time of reading a document).
fn parse_record_str(text: &str) -> std::result::Result<(JsonRecord, usize), serde_json::Error> {
    first_record(serde_json::Deserializer::from_str(text).into_iter())
}

fn first_record<'de, R: serde_json::de::Read<'de>>(
    mut stream: serde_json::StreamDeserializer<'de, R, JsonRecord>,
) -> std::result::Result<(JsonRecord, usize), serde_json::Error> {
    match stream.next() {
        Some(Ok(rec)) => Ok((rec, stream.byte_offset())),
        Some(Err(e)) => Err(e),
        None => Err(de::Error::custom(
            "expected a record object, found the end of input",
        )),
    }
}

/// serde_json's error in `bytes`, which start at index `start` of the (possibly escaped)
/// bytes that `escapes` maps back to the original input.
fn json_error(e: &serde_json::Error, bytes: &[u8], start: usize, escapes: &Escapes) -> Error {
    let at = index_of_position(bytes, e.line(), e.column());
    Error::at_offset(
        ErrorKind::Json(e.to_string()),
        escapes.original_offset(start + at),
    )
}

/// Whether `bytes` have a raw control character inside a string (what gets escaped).
fn has_raw_control(bytes: &[u8]) -> bool {
    let mut strings = StringTracker::default();
    bytes.iter().any(|&b| strings.step(b))
}

fn is_raw_control_error(e: &serde_json::Error) -> bool {
    e.is_syntax() && e.to_string().starts_with("control character")
}

/// A document's bytes: as text when they are valid UTF-8 (checked once, for the whole
/// document, so that serde_json need not check each string).
enum Doc<'a> {
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
}

impl Doc<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Doc::Text(t) => t.as_bytes(),
            Doc::Bytes(b) => b,
        }
    }
}

/// A whole document in memory, parsed in place.
struct SliceInput<'a> {
    data: Doc<'a>,
    /// Every record read so far is shaped as pymarc reads it the same way.
    pymarc_shaped: bool,
    pos: usize,
    escapes: Escapes,
    /// Raw control characters in strings have been escaped (in a copy of the rest).
    escaped: bool,
}

impl<'a> SliceInput<'a> {
    fn new(data: &'a [u8]) -> Self {
        SliceInput {
            data: match simdutf8::basic::from_utf8(data) {
                Ok(text) => Doc::Text(Cow::Borrowed(text)),
                Err(_) => Doc::Bytes(Cow::Borrowed(data)),
            },
            pymarc_shaped: true,
            pos: 0,
            escapes: Escapes::default(),
            escaped: false,
        }
    }

    /// One record from `pos`, through the text when there is one. Records start at an
    /// ASCII byte, a character boundary.
    fn parse_here(&self) -> std::result::Result<(JsonRecord, usize), serde_json::Error> {
        match &self.data {
            Doc::Text(t) => match t.get(self.pos..) {
                Some(rest) => parse_record_str(rest),
                None => parse_record_slice(&t.as_bytes()[self.pos..]),
            },
            Doc::Bytes(b) => parse_record_slice(&b[self.pos..]),
        }
    }

    /// Copy the rest of the input with raw control characters in strings escaped. Done at
    /// most once, and only for input that has them.
    fn escape_rest(&mut self) {
        let rest = &self.data.bytes()[self.pos..];
        let mut out = Vec::with_capacity(rest.len() + 64);
        let mut at = Vec::new();
        let mut strings = StringTracker::default();
        for &b in rest {
            if strings.step(b) {
                at.push(out.len());
                out.extend_from_slice(&control_escape(b));
            } else {
                out.push(b);
            }
        }
        self.escapes = Escapes {
            base: self.escapes.original_offset(self.pos),
            at,
        };
        // Escapes are ASCII standing for ASCII bytes: text stays text.
        self.data = match self.data {
            Doc::Text(_) => match String::from_utf8(out) {
                Ok(text) => Doc::Text(Cow::Owned(text)),
                Err(e) => Doc::Bytes(Cow::Owned(e.into_bytes())),
            },
            Doc::Bytes(_) => Doc::Bytes(Cow::Owned(out)),
        };
        self.pos = 0;
        self.escaped = true;
    }
}

impl JsonInput for SliceInput<'_> {
    fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.data.bytes().get(self.pos).copied())
    }
    fn bump(&mut self) {
        self.pos += 1;
    }
    fn offset(&self) -> u64 {
        self.escapes.original_offset(self.pos)
    }
    fn skip_bom(&mut self) -> Result<()> {
        if self.pos == 0 && self.data.bytes().starts_with(BOM) {
            self.pos = BOM.len();
        }
        Ok(())
    }

    fn record(&mut self) -> Result<Record> {
        let parsed = self.parse_here();
        let rest = &self.data.bytes()[self.pos..];
        match parsed {
            Ok((JsonRecord(rec, shaped), used)) => {
                self.pos += used;
                self.pymarc_shaped &= shaped;
                Ok(rec)
            }
            // The stream reader always parses with raw control characters escaped; for the
            // same errors at the same offsets, so does this one whenever the rest has any
            // (checked only once something failed).
            Err(e) if !self.escaped && (is_raw_control_error(&e) || has_raw_control(rest)) => {
                self.escape_rest();
                self.record()
            }
            Err(e) => Err(json_error(&e, rest, self.pos, &self.escapes)),
        }
    }
}

/// A stream read a window at a time, each record parsed in place in the window: a
/// document file need not be held whole, nor its every byte scanned before parsing as
/// [`ReadInput`] does. Only for documents that are valid UTF-8 with no raw control
/// characters in strings; anything else, and any error, makes it give up (see
/// [`json_records_windowed`]).
struct WindowInput<R> {
    inner: R,
    buf: Vec<u8>,
    /// Start of the unread bytes.
    pos: usize,
    /// `buf[..valid]` is checked UTF-8; a character cut by the window's end waits for
    /// the rest of its bytes.
    valid: usize,
    filled: usize,
    eof: bool,
    pymarc_shaped: bool,
}

/// What a [`WindowInput`] fails with: the caller reads the document otherwise.
fn give_up() -> Error {
    Error::at_offset(ErrorKind::Json("not read a window at a time".into()), 0)
}

impl<R: io::Read> WindowInput<R> {
    /// Read more of the stream behind the unread bytes (moved to the front), growing the
    /// window when they fill it: a record longer than the window is read whole.
    fn refill(&mut self) -> Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.valid -= self.pos;
        self.filled -= self.pos;
        self.pos = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(give_up()),
            }
        };
        self.filled += n;
        self.eof = n == 0;
        match simdutf8::compat::from_utf8(&self.buf[self.valid..self.filled]) {
            Ok(_) => self.valid = self.filled,
            Err(e) if e.error_len().is_none() && !self.eof => self.valid += e.valid_up_to(),
            Err(_) => return Err(give_up()),
        }
        Ok(())
    }
}

impl<R: io::Read> JsonInput for WindowInput<R> {
    fn peek(&mut self) -> Result<Option<u8>> {
        while self.pos == self.valid && !self.eof {
            self.refill()?;
        }
        Ok(self.buf[..self.valid].get(self.pos).copied())
    }
    fn bump(&mut self) {
        self.pos += 1;
    }
    fn offset(&self) -> u64 {
        // Only errors ask, and they make this input give up.
        0
    }
    fn skip_bom(&mut self) -> Result<()> {
        while self.valid < BOM.len() && !self.eof {
            self.refill()?;
        }
        if self.buf[..self.valid].starts_with(BOM) {
            self.pos = BOM.len();
        }
        Ok(())
    }

    fn record(&mut self) -> Result<Record> {
        loop {
            // SAFETY: `buf[..valid]` was checked as UTF-8 (each refill checks what it adds,
            // from a character boundary) and `pos` is on a character boundary: it only
            // moves past ASCII structure and past whole records, which end with `}`.
            let text = unsafe { std::str::from_utf8_unchecked(&self.buf[self.pos..self.valid]) };
            match parse_record_str(text) {
                Ok((JsonRecord(rec, shaped), used)) => {
                    self.pos += used;
                    self.pymarc_shaped &= shaped;
                    return Ok(rec);
                }
                // The record goes on past the window: read on and parse it again.
                Err(e) if e.is_eof() && !self.eof => self.refill()?,
                Err(_) => return Err(give_up()),
            }
        }
    }
}

/// Every record of the MARC-in-JSON document in `inner`, read `window` bytes at a time
/// (more for a longer record), and whether pymarc reads them as the same records (see
/// [`JsonSliceReader::pymarc_shaped`]): the records [`parse_json`] gives for the whole
/// document, without holding it. `None` for a document this reader does not take on:
/// bytes that are not UTF-8, raw control characters in strings, a stream that fails, any
/// error. Read such a document whole with [`JsonSliceReader`], which handles the first
/// two and reports errors where they are.
pub fn json_records_windowed<R: io::Read>(inner: R, window: usize) -> Option<(Vec<Record>, bool)> {
    let mut records = Records::new(WindowInput {
        inner,
        buf: vec![0; window.max(BOM.len())],
        pos: 0,
        valid: 0,
        filled: 0,
        eof: false,
        pymarc_shaped: true,
    });
    let mut out = Vec::new();
    loop {
        match records.next_record() {
            Ok(Some(rec)) => out.push(rec),
            Ok(None) => return Some((out, records.input.pymarc_shaped)),
            Err(_) => return None,
        }
    }
}

/// A stream: the bytes of one record are gathered (raw control characters in strings
/// escaped on the way) and parsed with serde_json's slice reader. Memory holds one record.
struct ReadInput<R> {
    inner: R,
    offset: u64,
    buf: Vec<u8>,
    escapes: Escapes,
}

impl<R: BufRead> ReadInput<R> {
    fn new(inner: R) -> Self {
        ReadInput {
            inner,
            offset: 0,
            buf: Vec::new(),
            escapes: Escapes::default(),
        }
    }

    fn io_error(&self, e: io::Error) -> Error {
        Error::from(e).with_offset(self.offset)
    }

    /// Move the value starting here into `buf`: up to its matching close bracket, or for a
    /// scalar up to the next delimiter; at the end of input, whatever there is (serde_json
    /// then reports what is missing). Brackets are counted, not parsed, so depth costs
    /// nothing here.
    fn gather_value(&mut self) -> io::Result<()> {
        let mut strings = StringTracker::default();
        let mut depth = 0usize;
        let mut container = None;
        loop {
            let chunk = loop {
                match self.inner.fill_buf() {
                    Ok(chunk) => break chunk,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if chunk.is_empty() {
                return Ok(());
            }
            let container = *container.get_or_insert(matches!(chunk[0], b'{' | b'['));
            let mut used = 0;
            let mut complete = false;
            for &b in chunk {
                let was_in_string = strings.in_string;
                if strings.step(b) {
                    self.escapes.at.push(self.buf.len());
                    self.buf.extend_from_slice(&control_escape(b));
                    used += 1;
                    continue;
                }
                if !was_in_string && !strings.in_string {
                    match b {
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' if depth > 0 => {
                            depth -= 1;
                            if depth == 0 && container {
                                self.buf.push(b);
                                used += 1;
                                complete = true;
                                break;
                            }
                        }
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' if !container => {
                            complete = true;
                            break;
                        }
                        _ => {}
                    }
                }
                self.buf.push(b);
                used += 1;
            }
            self.inner.consume(used);
            self.offset += used as u64;
            if complete {
                return Ok(());
            }
        }
    }
}

impl<R: BufRead> JsonInput for ReadInput<R> {
    fn peek(&mut self) -> Result<Option<u8>> {
        loop {
            match self.inner.fill_buf() {
                Ok(chunk) => return Ok(chunk.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }
    fn bump(&mut self) {
        self.inner.consume(1);
        self.offset += 1;
    }
    fn offset(&self) -> u64 {
        self.offset
    }
    fn skip_bom(&mut self) -> Result<()> {
        if self.offset != 0 {
            return Ok(());
        }
        // The mark may arrive in pieces: take its bytes one at a time while they match.
        let mut matched = 0;
        while matched < BOM.len() {
            if self.peek()? != Some(BOM[matched]) {
                break;
            }
            self.inner.consume(1);
            matched += 1;
        }
        match matched {
            0 => Ok(()),
            3 => {
                self.offset = BOM.len() as u64;
                Ok(())
            }
            // Bytes that only began like the mark: no JSON value starts so, and the slice
            // reader reports that at the start.
            _ => Err(Error::at(
                ErrorKind::Json(NOT_A_RECORD_OR_ARRAY.into()),
                0,
                0,
            )),
        }
    }

    fn record(&mut self) -> Result<Record> {
        self.buf.clear();
        self.escapes.at.clear();
        self.escapes.base = self.offset;
        if let Err(e) = self.gather_value() {
            return Err(self.io_error(e));
        }
        match parse_record_slice(&self.buf) {
            Ok((JsonRecord(rec, _), _)) => Ok(rec),
            Err(e) => Err(json_error(&e, &self.buf, 0, &self.escapes)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TopLevel {
    Start,
    FirstInArray,
    NextInArray,
    Single,
    /// After a top-level record object: another one (concatenated objects, JSON Lines) or
    /// the end.
    AfterObject,
    Trailing,
    Done,
}

/// The top level: a record object, several of them one after another (as JSON Lines or
/// concatenated objects), or an array of them.
struct Records<I> {
    input: I,
    top_level: TopLevel,
    count: u64,
    /// Where the record last read starts.
    record_start: u64,
}

impl<I: JsonInput> Records<I> {
    fn new(input: I) -> Self {
        Records {
            input,
            top_level: TopLevel::Start,
            count: 0,
            record_start: 0,
        }
    }

    fn next_record(&mut self) -> Result<Option<Record>> {
        let r = self.step();
        match r {
            Ok(Some(_)) => self.count += 1,
            Ok(None) => self.top_level = TopLevel::Done,
            Err(e) => {
                self.top_level = TopLevel::Done;
                return Err(e.in_record(self.count));
            }
        }
        r
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::at(
            ErrorKind::Json(message.into()),
            self.count,
            self.input.offset(),
        )
    }

    fn skip_whitespace(&mut self) -> Result<Option<u8>> {
        loop {
            match self.input.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.input.bump(),
                other => return Ok(other),
            }
        }
    }

    /// The array element at the current position (after whitespace), which only an object
    /// can be. Anything else is reported here, so that slice and stream agree: the stream
    /// reader gathers a value's bytes before parsing them, and cannot cut a malformed
    /// scalar where the slice parser sees its end.
    fn array_element(&mut self) -> Result<Record> {
        match self.input.peek()? {
            Some(b'{') | None => {
                self.record_start = self.input.offset();
                self.input.record()
            }
            Some(_) => Err(self.fail("expected a record object in the array")),
        }
    }

    fn step(&mut self) -> Result<Option<Record>> {
        loop {
            match self.top_level {
                TopLevel::Start => {
                    self.input.skip_bom()?;
                    match self.skip_whitespace()? {
                        Some(b'[') => {
                            self.input.bump();
                            self.top_level = TopLevel::FirstInArray;
                        }
                        Some(b'{') => self.top_level = TopLevel::Single,
                        Some(_) => return Err(self.fail(NOT_A_RECORD_OR_ARRAY)),
                        None => return Err(self.fail("no JSON value: the input is empty")),
                    }
                }
                TopLevel::FirstInArray => match self.skip_whitespace()? {
                    Some(b']') => {
                        self.input.bump();
                        self.top_level = TopLevel::Trailing;
                    }
                    None => return Err(self.fail("input ends inside the array")),
                    Some(_) => {
                        let rec = self.array_element()?;
                        self.top_level = TopLevel::NextInArray;
                        return Ok(Some(rec));
                    }
                },
                TopLevel::NextInArray => match self.skip_whitespace()? {
                    Some(b',') => {
                        self.input.bump();
                        if self.skip_whitespace()? == Some(b']') {
                            return Err(self.fail("a comma before ']' (trailing comma)"));
                        }
                        return self.array_element().map(Some);
                    }
                    Some(b']') => {
                        self.input.bump();
                        self.top_level = TopLevel::Trailing;
                    }
                    Some(_) => return Err(self.fail("expected ',' or ']' after a record")),
                    None => return Err(self.fail("input ends inside the array")),
                },
                TopLevel::Single => {
                    self.record_start = self.input.offset();
                    let rec = self.input.record()?;
                    self.top_level = TopLevel::AfterObject;
                    return Ok(Some(rec));
                }
                TopLevel::AfterObject => match self.skip_whitespace()? {
                    Some(b'{') => self.top_level = TopLevel::Single,
                    Some(_) => {
                        return Err(
                            self.fail("trailing characters after a record (expected another record object or the end)")
                        )
                    }
                    None => return Ok(None),
                },
                TopLevel::Trailing => {
                    if self.skip_whitespace()?.is_some() {
                        return Err(self.fail("trailing characters after the JSON value"));
                    }
                    return Ok(None);
                }
                TopLevel::Done => return Ok(None),
            }
        }
    }
}

/// Streams records from MARC-in-JSON on any `BufRead`: a top-level array is read one record
/// at a time, so memory holds one record, not the document. After an error it is finished.
pub struct JsonReader<R> {
    records: Records<ReadInput<R>>,
}

impl<R: BufRead> JsonReader<R> {
    /// A reader of the JSON document in `inner`.
    pub fn new(inner: R) -> Self {
        JsonReader {
            records: Records::new(ReadInput::new(inner)),
        }
    }

    /// Read the next record into `rec`. `Ok(false)` at the end.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        read_into(&mut self.records, rec)
    }

    /// Stream offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.records.input.offset()
    }

    /// Stream offset of the `{` that starts the record last read.
    pub fn record_offset(&self) -> u64 {
        self.records.record_start
    }
}

impl<R: BufRead> Iterator for JsonReader<R> {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Result<Record>> {
        self.records.next_record().transpose()
    }
}

/// Reads MARC-in-JSON already in memory (faster than [`JsonReader`] over a slice).
pub struct JsonSliceReader<'a> {
    records: Records<SliceInput<'a>>,
}

impl<'a> JsonSliceReader<'a> {
    /// A reader of the JSON document in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        JsonSliceReader {
            records: Records::new(SliceInput::new(data)),
        }
    }

    /// Read the next record into `rec`. `Ok(false)` at the end.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        read_into(&mut self.records, rec)
    }

    /// Offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.records.input.offset()
    }

    /// Whether pymarc's `JSONReader` reads the records read so far as the same records:
    /// every field object has one entry, and every data field object has `ind1`, `ind2`
    /// (not empty) and `subfields`, each once. (This reader takes missing or empty
    /// indicators as blanks and a missing `subfields` as none, and reads only a field
    /// object's first entry.)
    pub fn pymarc_shaped(&self) -> bool {
        self.records.input.pymarc_shaped
    }
}

impl Iterator for JsonSliceReader<'_> {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Result<Record>> {
        self.records.next_record().transpose()
    }
}

fn read_into<I: JsonInput>(records: &mut Records<I>, rec: &mut Record) -> Result<bool> {
    match records.next_record()? {
        Some(r) => {
            *rec = r;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Every record of a MARC-in-JSON document in memory; the first error ends it.
pub fn parse_json(data: &[u8]) -> Result<Vec<Record>> {
    JsonSliceReader::new(data).collect()
}

// ---- writing ---------------------------------------------------------------------------

/// Separators, as Python's `json.dumps` writes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JsonLayout {
    /// `", "` and `": "`: `json.dumps` defaults, pymarc's `Record.as_json()`.
    #[default]
    Spaced,
    /// `","` and `":"`: pymarc's `JSONWriter`.
    Compact,
}

impl JsonLayout {
    fn separators(self) -> (&'static str, &'static str) {
        match self {
            JsonLayout::Spaced => (", ", ": "),
            JsonLayout::Compact => (",", ":"),
        }
    }
}

/// One record as pymarc's `record.as_json()` gives it.
pub fn record_to_json(rec: &Record) -> String {
    let mut out = String::with_capacity(rec.text_len() + 64 + rec.len() * 48);
    write_record_json(rec, JsonLayout::Spaced, &mut out);
    out
}

/// Append one record object to `out`: keys in pymarc's `as_dict()` order, strings escaped
/// as `json.dumps` does with `ensure_ascii` (so the output is ASCII). A raw-encoded record's
/// text is written as the Latin-1 characters it holds.
pub fn write_record_json(rec: &Record, layout: JsonLayout, out: &mut String) {
    let (comma, colon) = layout.separators();
    out.push_str("{\"leader\"");
    out.push_str(colon);
    push_json_string(out, rec.leader().as_str());
    out.push_str(comma);
    out.push_str("\"fields\"");
    out.push_str(colon);
    out.push('[');
    for (i, field) in rec.fields().enumerate() {
        if i > 0 {
            out.push_str(comma);
        }
        out.push('{');
        push_json_string(out, field.tag().as_str());
        out.push_str(colon);
        if let Some(data) = field.data() {
            push_json_string(out, data);
            out.push('}');
            continue;
        }
        let [ind1, ind2] = field.indicators();
        out.push_str("{\"ind1\"");
        out.push_str(colon);
        push_json_string(out, ind1.encode_utf8(&mut [0; 4]));
        out.push_str(comma);
        out.push_str("\"ind2\"");
        out.push_str(colon);
        push_json_string(out, ind2.encode_utf8(&mut [0; 4]));
        out.push_str(comma);
        out.push_str("\"subfields\"");
        out.push_str(colon);
        out.push('[');
        for (j, sf) in field.subfields().enumerate() {
            if j > 0 {
                out.push_str(comma);
            }
            out.push('{');
            push_json_string(out, sf.code.encode_utf8(&mut [0; 4]));
            out.push_str(colon);
            push_json_string(out, sf.value);
            out.push('}');
        }
        out.push_str("]}}");
    }
    out.push_str("]}");
}

/// A JSON string as Python writes it with `ensure_ascii`: printable ASCII as is except `"`
/// and `\`, short escapes for `\b \f \n \r \t`, and `\uxxxx` (lowercase, surrogate pairs
/// beyond the BMP) for everything else, DEL included.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&s[done..i]);
        let width = match b {
            b'"' => {
                out.push_str("\\\"");
                1
            }
            b'\\' => {
                out.push_str("\\\\");
                1
            }
            b'\n' => {
                out.push_str("\\n");
                1
            }
            b'\r' => {
                out.push_str("\\r");
                1
            }
            b'\t' => {
                out.push_str("\\t");
                1
            }
            0x08 => {
                out.push_str("\\b");
                1
            }
            0x0c => {
                out.push_str("\\f");
                1
            }
            _ => {
                // `i` is on a char boundary: everything before it was consumed whole.
                let c = s[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(out, *unit);
                }
                c.len_utf8()
            }
        };
        i += width;
        done = i;
    }
    out.push_str(&s[done..]);
    out.push('"');
}

fn push_u_escape(out: &mut String, unit: u16) {
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 15)]));
    }
}

/// Writes a JSON array of records as pymarc's `JSONWriter` does: `[`, records separated by
/// commas, `]` on [`JsonWriter::finish`] (without it the output is incomplete).
pub struct JsonWriter<W: Write> {
    sink: Sink<W, String>,
    layout: JsonLayout,
    count: u64,
}

impl<W: Write> JsonWriter<W> {
    /// Compact separators, as pymarc's `JSONWriter`.
    pub fn new(inner: W) -> Self {
        JsonWriter::with_layout(inner, JsonLayout::Compact)
    }

    /// A writer with the given separators.
    pub fn with_layout(inner: W, layout: JsonLayout) -> Self {
        JsonWriter {
            sink: Sink::new(inner),
            layout,
            count: 0,
        }
    }

    /// Serialise and write one record (the array opens before the first).
    pub fn write_record(&mut self, rec: &Record) -> Result<()> {
        let (separator, layout) = (self.separator(), self.layout);
        self.sink.write_with(|buf| {
            buf.push_str(separator);
            write_record_json(rec, layout, buf);
            Ok(())
        })?;
        self.count += 1;
        Ok(())
    }

    /// Write one record object already serialised by [`write_record_json`] with this
    /// writer's layout (on another thread, say).
    pub fn write_serialised(&mut self, record_json: &[u8]) -> Result<()> {
        self.sink
            .write_parts(&[self.separator().as_bytes(), record_json])?;
        self.count += 1;
        Ok(())
    }

    /// What goes before the next record: the array's start, or a separator.
    fn separator(&self) -> &'static str {
        if self.count == 0 {
            "["
        } else {
            self.layout.separators().0
        }
    }

    /// The layout records are written with.
    pub fn layout(&self) -> JsonLayout {
        self.layout
    }

    /// Flush the underlying writer (the array stays open).
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    /// Close the array, flush, and hand back the output.
    pub fn finish(self) -> Result<W> {
        let open: &[u8] = if self.count == 0 { b"[" } else { b"" };
        self.sink.finish(&[open, b"]"])
    }
}

/// Writes JSON Lines: each record a compact object on a line of its own, every line ended
/// by a newline. [`JsonReader`] reads it back, as it reads concatenated objects.
pub struct JsonLinesWriter<W: Write> {
    sink: Sink<W, String>,
}

impl<W: Write> JsonLinesWriter<W> {
    /// A writer of JSON Lines to `inner`.
    pub fn new(inner: W) -> Self {
        JsonLinesWriter {
            sink: Sink::new(inner),
        }
    }

    /// Write one record as a line.
    pub fn write_record(&mut self, rec: &Record) -> Result<()> {
        self.sink.write_with(|buf| {
            write_record_json(rec, JsonLayout::Compact, buf);
            buf.push('\n');
            Ok(())
        })
    }

    /// Write one record object already serialised by [`write_record_json`] (compact).
    pub fn write_serialised(&mut self, record_json: &[u8]) -> Result<()> {
        self.sink.write_parts(&[record_json, b"\n"])
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    /// Flush and hand back the output.
    pub fn finish(self) -> Result<W> {
        self.sink.finish(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_json_string(&mut out, s);
        out
    }

    #[test]
    fn strings_escape_like_python_ensure_ascii() {
        assert_eq!(escaped("a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(
            escaped("\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}"),
            r#""\n\r\t\b\f\u0001\u001f\u007f""#
        );
        assert_eq!(escaped("é😀"), r#""\u00e9\ud83d\ude00""#);
    }

    #[test]
    fn string_tracker_finds_raw_controls_only_inside_strings() {
        let mut t = StringTracker::default();
        let flagged: Vec<usize> = b"[\n{\"a\\\"\x01\": \"\x1f\"}\t]"
            .iter()
            .enumerate()
            .filter(|(_, b)| t.step(**b))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(flagged, vec![7, 12]);
    }

    #[test]
    fn offsets_map_back_through_escapes() {
        let mut input = SliceInput::new(b"[\"\x01x\"]");
        input.pos = 1;
        input.escape_rest();
        // `"\u0001x"]` : the escape starts at 1 and stands for original byte 2.
        assert_eq!(input.escapes.original_offset(0), 1);
        assert_eq!(input.escapes.original_offset(1), 2);
        assert_eq!(input.escapes.original_offset(4), 2);
        assert_eq!(input.escapes.original_offset(7), 3);
        assert_eq!(input.escapes.original_offset(8), 4);
    }

    #[test]
    fn json_lines_and_concatenated_objects_are_read() {
        let mut rec = Record::new();
        rec.push(&crate::field::Field::control(Tag::new("001").unwrap(), "a"));
        let mut w = JsonLinesWriter::new(Vec::new());
        w.write_record(&rec).unwrap();
        w.write_record(&rec).unwrap();
        let lines = w.finish().unwrap();
        assert_eq!(lines.iter().filter(|&&b| b == b'\n').count(), 2);
        assert!(lines.ends_with(b"}\n"));
        assert_eq!(parse_json(&lines).unwrap(), vec![rec.clone(), rec.clone()]);
        let mut reader = JsonReader::new(&lines[..]);
        assert_eq!(reader.next().unwrap().unwrap(), rec);
        assert_eq!(reader.next().unwrap().unwrap(), rec);
        assert!(reader.next().is_none());
        // As yaz writes them: objects back to back, no separator.
        let one = record_to_json(&rec);
        let glued = format!("{one}{one}  {one}");
        assert_eq!(parse_json(glued.as_bytes()).unwrap().len(), 3);
        let bad = format!("{one} [");
        let err = parse_json(bad.as_bytes()).unwrap_err();
        assert_eq!(err.record(), Some(1));
        assert!(err.to_string().contains("another record object"), "{err}");
    }

    /// A reader that hands out at most `step` bytes a call, as pipes and sockets may.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(self.step).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn windowed(doc: &[u8], window: usize, step: usize) -> Option<(Vec<Record>, bool)> {
        json_records_windowed(Trickle { data: doc, step }, window)
    }

    fn sample_records() -> Vec<Record> {
        use crate::field::{Field, Subfield};
        (0..5)
            .map(|i| {
                let mut rec = Record::new();
                rec.push(&Field::control(Tag::new("001").unwrap(), format!("id{i}")));
                // `~` stands for characters of each UTF-8 length (see `sample_json`).
                let long = "over the bridge ~ ".repeat(i * 7 + 1);
                rec.push(&Field::data(
                    Tag::new("245").unwrap(),
                    '1',
                    '0',
                    vec![
                        Subfield {
                            code: 'a',
                            value: long,
                        },
                        Subfield {
                            code: 'b',
                            value: "with \"quotes\" and \\".into(),
                        },
                    ],
                ));
                rec
            })
            .collect()
    }

    /// A record as JSON, its non-ASCII characters as they are (not `\\u` escapes).
    fn sample_json(rec: &Record) -> String {
        record_to_json(rec).replace('~', "Ü—橋😀")
    }

    #[test]
    fn windowed_reading_gives_the_slice_readers_records() {
        let records = sample_records();
        let objects: Vec<String> = records.iter().map(sample_json).collect();
        let mut docs = vec![
            format!("[{}]", objects.join(",")),
            format!("\u{feff} [\n  {}\n]\n", objects.join(",\n  ")),
            objects.join("\n"),
            objects[3].clone(),
            "[]".to_string(),
            " [ ] ".to_string(),
        ];
        // A field object with two entries: read, but not as pymarc reads it.
        docs.push(objects[0].replacen("{\"001\":", "{\"002\":\"x\",\"001\":", 1));
        for doc in &docs {
            let mut slice = JsonSliceReader::new(doc.as_bytes());
            let whole = slice.by_ref().collect::<Result<Vec<_>>>().unwrap();
            let shaped = slice.pymarc_shaped();
            // Windows smaller than a character, a record, and the whole document; reads
            // of a few bytes and of all that fits.
            for window in [1, 2, 3, 5, 8, 64, 300, 1 << 16] {
                for step in [1, 3, usize::MAX] {
                    let got = windowed(doc.as_bytes(), window, step);
                    assert_eq!(
                        got,
                        Some((whole.clone(), shaped)),
                        "window {window}, step {step}: {doc}"
                    );
                }
            }
        }
    }

    #[test]
    fn windowed_reading_gives_up_where_the_slice_reader_must_decide() {
        let one = sample_json(&sample_records()[1]);
        let raw_control = one.replacen("id1", "id\u{1}1", 1);
        let mut not_utf8 = format!("[{one}]").into_bytes();
        let at = not_utf8.iter().position(|&b| b == b'i').unwrap();
        not_utf8[at] = 0xE9;
        let cut_char = {
            let doc = format!("[{one}]").into_bytes();
            let at = doc.iter().position(|&b| b >= 0x80).unwrap();
            doc[..at + 1].to_vec()
        };
        let bad: Vec<Vec<u8>> = vec![
            format!("[{raw_control}]").into_bytes(),
            not_utf8,
            cut_char,
            format!("[{one},").into_bytes(),
            format!("[{one}] x").into_bytes(),
            format!("[{one}, 3]").into_bytes(),
            b"".to_vec(),
            b"nul".to_vec(),
        ];
        for doc in &bad {
            for window in [1, 7, 1 << 16] {
                assert_eq!(
                    windowed(doc, window, 5),
                    None,
                    "{}",
                    String::from_utf8_lossy(doc)
                );
            }
        }
        // The raw control character is one the slice reader takes (pymarc does too).
        assert_eq!(
            parse_json(format!("[{raw_control}]").as_bytes())
                .unwrap()
                .len(),
            1
        );
    }
}
