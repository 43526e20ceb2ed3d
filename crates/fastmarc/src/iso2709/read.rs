//! Sequential ISO 2709 readers: from any `io::Read` (buffered, constant memory) and from a
//! byte slice (no copying), with strict, pymarc-like or resynchronising error recovery.

use super::buffer::ReadBuffer;
use super::frame::{frame_record_with, resync_start, Frame, MAX_RECORD_LEN, RECORD_TERMINATOR};
use super::parse::{parse_record, ParseOptions};
use crate::error::{Error, Result};
use crate::record::Record;
use std::io::Read;
use std::ops::Range;

/// What a reader does after a bad record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// Report the error, then end the stream.
    #[default]
    Stop,
    /// Report a bad record and go on with the next one; broken framing (a length that is not
    /// digits, a missing record terminator, a truncated record) ends the stream, since
    /// nothing after it can be trusted. This is what pymarc's reader does.
    SkipRecord,
    /// Report a bad record and go on; after broken framing, resynchronise on the next record
    /// terminator: at the start of the record it ends if one begins after the broken byte,
    /// else just past it. Every good record before and after a bad one is delivered.
    Resync,
}

/// Reader configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReaderOptions {
    /// How each record is parsed.
    pub parse: ParseOptions,
    /// What happens after a bad record.
    pub recovery: Recovery,
}

impl ReaderOptions {
    /// Full validation; the first error ends the stream.
    pub fn strict() -> Self {
        ReaderOptions::default()
    }

    /// Full validation; bad records are reported and skipped, and after broken framing
    /// reading resynchronises on the next record terminator ([`Recovery::Resync`]).
    pub fn resyncing() -> Self {
        ReaderOptions {
            parse: ParseOptions::default(),
            recovery: Recovery::Resync,
        }
    }
}

/// One step of framing a stream.
#[derive(Debug)]
pub enum Step {
    /// A framed record: its bytes are the next `len` bytes; number and stream offset given.
    Record {
        /// The record's length in bytes.
        len: usize,
        /// The record's number in the stream, from 0.
        number: u64,
        /// The stream offset of its first byte.
        offset: u64,
    },
    /// Skip this many bytes (resynchronising).
    Skip(usize),
    /// Broken framing: report it; consume nothing (a `Skip` may follow).
    Broken(Error),
    /// The input so far ends inside a record's length or body: give the framer more bytes.
    NeedMore,
    /// The stream is over.
    End,
}

/// Bytes of the next record to ask the CPU to load while the caller works on this one:
/// most records are shorter. Framing reads a record's last byte before anything else of
/// it, so without the hint each record in memory began with a wait: reading 200,000
/// records (230 MB) from memory took 12-14% longer, parsing them 6-13% longer.
const PREFETCH_BYTES: usize = 2048;

/// Asks the CPU to start loading `bytes` into its caches; a hint, with no effect on what
/// the program computes.
#[inline]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: every x86_64 CPU has SSE, and a prefetch reads nothing the program sees;
        // the address is in `bytes` anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// What [`Framer::next_in`] found.
#[derive(Debug)]
pub enum Framed {
    /// A whole record at `range` of the buffer, with its number and stream offset.
    Record {
        /// Where the record's bytes are in the buffer.
        range: Range<usize>,
        /// The record's 0-based number in the stream.
        number: u64,
        /// The stream offset of its first byte.
        offset: u64,
    },
    /// Broken framing at the position reached, reported once; the next call goes on as the
    /// recovery mode says.
    Broken(Error),
    /// The rest of the buffer is an incomplete record (or bytes being resynchronised over).
    NeedMore,
    /// The stream is over.
    End,
}

/// The framing state machine shared by every reader and the parallel pipeline, so that all
/// of them find the same records and the same errors at the same offsets.
#[derive(Debug, Clone)]
pub struct Framer {
    recovery: Recovery,
    /// Number of the next record (bad ones count too).
    pub(crate) number: u64,
    /// Stream offset of the first unconsumed byte.
    pub(crate) offset: u64,
    resyncing: bool,
    /// While resynchronising: leading bytes of the unconsumed input known to hold no record
    /// terminator, so input arriving in small pieces is not searched again and again.
    searched: usize,
    done: bool,
    /// Broken framing ended the stream (see [`Framer::set_recovery`]).
    ended_broken: bool,
    /// Read record lengths with Python's `int()`, as pymarc does.
    python_lengths: bool,
    /// Ask the CPU for the next record's bytes after framing one (see [`Framer::prefetching`]).
    prefetch: bool,
}

