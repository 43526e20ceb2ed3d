//! ISO 2709 serialisation: computes the directory, base address and record length.

use super::frame::{FIELD_TERMINATOR, RECORD_TERMINATOR, SUBFIELD_DELIMITER};
use crate::error::{Error, ErrorKind, Result};
use crate::leader::{Leader, LEADER_LEN};
use crate::record::{Record, TextEncoding};
use crate::sink::Sink;
use std::io::Write;

/// Largest record ISO 2709 can describe (five-digit record length).
pub const MAX_RECORD_LEN: usize = 99_999;
/// Largest field (four-digit field length in a directory entry).
pub const MAX_FIELD_LEN: usize = 9_999;

fn push_text(out: &mut Vec<u8>, s: &str, encoding: TextEncoding) -> Result<()> {
    match encoding {
        TextEncoding::Unicode => out.extend_from_slice(s.as_bytes()),
        TextEncoding::Raw => {
            if s.is_ascii() {
                out.extend_from_slice(s.as_bytes());
            } else {
                for c in s.chars() {
                    let b = u8::try_from(u32::from(c)).map_err(|_| {
                        Error::new(ErrorKind::InvalidValue(format!(
                            "character {c:?} cannot be written to a raw (byte) record"
                        )))
                    })?;
                    out.push(b);
                }
            }
        }
    }
    Ok(())
}

fn push_char(out: &mut Vec<u8>, c: char, encoding: TextEncoding) -> Result<()> {
    let mut b = [0u8; 4];
    push_text(out, c.encode_utf8(&mut b), encoding)
}

/// Append `rec` in ISO 2709 to `out`. Unicode records are written as UTF-8 with leader/09
/// set to `a`; raw records byte for byte with the leader as it is. On error nothing is
/// appended.
pub fn write_record_to_vec(rec: &Record, out: &mut Vec<u8>) -> Result<()> {
    undo_on_error(out, |out| write_inner(rec, out, None))
}

/// Append `rec` in ISO 2709 to `out` under the caller's `leader`: every position but the
/// record length (0-4) and base address (12-16) is written as the caller has it, leader/09
/// included (pymarc writes the leader its record holds). On error nothing is appended.
pub fn write_record_with_leader(rec: &Record, leader: &Leader, out: &mut Vec<u8>) -> Result<()> {
    undo_on_error(out, |out| write_inner(rec, out, Some(leader)))
}

fn undo_on_error(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    let begin = out.len();
    let r = write(out);
    if r.is_err() {
        out.truncate(begin);
    }
    r
}

fn write_inner(rec: &Record, out: &mut Vec<u8>, caller_leader: Option<&Leader>) -> Result<()> {
    let encoding = rec.encoding();
    let begin = out.len();
    let dir_len = rec.len() * 12 + 1;
    let base = LEADER_LEN + dir_len;
    if base > MAX_RECORD_LEN {
        return Err(Error::new(ErrorKind::TooLongToWrite {
            what: "record",
            length: base,
        }));
    }
    // One allocation for the whole record, not a doubling per few fields.
    out.reserve(rec.marc_size_hint());
    if let Some((a, b)) = rec.data_area {
        // Directory and data area as read: the leader and one copy. The text is their
        // bytes exactly (ASCII directory, data shared without decoding), so either
        // encoding writes it unchanged.
        out.resize(begin + LEADER_LEN, b' ');
        out.extend_from_slice(&rec.text.as_bytes()[a as usize..b as usize]);
    } else {
        // Leader and directory are fixed-size: reserve their place, write the data after
        // them, then fill them in.
        out.resize(begin + base, b' ');
        write_fields(rec, out, begin, begin + base)?;
        out[begin + base - 1] = FIELD_TERMINATOR;
        out.push(RECORD_TERMINATOR);
    }
    let total = out.len() - begin;
    if total > MAX_RECORD_LEN {
        return Err(Error::new(ErrorKind::TooLongToWrite {
            what: "record",
            length: total,
        }));
    }
    let mut leader = *caller_leader.unwrap_or(rec.leader());
    leader.set_record_length(total);
    leader.set_base_address(base);
    if encoding == TextEncoding::Unicode && caller_leader.is_none() {
        leader.set_character_coding_scheme(b'a');
    }
    out[begin..begin + LEADER_LEN].copy_from_slice(leader.as_bytes());
    Ok(())
}

