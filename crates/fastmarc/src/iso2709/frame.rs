//! Finding where records start and end in a byte stream.
//!
//! A record announces its length in its first five bytes and must end with the record
//! terminator 0x1D at exactly that length. Framing checks both; when a stream is broken,
//! recovery searches (memchr) for the next terminator.

use crate::error::{Error, ErrorKind};
use crate::leader::{parse_digits, python_int, LEADER_LEN};
use std::ops::Range;

/// Ends every record.
pub const RECORD_TERMINATOR: u8 = 0x1D;
/// Ends the directory and every field.
pub const FIELD_TERMINATOR: u8 = 0x1E;
/// Starts every subfield (before its code).
pub const SUBFIELD_DELIMITER: u8 = 0x1F;

/// Smallest record length that can hold a leader and a record terminator.
const MIN_RECORD_LEN: usize = 25;
/// Largest record length five digits can announce.
pub(crate) const MAX_RECORD_LEN: usize = 99_999;

/// What lies at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A whole record of this many bytes.
    Record(usize),
    /// The buffer ends inside a record; more bytes are needed (`at_eof` was false).
    NeedMore,
    /// Nothing left (empty buffer at end of input).
    End,
    /// The framing is broken here.
    Broken(ErrorKind),
}

/// The bytes a reader shows for a record whose framing is broken at `buf[at..]`: as many as
/// its first five bytes claim, and at least those five, within `buf` (pymarc's
/// `current_chunk` for such a record).
pub fn broken_span(buf: &[u8], at: usize) -> Range<usize> {
    let rest = buf.get(at..).unwrap_or_default();
    let claimed = std::str::from_utf8(&rest[..rest.len().min(5)])
        .ok()
        .and_then(|s| s.parse::<usize>().ok());
    let at = at.min(buf.len());
    at..at + claimed.unwrap_or(5).max(5).min(rest.len())
}

/// Frame the record at the start of `buf`. `at_eof` says no more bytes will follow.
pub fn frame_record(buf: &[u8], at_eof: bool) -> Frame {
    frame_record_with(buf, at_eof, false)
}

/// [`frame_record`]; with `python_length`, the record length is read as pymarc reads it,
/// with Python's `int()` (white space around the digits, underscores between them).
pub fn frame_record_with(buf: &[u8], at_eof: bool, python_length: bool) -> Frame {
    if buf.len() < 5 {
        return match (buf.is_empty(), at_eof) {
            (true, true) => Frame::End,
            (false, true) => Frame::Broken(ErrorKind::TruncatedRecord {
                expected: 5,
                found: buf.len(),
            }),
            (_, false) => Frame::NeedMore,
        };
    }
    let len = if python_length {
        python_int(&buf[..5]).map(|n| usize::try_from(n).unwrap_or(0))
    } else {
        parse_digits(&buf[..5])
    };
    let Some(len) = len else {
        return Frame::Broken(ErrorKind::RecordLengthNotDigits);
    };
    if len < MIN_RECORD_LEN {
        return Frame::Broken(ErrorKind::RecordLengthInvalid(len));
    }
    if buf.len() < len {
        return if at_eof {
            Frame::Broken(ErrorKind::TruncatedRecord {
                expected: len,
                found: buf.len(),
            })
        } else {
            Frame::NeedMore
        };
    }
    if buf[len - 1] != RECORD_TERMINATOR {
        return Frame::Broken(ErrorKind::EndOfRecordNotFound);
    }
    Frame::Record(len)
}

/// Where to resume after broken framing at the start of `buf`, or `None` if `buf` holds no
/// record terminator. Resumes at the first record (after the broken byte) whose length
/// ends it exactly at the next terminator, so that stray bytes (a line end, a cut-off
/// record) do not take the good record after them along; otherwise just past that
/// terminator. Only bytes up to the terminator are looked at, so the answer does not
/// depend on how much of the stream is buffered.
pub fn resync_point(buf: &[u8]) -> Option<usize> {
    let end = memchr::memchr(RECORD_TERMINATOR, buf)? + 1;
    Some(resync_start(buf, end))
}

/// [`resync_point`] once the next terminator is known to end at `end`.
pub(crate) fn resync_start(buf: &[u8], end: usize) -> usize {
    let first = end.saturating_sub(MAX_RECORD_LEN).max(1);
    let last = end.saturating_sub(MIN_RECORD_LEN);
    (first..=last)
        .find(|&q| parse_digits(&buf[q..q + 5]) == Some(end - q) && plausible_leader(&buf[q..end]))
        .unwrap_or(end)
}

