//! Parsing one framed ISO 2709 record into a [`Record`].

use super::frame::{FIELD_TERMINATOR, RECORD_TERMINATOR, SUBFIELD_DELIMITER};
use super::positions::{is_plain_ascii_text, Positions};
use crate::diagnostic::Diagnostic;
use crate::error::{Error, ErrorKind, Result};
use crate::field::{Tag, TagSet};
use crate::leader::{parse_digits, python_int, Leader, LEADER_LEN};
use crate::marc8;
use crate::record::{Record, TextEncoding};

/// How field text is turned into Unicode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decoding {
    /// By leader/09: `a` is UTF-8, anything else MARC-8.
    #[default]
    Auto,
    /// UTF-8 whatever the leader says (pymarc's `force_utf8`).
    Utf8,
    /// MARC-8 whatever the leader says.
    Marc8,
    /// No decoding: each byte becomes the char with the same value (Latin-1), so the
    /// original bytes come back exactly on writing. For wrongly encoded files.
    Raw,
}

/// What to do with bytes that are not valid UTF-8 (Python's codec error handlers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Utf8Errors {
    /// The record is an error.
    #[default]
    Strict,
    /// Each invalid sequence becomes U+FFFD.
    Replace,
    /// Invalid sequences are dropped.
    Ignore,
}

/// How a record's bytes are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// How field text is decoded (by leader/09, or forced).
    pub decoding: Decoding,
    /// What to do with invalid UTF-8.
    pub utf8_errors: Utf8Errors,
    /// Check everything ISO 2709 requires (terminators, directory bounds, indicator count,
    /// subfield codes). When false, parse as pymarc does: take what the directory says,
    /// clamp what lies outside the record, fix up odd indicators and subfield codes.
    pub strict: bool,
    /// Note a MARC-8 record (blank leader/09) whose data field text is valid UTF-8
    /// ([`crate::Diagnostic::Utf8UnderMarc8`]). Off by default: it validates every
    /// non-ASCII MARC-8 field as UTF-8 on top of decoding it, which only a program that
    /// reports the problem should pay for.
    pub detect_utf8_under_marc8: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            decoding: Decoding::Auto,
            utf8_errors: Utf8Errors::Strict,
            strict: true,
            detect_utf8_under_marc8: false,
        }
    }
}

/// The longest input `parse_record` takes (64 MiB). Decoding makes at most a few bytes of
/// UTF-8 of each input byte (MARC-8 then NFC: under ten), so the text stays far below the
/// 4 GiB its spans can address.
const MAX_PARSE_LEN: usize = 1 << 26;

fn err(kind: ErrorKind, offset: usize) -> Error {
    Error::at_offset(kind, offset as u64)
}

/// Parse one whole record (leader through record terminator) into `rec`, reusing its
/// allocations. Error offsets are relative to the start of `bytes`.
pub fn parse_record(bytes: &[u8], opts: &ParseOptions, rec: &mut Record) -> Result<()> {
    parse(bytes, opts, &Every, rec)
}

/// [`parse_record`] keeping only the fields whose tags are in `only`. The other fields'
/// directory entries are checked as usual, but their text is neither decoded nor checked,
/// and they are left out of the record: for readers that look at a few tags (an Arrow
/// projection), most of a record's parsing is skipped.
pub fn parse_record_fields(
    bytes: &[u8],
    opts: &ParseOptions,
    only: &TagSet,
    rec: &mut Record,
) -> Result<()> {
    parse(bytes, opts, only, rec)
}

/// Which fields a parse keeps. A type rather than an `Option`, so that the parse of
/// every field is compiled without the test.
trait Keep {
    const EVERY: bool;
    fn keeps(&self, tag: Tag) -> bool;
}

struct Every;

impl Keep for Every {
    const EVERY: bool = true;
    fn keeps(&self, _: Tag) -> bool {
        true
    }
}

impl Keep for TagSet {
    const EVERY: bool = false;
    #[inline(always)]
    fn keeps(&self, tag: Tag) -> bool {
        self.contains(tag)
    }
}