impl Framer {
    /// A framer at the start of a stream.
    pub fn new(recovery: Recovery) -> Self {
        Framer {
            recovery,
            number: 0,
            offset: 0,
            resyncing: false,
            searched: 0,
            done: false,
            ended_broken: false,
            python_lengths: false,
            prefetch: false,
        }
    }

    /// Change what happens after the next bad record (a reader whose options are set after
    /// it was made). A stream that broken framing ended goes on, resynchronising, when
    /// switched to [`Recovery::Resync`]: the caller has not consumed the broken bytes, so
    /// the next step resumes from them.
    pub fn set_recovery(&mut self, recovery: Recovery) {
        self.recovery = recovery;
        if recovery == Recovery::Resync && self.ended_broken {
            self.ended_broken = false;
            self.done = false;
            self.resyncing = true;
            self.searched = 0;
        }
    }

    /// Read record lengths as pymarc does, with Python's `int()` rules (white space around
    /// the digits, underscores between them), for pymarc-compatible readers.
    pub fn with_python_lengths(mut self) -> Self {
        self.python_lengths = true;
        self
    }

    /// Count record offsets from `offset`: the input is the part of a source from there.
    pub fn starting_at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// After each record, ask the CPU to start loading the next one's first bytes, for input
    /// framed where it lies in memory (not just copied into a buffer, where the bytes are
    /// already in the cache and the hint only costs time).
    pub fn prefetching(mut self) -> Self {
        self.prefetch = true;
        self
    }

    /// The next record of `buf[*pos..]`, `*pos` moved past it and past any bytes skipped to
    /// resynchronise before it: the one loop every reader and the pipeline frame through.
    pub fn next_in(&mut self, buf: &[u8], pos: &mut usize, at_eof: bool) -> Framed {
        loop {
            match self.step(&buf[*pos..], at_eof) {
                Step::Record {
                    len,
                    number,
                    offset,
                } => {
                    let range = *pos..*pos + len;
                    *pos += len;
                    self.consume(len);
                    if self.prefetch {
                        prefetch(&buf[*pos..buf.len().min(*pos + PREFETCH_BYTES)]);
                    }
                    return Framed::Record {
                        range,
                        number,
                        offset,
                    };
                }
                Step::Skip(n) => {
                    *pos += n;
                    self.consume(n);
                }
                Step::Broken(e) => return Framed::Broken(e),
                Step::NeedMore => return Framed::NeedMore,
                Step::End => return Framed::End,
            }
        }
    }

    /// Look at the unconsumed bytes `buf`; the caller consumes what the step says.
    pub fn step(&mut self, buf: &[u8], at_eof: bool) -> Step {
        if self.done {
            return Step::End;
        }
        if self.resyncing {
            let from = self.searched.min(buf.len());
            return match memchr::memchr(RECORD_TERMINATOR, &buf[from..]) {
                Some(i) => {
                    self.resyncing = false;
                    self.searched = 0;
                    Step::Skip(resync_start(buf, from + i + 1))
                }
                None if at_eof => {
                    self.done = true;
                    Step::End
                }
                // A record may start in these bytes and end at a terminator still to come:
                // keep as many bytes as the longest record (so the first kept byte, which
                // resync_start does not consider, cannot be such a start), and skip in
                // large steps so the kept bytes are not moved again and again.
                None if buf.len() < 2 * MAX_RECORD_LEN => {
                    self.searched = buf.len();
                    Step::NeedMore
                }
                None => {
                    self.searched = MAX_RECORD_LEN;
                    Step::Skip(buf.len() - MAX_RECORD_LEN)
                }
            };
        }
        match frame_record_with(buf, at_eof, self.python_lengths) {
            Frame::Record(len) => {
                let number = self.number;
                self.number += 1;
                Step::Record {
                    len,
                    number,
                    offset: self.offset,
                }
            }
            Frame::NeedMore => Step::NeedMore,
            Frame::End => {
                self.done = true;
                Step::End
            }
            Frame::Broken(kind) => {
                let e = Error::at(kind, self.number, self.offset);
                self.number += 1;
                match self.recovery {
                    Recovery::Resync => self.resyncing = true,
                    Recovery::Stop | Recovery::SkipRecord => {
                        self.done = true;
                        self.ended_broken = true;
                    }
                }
                Step::Broken(e)
            }
        }
    }