/// Fields already in their ISO 2709 form (data, or indicators and subfields, each with its
/// field terminator), in order, with the tag each is listed under: what a caller that
/// serialises fields itself (pymarc's `Field.as_marc` overrides, undecoded bytes) hands to
/// [`write_field_bodies`].
#[derive(Default, Debug)]
pub struct FieldBodies {
    bytes: Vec<u8>,
    /// Each field's directory tag and where its body ends in `bytes`.
    ends: Vec<(String, usize)>,
}

impl FieldBodies {
    /// No fields yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one field's body, listed under `tag`.
    pub fn push(&mut self, tag: &str, body: &[u8]) {
        self.bytes.extend_from_slice(body);
        self.ends.push((tag.to_string(), self.bytes.len()));
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// No fields at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// pymarc's directory tag: an all-digit tag as a zero-padded number, any other right-aligned
/// in three characters (longer tags are written whole, as pymarc writes them).
fn directory_tag(tag: &str) -> String {
    if !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_digit()) {
        match tag.parse::<u64>() {
            Ok(n) => format!("{n:03}"),
            Err(_) => tag.to_string(),
        }
    } else {
        format!("{tag:>3}")
    }
}

/// Append a record made of `fields` to `out`, as pymarc's `Record.as_marc` lays it out:
/// the directory from each body's length and offset, then `leader` with its record length
/// (0-4) and base address (12-16) replaced and everything else (characters 5-11 and from 17
/// on, however long) kept. Leader and directory text is written in `encoding`. Fields over
/// 9,999 bytes and records over 99,999 are refused, and on error nothing is appended.
pub fn write_field_bodies(
    leader: &str,
    fields: &FieldBodies,
    encoding: TextEncoding,
    out: &mut Vec<u8>,
) -> Result<()> {
    undo_on_error(out, |out| {
        let mut directory = Vec::with_capacity(fields.len() * 12 + 1);
        let mut start = 0;
        for (tag, end) in &fields.ends {
            let len = end - start;
            if len > MAX_FIELD_LEN {
                return Err(Error::new(ErrorKind::TooLongToWrite {
                    what: "field",
                    length: len,
                }));
            }
            push_text(&mut directory, &directory_tag(tag), encoding)?;
            directory.extend_from_slice(&four_digits(len));
            directory.extend_from_slice(&five_digits(start));
            start = *end;
        }
        directory.push(FIELD_TERMINATOR);
        let base = LEADER_LEN + directory.len();
        let total = base + fields.bytes.len() + 1;
        if total > MAX_RECORD_LEN {
            return Err(Error::new(ErrorKind::TooLongToWrite {
                what: "record",
                length: total,
            }));
        }
        let chars = |from: usize, to: usize| -> String {
            leader
                .chars()
                .skip(from)
                .take(to.saturating_sub(from))
                .collect()
        };
        let head = format!(
            "{total:05}{}{base:05}{}",
            chars(5, 12),
            chars(17, usize::MAX)
        );
        push_text(out, &head, encoding)?;
        out.extend_from_slice(&directory);
        out.extend_from_slice(&fields.bytes);
        out.push(RECORD_TERMINATOR);
        Ok(())
    })
}

/// The general path: each field's text, its length checked, and its directory entry.
fn write_fields(rec: &Record, out: &mut Vec<u8>, begin: usize, data_start: usize) -> Result<()> {
    let encoding = rec.encoding();
    for (i, f) in rec.fields().enumerate() {
        let field_start = out.len();
        if let Some(d) = f.data() {
            push_text(out, d, encoding)?;
        } else if let Some(verbatim) = f.verbatim() {
            // Parsed text that needed no decoding: the field as it was read, in one copy.
            push_text(out, verbatim, encoding)?;
        } else {
            for ind in f.indicators() {
                push_char(out, ind, encoding)?;
            }
            for s in f.subfields() {
                out.push(SUBFIELD_DELIMITER);
                push_char(out, s.code, encoding)?;
                push_text(out, s.value, encoding)?;
            }
        }
        out.push(FIELD_TERMINATOR);
        let len = out.len() - field_start;
        if len > MAX_FIELD_LEN {
            return Err(Error::new(ErrorKind::TooLongToWrite {
                what: "field",
                length: len,
            }));
        }
        let offset = field_start - data_start;
        if offset > MAX_RECORD_LEN {
            return Err(Error::new(ErrorKind::TooLongToWrite {
                what: "record",
                length: out.len() - begin,
            }));
        }
        let entry = begin + LEADER_LEN + i * 12;
        out[entry..entry + 3].copy_from_slice(f.tag().as_bytes());
        out[entry + 3..entry + 7].copy_from_slice(&four_digits(len));
        out[entry + 7..entry + 12].copy_from_slice(&five_digits(offset));
    }
    Ok(())
}

/// "00" to "99": directory numbers are written two digits per division, as a record has two
/// dozen entries of nine digits each, and a division per digit would dominate the
/// writer's own work.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// `n` (at most 9,999: the caller has checked) as four digits.
#[inline(always)]
fn four_digits(n: usize) -> [u8; 4] {
    let n = n as u32 % 10_000;
    let [a, b] = DIGIT_PAIRS[(n / 100) as usize];
    let [c, d] = DIGIT_PAIRS[(n % 100) as usize];
    [a, b, c, d]
}

/// `n` (at most 99,999: the caller has checked) as five digits.
#[inline(always)]
fn five_digits(n: usize) -> [u8; 5] {
    let n = n as u32 % 100_000;
    let [a, b, c, d] = four_digits((n % 10_000) as usize);
    [b'0' + (n / 10_000) as u8, a, b, c, d]
}

/// The record in ISO 2709.
pub fn record_to_bytes(rec: &Record) -> Result<Vec<u8>> {
    let mut v = Vec::with_capacity(rec.text_len() + 64 + rec.len() * 16);
    write_record_to_vec(rec, &mut v)?;
    Ok(v)
}

/// Writes records to any `io::Write`, one `write` call per record.
///
/// ```
/// use fastmarc::iso2709::{SliceReader, Writer};
/// use fastmarc::{Field, Record, Subfield, Tag};
///
/// let mut rec = Record::new();
/// rec.push(&Field::control(Tag::new("001")?, "ocm0001"));
/// rec.push(&Field::data(Tag::new("245")?, '1', '0', vec![Subfield::new('a', "Walden")]));
///
/// // A `Vec` here; a `BufWriter<File>` for a file.
/// let mut writer = Writer::new(Vec::new());
/// writer.write_record(&rec)?;
/// let bytes = writer.into_inner();
///
/// let back = SliceReader::new(&bytes).next().unwrap()?;
/// assert_eq!(back.get("001").and_then(|f| f.data()), Some("ocm0001"));
/// assert_eq!(back.title().as_deref(), Some("Walden"));
/// # Ok::<(), fastmarc::Error>(())
/// ```
pub struct Writer<W: Write> {
    sink: Sink<W, Vec<u8>>,
}

impl<W: Write> Writer<W> {
    /// A writer into `inner` (wrap a file in a `BufWriter`: one write per record).
    pub fn new(inner: W) -> Self {
        Writer {
            sink: Sink::new(inner),
        }
    }