/// The tag set is not one of the options: those travel with every record a parallel
/// reader hands out, which a thousand-bit set would make several times larger.
fn parse<K: Keep>(bytes: &[u8], opts: &ParseOptions, keep: &K, rec: &mut Record) -> Result<()> {
    rec.clear();
    if bytes.len() < LEADER_LEN {
        return Err(err(ErrorKind::LeaderInvalid, 0));
    }
    // ISO 2709 records are at most 99,999 bytes; lenient parsing takes longer input, but
    // not so long that the record's text could outgrow its 32-bit spans.
    if bytes.len() > MAX_PARSE_LEN {
        return Err(err(ErrorKind::RecordLengthInvalid(bytes.len()), 0));
    }
    let leader = Leader::from_bytes(&bytes[..LEADER_LEN]).map_err(|e| err(e.into_kind(), 0))?;
    if opts.strict {
        match leader.record_length() {
            Some(n) if n == bytes.len() => {}
            Some(n) => return Err(err(ErrorKind::RecordLengthInvalid(n), 0)),
            None => return Err(err(ErrorKind::RecordLengthNotDigits, 0)),
        }
        if bytes[bytes.len() - 1] != RECORD_TERMINATOR {
            return Err(err(ErrorKind::EndOfRecordNotFound, bytes.len() - 1));
        }
    }
    // pymarc reads the base address with int() on bytes: a sign is allowed, and zero or
    // less is "not found".
    let base = if opts.strict {
        parse_digits(&bytes[12..17]).map(|n| n as i64)
    } else {
        python_int(&bytes[12..17])
    }
    .ok_or_else(|| err(ErrorKind::BaseAddressNotDigits, 12))?;
    if base <= 0 {
        return Err(err(ErrorKind::BaseAddressNotFound, 12));
    }
    let base = base as usize;
    if base >= bytes.len() {
        return Err(err(ErrorKind::BaseAddressInvalid(base), 12));
    }
    if !opts.strict {
        // pymarc checks the record length (the leader's, read with int() as text) against
        // the bytes it was given here, after the base address and before the directory.
        match python_int(&bytes[..5]) {
            None => return Err(err(ErrorKind::RecordLengthNotDigits, 0)),
            Some(n) if n > bytes.len() as i64 => {
                return Err(err(
                    ErrorKind::TruncatedRecord {
                        expected: n as usize,
                        found: bytes.len(),
                    },
                    0,
                ))
            }
            Some(_) => {}
        }
    }
    if base <= LEADER_LEN {
        return Err(err(ErrorKind::BaseAddressInvalid(base), 12));
    }
    let directory = &bytes[LEADER_LEN..base - 1];
    if ascii_str(directory).is_none() {
        return Err(err(ErrorKind::DirectoryNotAscii, LEADER_LEN));
    }
    if !directory.len().is_multiple_of(12) {
        return Err(err(
            ErrorKind::DirectoryLengthInvalid(directory.len()),
            LEADER_LEN,
        ));
    }
    if opts.strict && bytes[base - 1] != FIELD_TERMINATOR {
        return Err(err(ErrorKind::DirectoryTerminatorMissing, base - 1));
    }
    let field_count = directory.len() / 12;
    if field_count == 0 {
        return Err(err(ErrorKind::NoFields, LEADER_LEN));
    }

    let utf8 = match opts.decoding {
        Decoding::Auto => leader.is_unicode(),
        Decoding::Utf8 => true,
        Decoding::Marc8 | Decoding::Raw => false,
    };
    let encoding = if opts.decoding == Decoding::Raw {
        TextEncoding::Raw
    } else {
        TextEncoding::Unicode
    };
    rec.set_leader(leader);
    rec.encoding = encoding;
    rec.text.reserve(bytes.len() - LEADER_LEN);
    rec.fields.reserve(field_count);
    // Room for a few subfields a field: a fresh record's span table then grows once or not
    // at all, and a reused one already has the room. (Counting the delimiters to reserve
    // exactly would cost a pass over every record, reused or not.)
    rec.subfields.reserve(field_count * 4);

    let data = &bytes[base..];
    // In strict mode a record terminator may only end the record. One search per record;
    // fields are searched only when it finds one.
    let stray_terminator =
        opts.strict && memchr::memchr(RECORD_TERMINATOR, &data[..data.len() - 1]).is_some();
    // A record may be written back as it was read (see `Record::data_area`) when its text
    // starts with the directory and its terminator, then the whole data area. Copying the
    // directory costs little; it is ASCII, checked above.
    let keep_directory = bytes[base - 1] == FIELD_TERMINATOR;
    // Validate the data area's UTF-8 once (with the directory, when it is kept: one check
    // for both); fields are then sliced from it without re-checking (a slice between two
    // char boundaries of valid UTF-8 is valid).
    // A projection keeps a few fields of each record: checking and copying those alone
    // costs less than the whole data area (fields left out are not decoded either way).
    let per_field = !K::EVERY;
    let (checked_from, checked) = if !utf8 || per_field {
        (base, None)
    } else if let Some(s) = keep_directory
        .then(|| simdutf8::basic::from_utf8(&bytes[LEADER_LEN..]).ok())
        .flatten()
    {
        (LEADER_LEN, Some(s))
    } else {
        (base, simdutf8::basic::from_utf8(data).ok())
    };
    // The ASCII byte before `base` makes it a char boundary.
    let data_str = checked.and_then(|s| s.get(base - checked_from..));
    let decoder = TextDecoder {
        utf8,
        data_str,
        raw: opts.decoding == Decoding::Raw,
        utf8_errors: opts.utf8_errors,
    };
    // When the data area's text needs no decoding (valid UTF-8, or ASCII that MARC-8 and
    // Latin-1 map to itself), it is copied into the record once and every field and subfield
    // is a span of that copy. `shared_end`: fields ending at or before it use the copy; a
    // field reaching past it (only the final record terminator can be past it) is decoded.
    // `copy`: the text copied, from the data area or from the directory before it.
    let shared = match checked {
        Some(s) => Some((s, base - checked_from, data.len())),
        None if !utf8 && !per_field => {
            let body = &data[..data.len() - 1];
            let plain = if decoder.raw {
                body.is_ascii()
            } else {
                is_plain_ascii_text(body)
            };
            // ASCII is valid UTF-8; the last byte is left out unless it is plain too.
            let with_last = plain && is_plain_ascii_text(&data[data.len() - 1..]);
            let usable = if with_last { data.len() } else { body.len() };
            let from = if keep_directory && with_last {
                LEADER_LEN
            } else {
                base
            };
            // SAFETY: the directory (from LEADER_LEN) was found ASCII above, and the data
            // area's bytes up to `usable` are plain ASCII; ASCII is UTF-8.
            plain
                .then(|| unsafe { std::str::from_utf8_unchecked(&bytes[from..base + usable]) })
                .map(|s| (s, base - from, usable))
        }
        None => None,
    };
    let whole = shared.is_some_and(|(_, head, usable)| head > 0 && usable == data.len());
    let (text_base, shared_end) = match shared {
        Some((copy, head, usable)) => (rec.append_text(copy) + head, usable),
        None => (0, 0),
    };
    // Shared text is valid UTF-8; a field may use it only if the directory's span does not
    // cut a character (lenient parsing takes spans as given). Every other boundary inside a
    // field is next to an ASCII delimiter, so these two checks are all it takes.
    let shared_text = shared.map_or("", |(copy, head, _)| &copy[head..]);

    // Every directory number zero-padded digits and every length above zero, as the writer
    // makes them (strict parsing allows nothing else; lenient parsing reads " 12" as 12).
    let mut canonical = true;
    for (i, entry) in directory.chunks_exact(12).enumerate() {
        let tag = TagWord::of_entry(entry);
        let kept = keep.keeps(tag.tag());
        // Lenient parsing takes any span (it clamps): of a field left out, only that its
        // numbers are numbers matters, and digits are.
        if !kept && !opts.strict && entry_digits(entry).is_some() {
            continue;
        }
        let entry_offset = LEADER_LEN + i * 12;
        let numbers = match entry_numbers(entry) {
            Some((len, start)) => (Some(len as i64), Some(start as i64)),
            None => (
                number(&entry[3..7], opts.strict, &mut canonical),
                number(&entry[7..12], opts.strict, &mut canonical),
            ),
        };
        let (Some(len), Some(start)) = numbers else {
            return Err(err(
                ErrorKind::DirectoryEntryNotDigits { entry: i },
                entry_offset,
            ));
        };
        if !kept && !opts.strict {
            continue;
        }
        // `area`: what the field's span is relative to, the data area (from `base`), or the
        // whole record for a field lenient parsing finds before the data area.
        let (area, area_base, field_start, field_end) = if opts.strict {
            // Strict numbers are digits, never negative.
            let (len, start) = (len as usize, start as usize);
            let end = start + len;
            if len == 0 || end > data.len() - 1 {
                return Err(err(
                    ErrorKind::DirectoryEntryOutOfBounds { entry: i },
                    entry_offset,
                ));
            }
            if data[end - 1] != FIELD_TERMINATOR {
                return Err(err(
                    ErrorKind::FieldTerminatorMissing {
                        tag: tag.tag().to_string(),
                    },
                    base + end - 1,
                ));
            }
            if stray_terminator {
                if let Some(at) = memchr::memchr(RECORD_TERMINATOR, &data[start..end - 1]) {
                    return Err(err(
                        ErrorKind::RecordTerminatorInField {
                            tag: tag.tag().to_string(),
                        },
                        base + start + at,
                    ));
                }
            }
            (data, base, start, end - 1)
        } else {
            // pymarc's slice of the record: the field's bytes less the last, with Python's
            // rules for ends past the record or negative (counted from its end).
            canonical &= len != 0;
            let (s, e) = python_slice(
                base as i64 + start,
                base as i64 + start + len - 1,
                bytes.len(),
            );
            if s >= base {
                (data, base, s - base, e - base)
            } else {
                (bytes, 0, s, e)
            }
        };
        if !kept {
            continue;
        }
        let field = &area[field_start..field_end];
        let field_offset = area_base + field_start;
        // Where the field's bytes sit in the record's text, if they are shared.
        let in_text = if per_field {
            // A field that is not valid UTF-8, or not text that MARC-8 (or raw bytes) maps
            // to itself, is decoded below, subfield by subfield, as it would be without a
            // projection (its error, or its replacement characters).
            let same = if utf8 {
                ascii_str(field).or_else(|| simdutf8::basic::from_utf8(field).ok())
            } else if decoder.raw {
                ascii_str(field)
            } else if is_plain_ascii_text(field) {
                // SAFETY: plain text is ASCII, and ASCII is UTF-8.
                Some(unsafe { std::str::from_utf8_unchecked(field) })
            } else {
                None
            };
            same.map(|s| rec.append_text(s))
        } else {
            (area_base == base
                && field_end <= shared_end
                && shared_text.is_char_boundary(field_start)
                && shared_text.is_char_boundary(field_end))
            .then_some(text_base + field_start)
        };
        if tag.tag().is_control() {
            let (s, e) = match in_text {
                Some(at) => (at, at + field.len()),
                None => {
                    let s = rec.text.len();
                    decoder
                        .control(field, &mut rec.text)
                        .map_err(|kind| err(kind(tag.tag()), field_offset).spanning(field.len()))?;
                    (s, rec.text.len())
                }
            };
            rec.add_control_span(tag.tag(), s, e);
        } else {
            // MARC-8 decoding drops control codes: a stray field terminator inside a
            // subfield is not text, so such a field is decoded.
            let marc8 = !utf8 && !decoder.raw;
            let in_text = match in_text {
                Some(_) if marc8 && memchr::memchr(FIELD_TERMINATOR, field).is_some() => None,
                other => other,
            };
            if marc8 && opts.detect_utf8_under_marc8 && in_text.is_none() && !field.is_ascii() {
                note_utf8_under_marc8(tag.tag(), field, &mut rec.diagnostics);
            }
            let text = FieldText {
                decoder: &decoder,
                in_text,
            };
            parse_data_field(
                tag,
                area,
                field_start..field_end,
                field_offset,
                opts,
                &text,
                rec,
            )?;
        }
    }
    if whole && canonical && K::EVERY && fields_lie_as_read(rec, text_base, data.len()) {
        rec.data_area = u32::try_from(text_base + data.len())
            .ok()
            .map(|end| (0, end));
    }
    Ok(())
}