    /// End the stream (after an I/O error, or when the consumer gives up).
    pub fn finish(&mut self) {
        self.done = true;
        self.ended_broken = false;
    }

    /// Whether the stream has ended.
    pub fn is_finished(&self) -> bool {
        self.done
    }

    /// Move the stream offset past `n` bytes the caller has taken.
    pub fn consume(&mut self, n: usize) {
        self.offset += n as u64;
    }

    /// After a record failed to parse: does the stream go on?
    pub fn record_failed(&mut self) {
        if self.recovery == Recovery::Stop {
            self.done = true;
        }
    }
}

/// Parse a framed record and attach its position to any error.
pub fn parse_framed(
    bytes: &[u8],
    number: u64,
    offset: u64,
    opts: &ParseOptions,
    rec: &mut Record,
) -> Result<()> {
    parse_record(bytes, opts, rec).map_err(|e| e.located(number, offset))
}

const CHUNK: usize = 64 * 1024;

/// A streaming reader over any `io::Read`. Memory stays constant whatever the file size: one
/// buffer, at most about one chunk plus one record (a record is at most 99,999 bytes).
///
/// Iterate it for owned records, or call [`Reader::read_record`] with one [`Record`] to
/// parse every record into the same allocations. A bad record is an [`crate::Error`] that
/// names the record (from 0) and the byte offset of the problem; what comes after it
/// depends on the [`Recovery`] in the [`ReaderOptions`].
///
/// ```
/// use fastmarc::iso2709::{record_to_bytes, Reader, ReaderOptions};
/// use fastmarc::{Field, Record, Subfield, Tag};
///
/// // Two records, as a file would hold them.
/// let mut file = Vec::new();
/// for title in ["Moby-Dick", "Walden"] {
///     let mut rec = Record::new();
///     rec.push(&Field::data(Tag::new("245")?, '1', '0', vec![Subfield::new('a', title)]));
///     file.extend(record_to_bytes(&rec)?);
/// }
///
/// // Reading into one reused record.
/// let mut reader = Reader::new(file.as_slice());
/// let mut rec = Record::new();
/// let mut titles = Vec::new();
/// while reader.read_record(&mut rec)? {
///     titles.push(rec.title().unwrap_or_default());
/// }
/// assert_eq!(titles, ["Moby-Dick", "Walden"]);
///
/// // A damaged record is an error with its position; with `resyncing` options the
/// // reader resynchronises and the good records after it still arrive.
/// file[0] = b'x';
/// let results: Vec<_> = Reader::with_options(file.as_slice(), ReaderOptions::resyncing()).collect();
/// let error = results[0].as_ref().unwrap_err();
/// assert_eq!((error.record(), error.offset()), (Some(0), Some(0)));
/// assert_eq!(results[1].as_ref().unwrap().title().as_deref(), Some("Walden"));
/// # Ok::<(), fastmarc::Error>(())
/// ```
pub struct Reader<R> {
    inner: R,
    opts: ReaderOptions,
    framer: Framer,
    buf: ReadBuffer,
    /// Where the record last framed starts.
    record_offset: u64,
}

impl<R: Read> Reader<R> {
    /// A strict reader.
    pub fn new(inner: R) -> Self {
        Reader::with_options(inner, ReaderOptions::strict())
    }

    /// A reader with the given parsing and recovery options.
    pub fn with_options(inner: R, opts: ReaderOptions) -> Self {
        Reader {
            inner,
            opts,
            framer: Framer::new(opts.recovery),
            buf: ReadBuffer::default(),
            record_offset: 0,
        }
    }

    /// Read more input into the buffer, keeping unconsumed bytes.
    fn fill(&mut self) -> Result<()> {
        self.buf
            .read_from(&mut self.inner, CHUNK)
            .map_err(|e| Error::from(e).located(self.framer.number, self.framer.offset))
    }

    /// The next framed record's bytes with its number and offset, or a framing error.
    fn next_frame(&mut self) -> Option<Result<(Range<usize>, u64, u64)>> {
        loop {
            match self.buf.frame_next(&mut self.framer) {
                Framed::Record {
                    range,
                    number,
                    offset,
                } => {
                    self.record_offset = offset;
                    return Some(Ok((range, number, offset)));
                }
                Framed::Broken(e) => return Some(Err(e)),
                Framed::NeedMore => {
                    if let Err(e) = self.fill() {
                        self.framer.finish();
                        return Some(Err(e));
                    }
                }
                Framed::End => return None,
            }
        }
    }