    /// Serialise and write one record. A record that cannot be written is an error and
    /// nothing of it reaches the output.
    pub fn write_record(&mut self, rec: &Record) -> Result<()> {
        self.sink.write_with(|buf| write_record_to_vec(rec, buf))
    }

    /// Write one record already serialised by [`write_record_to_vec`] or
    /// [`record_to_bytes`] (on another thread, say).
    pub fn write_serialised(&mut self, record: &[u8]) -> Result<()> {
        self.sink.write_parts(&[record])
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    /// The underlying writer back (not flushed).
    pub fn into_inner(self) -> W {
        self.sink.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::{five_digits, four_digits, record_to_bytes};
    use crate::iso2709::{parse_record, ParseOptions};
    use crate::{Field, Record, Subfield, Tag};

    fn sample() -> Vec<u8> {
        let mut r = Record::new();
        r.push(&Field::control(Tag::new("001").unwrap(), "id 1"));
        let sub = |c, v: &str| Subfield::new(c, v.to_string());
        let t245 = Tag::new("245").unwrap();
        r.push(&Field::data(
            t245,
            '1',
            '0',
            vec![sub('a', "Tïtle"), sub('c', "by")],
        ));
        r.push(&Field::data(Tag::new("500").unwrap(), ' ', ' ', vec![]));
        record_to_bytes(&r).unwrap()
    }

    fn parse(bytes: &[u8], strict: bool) -> Record {
        let opts = ParseOptions {
            strict,
            ..ParseOptions::default()
        };
        let mut rec = Record::new();
        parse_record(bytes, &opts, &mut rec).unwrap();
        rec
    }

    #[test]
    fn a_record_read_from_canonical_bytes_is_written_as_read() {
        let bytes = sample();
        for strict in [true, false] {
            let rec = parse(&bytes, strict);
            assert_eq!(rec.text.as_bytes(), &bytes[24..]);
            let text_len = u32::try_from(rec.text.len()).unwrap();
            assert_eq!(rec.data_area, Some((0, text_len)));
            assert_eq!(record_to_bytes(&rec).unwrap(), bytes);
        }
    }

    #[test]
    fn edits_and_odd_directories_are_written_field_by_field() {
        let bytes = sample();
        let mut rec = parse(&bytes, true);
        rec.remove(2);
        assert_eq!(rec.data_area, None);
        // Directory out of order: 245 listed before 001.
        let mut swapped = bytes.clone();
        let (a, b) = swapped[24..48].split_at_mut(12);
        a.swap_with_slice(b);
        let rec = parse(&swapped, true);
        assert_eq!(rec.data_area, None);
        let mut edited = rec.clone();
        edited.compact();
        assert_eq!(rec.field(0).unwrap().tag().as_str(), "245");
        assert_eq!(
            record_to_bytes(&rec).unwrap(),
            record_to_bytes(&edited).unwrap()
        );
        // A blank where a leading zero was: read leniently, written zero-padded.
        let mut padded = bytes.clone();
        padded[24 + 3] = b' ';
        let rec = parse(&padded, false);
        assert_eq!(rec.data_area, None);
        assert_eq!(record_to_bytes(&rec).unwrap(), bytes);
    }

    #[test]
    fn a_callers_leader_is_written_but_for_length_and_base_address() {
        let bytes = sample();
        let rec = parse(&bytes, false);
        let mut leader = *rec.leader();
        leader.set(5, b'c');
        leader.set(9, b' ');
        leader.set(17, b'7');
        let mut out = Vec::new();
        super::write_record_with_leader(&rec, &leader, &mut out).unwrap();
        assert_eq!(&out[..5], &bytes[..5]);
        assert_eq!(&out[12..17], &bytes[12..17]);
        assert_eq!((out[5], out[9], out[17]), (b'c', b' ', b'7'));
        assert_eq!(&out[24..], &bytes[24..]);
    }

    #[test]
    fn field_bodies_are_laid_out_as_pymarc_does() {
        use super::{write_field_bodies, FieldBodies};
        use crate::record::TextEncoding;
        let bytes = sample();
        let rec = parse(&bytes, true);
        // The same fields as bodies give the same record.
        let mut bodies = FieldBodies::new();
        let data = &bytes[rec.leader().base_address().unwrap()..bytes.len() - 1];
        let mut start = 0;
        for f in rec.fields() {
            let end = start + data[start..].iter().position(|&b| b == 0x1e).unwrap() + 1;
            bodies.push(f.tag().as_str(), &data[start..end]);
            start = end;
        }
        let mut out = Vec::new();
        write_field_bodies(
            rec.leader().as_str(),
            &bodies,
            TextEncoding::Unicode,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, bytes);
        // pymarc's directory tags and leader slices: numbers zero-padded, others
        // right-aligned, a short leader's missing characters left out.
        let mut odd = FieldBodies::new();
        odd.push("1", b"x\x1e");
        odd.push("ab", b"y\x1e");
        out.clear();
        write_field_bodies("0123456789", &odd, TextEncoding::Raw, &mut out).unwrap();
        assert_eq!(
            out,
            b"000545678900049001000200000 ab000200002\x1ex\x1ey\x1e\x1d"
        );
        // Too long: nothing written.
        let mut long = FieldBodies::new();
        long.push("245", &vec![b'x'; super::MAX_FIELD_LEN + 1]);
        out.clear();
        assert!(write_field_bodies(
            rec.leader().as_str(),
            &long,
            TextEncoding::Unicode,
            &mut out
        )
        .is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn directory_numbers_match_zero_padded_decimal() {
        for n in 0..=9_999 {
            assert_eq!(four_digits(n), *format!("{n:04}").as_bytes(), "{n}");
        }
        for n in 0..=99_999 {
            assert_eq!(five_digits(n), *format!("{n:05}").as_bytes(), "{n}");
        }
    }
}