/// `bytes` as text when every byte is ASCII: a field's worth, checked a word at a time
/// without a call (short fields are where a general UTF-8 check costs the most per byte).
#[inline(always)]
fn ascii_str(bytes: &[u8]) -> Option<&str> {
    let words = bytes.chunks_exact(8);
    let tail_high = words.remainder().iter().fold(0, |acc, &b| acc | b) & 0x80;
    let high = words
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap_or_default()))
        .fold(0, |acc, w| acc | w)
        & 0x8080_8080_8080_8080;
    // SAFETY: every byte is below 0x80, and ASCII is UTF-8.
    (high == 0 && tail_high == 0).then(|| unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// Whether the fields are the record's data area as it lies in the text from `text_base`:
/// each one verbatim there, starting right after the previous one's terminator, the last
/// followed by the record terminator. The writer would then produce exactly those bytes.
fn fields_lie_as_read(rec: &Record, text_base: usize, data_len: usize) -> bool {
    let text = rec.text.as_bytes();
    let mut next = text_base;
    for e in &rec.fields {
        let (start, end) = if e.control {
            (e.start, e.end)
        } else if e.raw != (0, 0) {
            e.raw
        } else {
            return false;
        };
        if start as usize != next || text.get(end as usize) != Some(&FIELD_TERMINATOR) {
            return false;
        }
        next = end as usize + 1;
    }
    next + 1 == text_base + data_len && text.get(next) == Some(&RECORD_TERMINATOR)
}

/// The range `bytes[start:end]` takes in Python, for a sequence of `len` bytes: a negative
/// end counts from the end, ends are clamped to the sequence, and a range that ends before
/// it starts is empty.
fn python_slice(start: i64, end: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let index = |x: i64| if x < 0 { (x + len).max(0) } else { x.min(len) };
    let (s, e) = (index(start), index(end));
    (s as usize, e.max(s) as usize)
}

/// A directory entry's field length (bytes 3-6) and start (7-11) when all nine are digits,
/// eight of them checked and converted at once as one 64-bit word rather than a digit at
/// a time, since this runs for every field of every record.
#[inline(always)]
fn entry_numbers(entry: &[u8]) -> Option<(usize, usize)> {
    let (x, last) = entry_digits(entry)?;
    // Digit values, the first (most significant) in the lowest byte; then pairs of digits
    // in 16-bit lanes, then groups of four in 32-bit lanes.
    let d = x - DIGIT_ZEROS;
    let pairs = (d * 10 + (d >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    let len = (quads & 0xffff) as usize;
    let start = (quads >> 32) as usize * 10 + last as usize;
    Some((len, start))
}

const DIGIT_ZEROS: u64 = 0x3030_3030_3030_3030;

/// Bytes 3-10 of a directory entry as one little-endian word and the value of byte 11, when
/// all nine are digits.
#[inline(always)]
fn entry_digits(entry: &[u8]) -> Option<(u64, u8)> {
    let word: [u8; 8] = entry.get(3..11)?.try_into().ok()?;
    let x = u64::from_le_bytes(word);
    let last = entry.get(11)?.wrapping_sub(b'0');
    // A byte's high bit is set by the first term when it is above '9', by the second
    // when it is below '0' (or not ASCII, by one or the other). A carry or borrow crosses
    // into the next byte only from a byte that is already flagged.
    let not_digits = (x.wrapping_add(0x4646_4646_4646_4646) | x.wrapping_sub(DIGIT_ZEROS))
        & 0x8080_8080_8080_8080;
    (not_digits == 0 && last < 10).then_some((x, last))
}

/// A leader or directory number. pymarc reads these with `int()`, which allows
/// surrounding blanks; strict parsing wants digits only. A number read leniently from
/// anything but digits clears `canonical`.
#[inline(always)]
fn number(b: &[u8], strict: bool, canonical: &mut bool) -> Option<i64> {
    // All digits is the rule; the lengths are constant at every call, so this unrolls.
    let mut n = 0usize;
    let mut digits = !b.is_empty();
    for &c in b {
        let d = c.wrapping_sub(b'0');
        digits &= d < 10;
        n = n.wrapping_mul(10).wrapping_add(d as usize);
    }
    if digits {
        Some(n as i64)
    } else if strict {
        None
    } else {
        *canonical = false;
        // int() of the directory decoded to str; a negative number counts from the end, as
        // in pymarc's slice.
        python_int(b)
    }
}

#[cold]
fn indicators_error(tag: Tag, offset: usize) -> Error {
    err(
        ErrorKind::IndicatorsInvalid {
            tag: tag.to_string(),
        },
        offset,
    )
}

#[cold]
fn subfield_code_error(tag: Tag, offset: usize) -> Error {
    err(
        ErrorKind::BadSubfieldCode {
            tag: tag.to_string(),
        },
        offset,
    )
}

/// A directory entry's tag as one 32-bit word (its fourth byte cleared), made into a
/// [`Tag`] only where one is stored or reported. Held as `[u8; 3]` across the directory
/// loop, the tag was spilled to the stack a byte at a time and reloaded as a word, a load
/// the CPU cannot forward from those stores: it waited for every older store to reach the
/// cache, and in the pipeline, whose records' cache lines another core read last, that
/// wait was a fifth of `parse_record`'s time.
#[derive(Clone, Copy)]
struct TagWord(u32);

impl TagWord {
    #[inline(always)]
    fn of_entry(entry: &[u8]) -> TagWord {
        TagWord(u32::from_le_bytes([entry[0], entry[1], entry[2], 0]))
    }

    #[inline(always)]
    fn tag(self) -> Tag {
        let [a, b, c, _] = self.0.to_le_bytes();
        Tag::from_array_unchecked([a, b, c])
    }
}

/// How a data field's subfield values become record text.
struct FieldText<'a> {
    decoder: &'a TextDecoder<'a>,
    /// The field's first byte is at this position of the record's text (shared copy).
    in_text: Option<usize>,
}

/// The data field `data[span]` (`data`: the record's data area, which the delimiter search
/// may read around the field); `offset`: its start in the record, for errors. Inlined into
/// the directory loop (its one caller), which saves a call per field.
#[inline(always)]
fn parse_data_field(
    tag: TagWord,
    data: &[u8],
    span: std::ops::Range<usize>,
    offset: usize,
    opts: &ParseOptions,
    text: &FieldText,
    rec: &mut Record,
) -> Result<()> {
    let mut delimiters = Positions::within(data, span.start, span.end, SUBFIELD_DELIMITER);
    let field = &data[span];
    let mut at = delimiters.next().unwrap_or(field.len());
    let indicators = match (&field[..at], opts.strict) {
        ([a, b], _) if a.is_ascii() && b.is_ascii() => [*a as char, *b as char],
        (ind, true) => return Err(indicators_error(tag.tag(), offset).spanning(ind.len())),
        (ind, false) if !ind.is_ascii() => {
            return Err(indicators_error(tag.tag(), offset).spanning(ind.len()))
        }
        ([], false) => {
            rec.diagnostics
                .push(Diagnostic::MissingIndicators(field.to_vec()));
            [' ', ' ']
        }
        ([a], false) => {
            rec.diagnostics
                .push(Diagnostic::OneIndicator(field.to_vec()));
            [*a as char, ' ']
        }
        ([a, b, ..], false) => {
            rec.diagnostics
                .push(Diagnostic::ExtraIndicators(field.to_vec()));
            [*a as char, *b as char]
        }
    };
    let first_subfield = rec.subfields.len();
    // Whether the field's bytes are exactly what the writer would produce for it: shared
    // text, two indicator bytes, and every subfield a delimiter, one code byte, its value.
    let mut verbatim = text.in_text.is_some() && at == 2;
    // `at` is the position of the delimiter before each part.
    while at < field.len() {
        let next = delimiters.next().unwrap_or(field.len());
        let part_start = at + 1;
        let part = &field[part_start..next];
        at = next;
        let (code, skip) = match part.first() {
            Some(&c) if c.is_ascii_graphic() || (!opts.strict && c.is_ascii()) => (c as char, 1),
            None if !opts.strict => {
                verbatim = false;
                continue;
            }
            Some(_) if !opts.strict => {
                verbatim = false;
                rec.diagnostics
                    .push(Diagnostic::BadSubfieldCode(part.to_vec()));
                normalize_subfield_code(part)
                    .ok_or_else(|| subfield_code_error(tag.tag(), offset + part_start))?
            }
            _ => return Err(subfield_code_error(tag.tag(), offset + part_start)),
        };
        let (s, e) = match text.in_text {
            Some(field_at) => (field_at + part_start + skip, field_at + next),
            None => {
                let s = rec.text.len();
                text.decoder
                    .subfield(&part[skip..], &mut rec.text, &mut rec.diagnostics)
                    .map_err(|kind| {
                        err(kind(tag.tag()), offset + part_start + skip).spanning(part.len() - skip)
                    })?;
                (s, rec.text.len())
            }
        };
        rec.add_subfield_span(code, s, e);
    }
    let raw = match text.in_text {
        Some(field_at) if verbatim => Some((field_at, field_at + field.len())),
        _ => None,
    };
    rec.add_data_field(tag.tag(), indicators, first_subfield, raw);
    Ok(())
}

/// pymarc's fallback for a non-ASCII subfield code: decode the subfield (UTF-8, else
/// Latin-1), decompose (NFKD), and take the first ASCII character; the code occupies the
/// bytes of the first decoded character.
fn normalize_subfield_code(part: &[u8]) -> Option<(char, usize)> {
    use unicode_normalization::UnicodeNormalization;
    let (text, skip): (std::borrow::Cow<str>, usize) = match std::str::from_utf8(part) {
        Ok(s) => (s.into(), s.chars().next()?.len_utf8()),
        Err(_) => (
            part.iter().map(|&b| b as char).collect::<String>().into(),
            1,
        ),
    };
    let code = text.nfkd().find(char::is_ascii)?;
    Some((code, skip))
}

type KindFor = fn(Tag) -> ErrorKind;

/// Turns field bytes into text according to the record's encoding.
struct TextDecoder<'a> {
    utf8: bool,
    /// The record's whole data area, when it is valid UTF-8.
    data_str: Option<&'a str>,
    raw: bool,
    utf8_errors: Utf8Errors,
}

impl TextDecoder<'_> {
    fn latin1(bytes: &[u8], out: &mut String) {
        if bytes.is_ascii() {
            // ASCII is valid UTF-8.
            out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        } else {
            out.extend(bytes.iter().map(|&b| b as char));
        }
    }

    fn utf8(&self, bytes: &[u8], out: &mut String) -> Result<(), KindFor> {
        if let Some(data) = self.data_str {
            // `bytes` is a sub-slice of the data area: find it there and slice the checked
            // str (`get` refuses a range that splits a character).
            // A field lenient parsing found before the data area lies outside it.
            let start = (bytes.as_ptr() as usize).checked_sub(data.as_ptr() as usize);
            if let Some(s) = start.and_then(|start| data.get(start..start + bytes.len())) {
                out.push_str(s);
                return Ok(());
            }
        }
        match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => out.push_str(s),
            Err(_) => match self.utf8_errors {
                Utf8Errors::Strict => {
                    return Err(|t| ErrorKind::InvalidUtf8 { tag: t.to_string() })
                }
                Utf8Errors::Replace | Utf8Errors::Ignore => {
                    for chunk in bytes.utf8_chunks() {
                        out.push_str(chunk.valid());
                        if !chunk.invalid().is_empty() && self.utf8_errors == Utf8Errors::Replace {
                            out.push('\u{FFFD}');
                        }
                    }
                }
            },
        }
        Ok(())
    }

    /// Control fields: UTF-8 records as UTF-8; MARC-8 records byte for byte (as pymarc does).
    fn control(&self, bytes: &[u8], out: &mut String) -> Result<(), KindFor> {
        if self.utf8 && !self.raw {
            self.utf8(bytes, out)
        } else {
            Self::latin1(bytes, out);
            Ok(())
        }
    }

    fn subfield(
        &self,
        bytes: &[u8],
        out: &mut String,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<(), KindFor> {
        if self.raw {
            Self::latin1(bytes, out);
            Ok(())
        } else if self.utf8 {
            self.utf8(bytes, out)
        } else {
            let mut warnings = Vec::new();
            let decoded = marc8::decode_marc8_into(bytes, out, &mut warnings);
            diagnostics.extend(warnings.into_iter().map(Diagnostic::Marc8Unmapped));
            decoded
                .map_err(|_| (|t: Tag| ErrorKind::InvalidMarc8 { tag: t.to_string() }) as KindFor)
        }
    }
}