/// Whether `rec`, whose length already matches, has the shape ISO 2709 gives every record:
/// digits where the leader must have them and a directory of whole entries ending in a
/// field terminator. Digit runs inside damaged data (a directory is mostly digits) can
/// announce the right length by chance; they almost never have this shape too.
fn plausible_leader(rec: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| rec[r].iter().all(u8::is_ascii_digit);
    if !(rec[..LEADER_LEN].is_ascii() && digits(10..12) && digits(20..24)) {
        return false;
    }
    match parse_digits(&rec[12..17]) {
        Some(base) => {
            base > LEADER_LEN
                && base < rec.len()
                && (base - LEADER_LEN - 1).is_multiple_of(12)
                && rec[base - 1] == FIELD_TERMINATOR
        }
        None => false,
    }
}

/// What [`find_record_start`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStart {
    /// A record starts at this index of the buffer.
    At(usize),
    /// The buffer ends before the answer is known: look again with more bytes after it.
    NeedMore,
    /// No record starts at or after `from` (the buffer holds the rest of the input).
    None,
}

/// The first record that starts at index `from` of `buf` or later, for splitting a file
/// into byte ranges that are read independently (a range starts at the first record at or
/// after its first byte and owns every record that starts before its end). A start is a
/// record terminator's next byte where a record lies whose five-digit length ends it at
/// another terminator and whose leader and directory have the shape every record has; a
/// terminator inside damaged data is almost never followed by all of that. The byte before
/// `from` is looked at (a record at `from` follows a terminator there), so `from` must be at
/// least 1: the start of a file is a record start by definition. `at_eof`: no bytes follow
/// `buf`.
pub fn find_record_start(buf: &[u8], from: usize, at_eof: bool) -> RecordStart {
    let from = from.max(1);
    let Some(search) = buf.get(from - 1..) else {
        return if at_eof {
            RecordStart::None
        } else {
            RecordStart::NeedMore
        };
    };
    for i in memchr::memchr_iter(RECORD_TERMINATOR, search) {
        let q = from + i;
        let Some(head) = buf.get(q..q + 5) else {
            break;
        };
        let Some(len) =
            parse_digits(head).filter(|n| (MIN_RECORD_LEN..=MAX_RECORD_LEN).contains(n))
        else {
            continue;
        };
        match buf.get(q..q + len) {
            Some(rec) if rec[len - 1] == RECORD_TERMINATOR && plausible_leader(rec) => {
                return RecordStart::At(q)
            }
            Some(_) => {}
            // A record might end beyond the buffer: only more bytes can tell.
            None if !at_eof => return RecordStart::NeedMore,
            None => {}
        }
    }
    if at_eof {
        RecordStart::None
    } else {
        RecordStart::NeedMore
    }
}

/// The records found in a buffer by [`scan_record_boundaries`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boundaries {
    /// Byte ranges of well-framed records, in order.
    pub records: Vec<Range<usize>>,
    /// Broken framing found while scanning: the error (offset = where it starts in the buffer)
    /// and the range skipped to resynchronise.
    pub broken: Vec<(Error, Range<usize>)>,
    /// A record that starts here but does not end within the buffer.
    pub partial_tail: Option<usize>,
}