    /// Read the next record into `rec`, reusing its allocations. `Ok(false)` at the end.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        match self.next_frame() {
            None => Ok(false),
            Some(Err(e)) => Err(e),
            Some(Ok((range, number, offset))) => {
                let bytes = &self.buf.bytes()[range];
                let r = parse_framed(bytes, number, offset, &self.opts.parse, rec);
                if r.is_err() {
                    self.framer.record_failed();
                }
                r.map(|_| true)
            }
        }
    }

    /// The next record's raw bytes (framing checked, content not parsed).
    pub fn next_raw(&mut self) -> Option<Result<&[u8]>> {
        match self.next_frame()? {
            Ok((range, _, _)) => Some(Ok(&self.buf.bytes()[range])),
            Err(e) => Some(Err(e)),
        }
    }

    /// Stream offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.framer.offset
    }

    /// Stream offset where the record last read (or whose parse failed) starts.
    pub fn record_offset(&self) -> u64 {
        self.record_offset
    }

    /// The underlying reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        crate::record::read_owned(|rec| self.read_record(rec))
    }
}

/// A reader over bytes already in memory; records are parsed straight from the slice.
pub struct SliceReader<'a> {
    data: &'a [u8],
    opts: ReaderOptions,
    framer: Framer,
    pos: usize,
}

impl<'a> SliceReader<'a> {
    /// A strict reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        SliceReader::with_options(data, ReaderOptions::strict())
    }

    /// A reader over `data` with the given parsing and recovery options.
    pub fn with_options(data: &'a [u8], opts: ReaderOptions) -> Self {
        SliceReader {
            data,
            opts,
            framer: Framer::new(opts.recovery).prefetching(),
            pos: 0,
        }
    }

    /// The next framed record's bytes with its number and offset.
    pub fn next_frame(&mut self) -> Option<Result<(&'a [u8], u64, u64)>> {
        match self.framer.next_in(self.data, &mut self.pos, true) {
            Framed::Record {
                range,
                number,
                offset,
            } => Some(Ok((&self.data[range], number, offset))),
            Framed::Broken(e) => Some(Err(e)),
            Framed::NeedMore | Framed::End => None,
        }
    }

    /// Read the next record into `rec`. `Ok(false)` at the end.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        match self.next_frame() {
            None => Ok(false),
            Some(Err(e)) => Err(e),
            Some(Ok((bytes, number, offset))) => {
                let r = parse_framed(bytes, number, offset, &self.opts.parse, rec);
                if r.is_err() {
                    self.framer.record_failed();
                }
                r.map(|_| true)
            }
        }
    }

    /// Offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.framer.offset
    }
}

impl Iterator for SliceReader<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        crate::record::read_owned(|rec| self.read_record(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of `len` bytes as far as framing goes: its length, filler, the terminator.
    fn framed(len: usize) -> Vec<u8> {
        let mut v = format!("{len:05}").into_bytes();
        v.resize(len - 1, b'x');
        v.push(RECORD_TERMINATOR);
        v
    }

    fn frames(framer: &mut Framer, buf: &[u8]) -> Vec<Result<Range<usize>>> {
        let mut pos = 0;
        std::iter::from_fn(|| match framer.next_in(buf, &mut pos, true) {
            Framed::Record { range, .. } => Some(Ok(range)),
            Framed::Broken(e) => Some(Err(e)),
            Framed::NeedMore | Framed::End => None,
        })
        .collect()
    }

    #[test]
    fn a_stream_ended_by_broken_framing_resumes_when_switched_to_resync() {
        let mut buf = framed(30);
        let mut lying = framed(40);
        lying[..5].copy_from_slice(b"00045");
        buf.extend(&lying);
        buf.extend(framed(50));
        let mut framer = Framer::new(Recovery::SkipRecord);
        let got = frames(&mut framer, &buf);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].as_ref().unwrap(), &(0..30));
        assert_eq!(got[1].as_ref().unwrap_err().offset(), Some(30));
        assert!(framer.is_finished());
        // Nothing was consumed past the broken record: framing resumes from it.
        framer.set_recovery(Recovery::Resync);
        let mut pos = 30;
        match framer.next_in(&buf, &mut pos, true) {
            Framed::Record { range, number, .. } => {
                assert_eq!(range, 70..120);
                assert_eq!(number, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stream_ended_by_the_caller_stays_ended() {
        let mut framer = Framer::new(Recovery::SkipRecord);
        framer.finish();
        framer.set_recovery(Recovery::Resync);
        assert!(framer.is_finished());
    }
}