/// A MARC-8 subfield that is valid UTF-8 was most likely written as UTF-8 under a wrong
/// leader/09: noted once per record. Called per field with non-ASCII bytes, out of the
/// per-subfield decoding path, which stays small enough to inline.
#[inline(never)]
fn note_utf8_under_marc8(tag: Tag, field: &[u8], diagnostics: &mut Vec<Diagnostic>) {
    if diagnostics
        .iter()
        .any(|d| matches!(d, Diagnostic::Utf8UnderMarc8(_)))
    {
        return;
    }
    // Each subfield after the indicators: a delimiter, a code byte, the value. Delimiters
    // are found with memchr, and only values that are not ASCII are validated.
    let Some(first) = memchr::memchr(SUBFIELD_DELIMITER, field) else {
        return;
    };
    let mut rest = &field[first..];
    while !rest.is_empty() {
        let end = memchr::memchr(SUBFIELD_DELIMITER, &rest[1..]).map_or(rest.len(), |i| i + 1);
        let value = rest.get(2..end).unwrap_or_default();
        if !value.is_ascii() && crate::check::non_ascii_looks_like_utf8(value) {
            diagnostics.push(Diagnostic::Utf8UnderMarc8(tag));
            return;
        }
        rest = &rest[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn digit_by_digit(entry: &[u8]) -> Option<(usize, usize)> {
        let mut canonical = true;
        Some((
            number(&entry[3..7], true, &mut canonical)? as usize,
            number(&entry[7..12], true, &mut canonical)? as usize,
        ))
    }

    #[test]
    fn utf8_under_marc8_is_noted_for_any_subfield_value_once() {
        let tag = Tag::new("245").unwrap();
        let noted = |field: &[u8], before: Vec<Diagnostic>| {
            let mut diagnostics = before;
            note_utf8_under_marc8(tag, field, &mut diagnostics);
            diagnostics
                .iter()
                .filter(|d| matches!(d, Diagnostic::Utf8UnderMarc8(_)))
                .count()
        };
        // UTF-8 in the second value, after an ASCII one; in the last value; alone.
        assert_eq!(noted(b"10\x1faPlain\x1fbCaf\xc3\xa9", vec![]), 1);
        assert_eq!(noted(b"10\x1fa\xc3\xa9t\xc3\xa9\x1fbx", vec![]), 1);
        // MARC-8: a diacritic before its letter is not UTF-8; nor is text with an escape.
        assert_eq!(noted(b"10\x1faCaf\xe2e\x1fb\xe2a", vec![]), 0);
        assert_eq!(noted(b"10\x1fa\x1b(B\xc3\xa9", vec![]), 0);
        // ASCII, empty values and a missing code are not.
        assert_eq!(noted(b"10\x1faPlain\x1f\x1f", vec![]), 0);
        // The UTF-8 bytes in the indicators are not a value.
        assert_eq!(noted(b"\xc3\xa9\x1faPlain", vec![]), 0);
        // Once per record.
        let once = vec![Diagnostic::Utf8UnderMarc8(tag)];
        assert_eq!(noted(b"10\x1faCaf\xc3\xa9", once), 1);
    }

    #[test]
    fn entry_numbers_reads_length_and_start() {
        assert_eq!(entry_numbers(b"245003400123"), Some((34, 123)));
        assert_eq!(entry_numbers(b"001999999999"), Some((9999, 99999)));
        assert_eq!(entry_numbers(b"001000000000"), Some((0, 0)));
        for bad in [
            b"2450034 0123",
            b"24500340012a",
            b"245/03400123",
            b"245003:00123",
        ] {
            assert_eq!(entry_numbers(bad), None, "{:?}", bad);
        }
        assert_eq!(entry_numbers(b"24500340012"), None, "short entry");
    }

    proptest! {
        #[test]
        fn entry_numbers_agrees_with_a_digit_at_a_time(
            entry in proptest::collection::vec(
                prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>()], 12),
        ) {
            prop_assert_eq!(entry_numbers(&entry), digit_by_digit(&entry));
        }
    }
}