/// Split a buffer into records: each record's length from its leader, checked against the
/// record terminator that must end it. Broken framing is skipped up to the next terminator
/// and reported; a trailing record cut off by the end of the buffer is reported as
/// `partial_tail` rather than lost or misread.
pub fn scan_record_boundaries(buf: &[u8]) -> Boundaries {
    let mut out = Boundaries::default();
    let mut pos = 0;
    while pos < buf.len() {
        match frame_record(&buf[pos..], false) {
            Frame::Record(len) => {
                out.records.push(pos..pos + len);
                pos += len;
            }
            Frame::NeedMore | Frame::End => {
                out.partial_tail = Some(pos);
                break;
            }
            Frame::Broken(kind) => match resync_point(&buf[pos..]) {
                Some(skip) => {
                    let e = Error::at_offset(kind, pos as u64);
                    out.broken.push((e, pos..pos + skip));
                    pos += skip;
                }
                None => {
                    out.partial_tail = Some(pos);
                    break;
                }
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(body: &str) -> Vec<u8> {
        // Only framing matters here: a length, filler, and the terminator.
        let len = 5 + body.len() + 1;
        let mut v = format!("{len:05}{body}").into_bytes();
        v.push(RECORD_TERMINATOR);
        v
    }

    #[test]
    fn frames_whole_records() {
        let r = rec(&"x".repeat(30));
        assert_eq!(frame_record(&r, true), Frame::Record(r.len()));
        assert_eq!(frame_record(&r[..10], false), Frame::NeedMore);
        assert!(matches!(
            frame_record(&r[..10], true),
            Frame::Broken(ErrorKind::TruncatedRecord { .. })
        ));
        assert_eq!(frame_record(b"", true), Frame::End);
        assert_eq!(
            frame_record(b"12a45xxxxxxxxxxxxxxxxxxxxxxxxx", true),
            Frame::Broken(ErrorKind::RecordLengthNotDigits)
        );
        assert_eq!(
            frame_record(b"00010xxxxxxxxxxxxxxxxxxxxxxxxxxx", true),
            Frame::Broken(ErrorKind::RecordLengthInvalid(10))
        );
    }

    #[test]
    fn wrong_terminator_is_broken() {
        let mut r = rec(&"x".repeat(30));
        *r.last_mut().unwrap() = b'x';
        assert_eq!(
            frame_record(&r, true),
            Frame::Broken(ErrorKind::EndOfRecordNotFound)
        );
    }

    /// A file of records of `sizes`, whose directories have the shape a real record's has.
    fn shaped_file(sizes: &[usize]) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        let mut starts = Vec::new();
        for &n in sizes {
            starts.push(out.len());
            // Leader, one directory entry, field terminator, data, record terminator.
            let data_len = n - 24 - 12 - 1 - 1;
            let base = 24 + 12 + 1;
            out.extend_from_slice(format!("{n:05}nam a22{base:05}   4500").as_bytes());
            out.extend_from_slice(format!("245{:04}{:05}", data_len, 0).as_bytes());
            out.push(FIELD_TERMINATOR);
            out.extend(std::iter::repeat_n(b'x', data_len));
            out.push(RECORD_TERMINATOR);
        }
        (out, starts)
    }

    #[test]
    fn record_starts_split_a_file_into_owned_ranges() {
        let (file, starts) = shaped_file(&[60, 200, 45, 120, 300]);
        for from in 1..=file.len() {
            let expected = starts.iter().copied().find(|&s| s >= from);
            let found = match find_record_start(&file, from, true) {
                RecordStart::At(q) => Some(q),
                RecordStart::None => None,
                RecordStart::NeedMore => panic!("at eof"),
            };
            assert_eq!(found, expected, "from {from}");
            // Cut short, the answer is the same or asks for more bytes.
            for cut in [from, from + 3, from + 50] {
                let cut = cut.min(file.len());
                match find_record_start(&file[..cut], from, false) {
                    RecordStart::At(q) => assert_eq!(Some(q), expected),
                    RecordStart::NeedMore => {}
                    RecordStart::None => assert_eq!(expected, None, "from {from} cut {cut}"),
                }
            }
        }
    }

    #[test]
    fn damaged_bytes_are_not_taken_for_a_start() {
        let (good, starts) = shaped_file(&[80, 90]);
        let mut file = good[..starts[1]].to_vec();
        // A terminator followed by digits that announce a length ending at a terminator,
        // but no leader shape after them.
        file.extend_from_slice(b"00030xxxxxxxxxxxxxxxxxxxxxxxx\x1d");
        file.push(RECORD_TERMINATOR);
        let second = file.len();
        file.extend_from_slice(&good[starts[1]..]);
        assert_eq!(find_record_start(&file, 1, true), RecordStart::At(second));
    }

    #[test]
    fn scan_reports_broken_and_partial() {
        let a = rec(&"a".repeat(30));
        let b = rec(&"b".repeat(40));
        let mut buf = a.clone();
        buf.extend_from_slice(b"garbage\x1d");
        buf.extend_from_slice(&b);
        buf.extend_from_slice(&a[..12]);
        let s = scan_record_boundaries(&buf);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0], 0..a.len());
        assert_eq!(&buf[s.records[1].clone()], &b[..]);
        assert_eq!(s.broken.len(), 1);
        assert_eq!(s.broken[0].0.offset(), Some(a.len() as u64));
        assert_eq!(s.partial_tail, Some(buf.len() - 12));
    }
}
