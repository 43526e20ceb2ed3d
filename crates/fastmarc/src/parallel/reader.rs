//! [`ParallelReader`]: every record of a stream, parsed on the pipeline's threads and handed
//! to the consumer in file order, with where it came from ([`Located`]).

use super::pipeline::{Next, Parsed, Parser, Pipeline, Recycler, Stage, Work, CONSUMER};
use super::source::SharedBytes;
use super::{internal_error, LiveThreads, ParallelOptions, Unparsed};
use crate::error::Result;
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::read::{parse_framed, ReaderOptions, Recovery};
use crate::record::Record;
use std::collections::VecDeque;
use std::io::Read;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A record's raw bytes: its range of the chunk it was framed from, which it shares.
#[derive(Clone)]
pub struct RawBytes {
    chunk: SharedBytes,
    range: Range<usize>,
}

impl RawBytes {
    /// The record's bytes (for a record whose framing was broken: as many as its first five
    /// bytes claim, and at least those five).
    pub fn bytes(&self) -> &[u8] {
        &(*self.chunk).as_ref()[self.range.clone()]
    }

    /// The chunk the record lies in, and where in it.
    pub fn chunk(&self) -> (&SharedBytes, Range<usize>) {
        (&self.chunk, self.range.clone())
    }
}

impl std::fmt::Debug for RawBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBytes")
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// A record, or the error in its place, with its provenance.
#[derive(Debug)]
pub struct Located {
    /// The record, or the error in its place. The record comes in the `Arc` it is kept in
    /// between uses, held by nobody else: a consumer that shares it hands it on as it is
    /// (and back through a [`Recycler`]), one that wants it owned unwraps it without a copy.
    pub result: Result<Arc<Record>>,
    /// Its number in the stream, bad records counted too (from 0).
    pub number: u64,
    /// Its byte offset in the stream.
    pub offset: u64,
    /// The thread that parsed it, to hand it back to through a [`Recycler`].
    pub parser: Parser,
    /// The options it was parsed with (see [`ParallelReader::set_parse_options`]).
    pub parsed_with: ParseOptions,
    /// Its bytes, when [`ParallelOptions::keep_raw`] asked for them.
    pub raw: Option<RawBytes>,
}

impl Located {
    /// Parse the record again with `opts`, when they differ from those it was parsed with
    /// and its bytes were kept. Broken framing stays the error it is.
    #[inline]
    pub fn reparse(&mut self, opts: ParseOptions) {
        // Inlined for this check: a consumer calls it per record, and almost never parses.
        if self.parsed_with != opts {
            self.parse_again(opts);
        }
    }

    fn parse_again(&mut self, opts: ParseOptions) {
        let Some(raw) = &self.raw else {
            return;
        };
        if matches!(&self.result, Err(e) if e.is_framing()) {
            return;
        }
        let mut rec = std::mem::replace(&mut self.result, Ok(Arc::default())).unwrap_or_default();
        self.result = parse_framed(
            raw.bytes(),
            self.number,
            self.offset,
            &opts,
            Arc::make_mut(&mut rec),
        )
        .map(|()| rec);
        self.parsed_with = opts;
    }

    /// The record, owned (it is held by nobody else, so nothing is copied), or the error.
    pub fn into_result(self) -> Result<Record> {
        self.result.map(Arc::unwrap_or_clone)
    }

    fn failed(error: crate::Error, parser: Parser) -> Located {
        Located {
            number: error.record().unwrap_or(0),
            offset: error.offset().unwrap_or(0),
            result: Err(error),
            parser,
            parsed_with: ParseOptions::default(),
            raw: None,
        }
    }
}

/// What [`ParallelReader::poll`] found.
#[derive(Debug)]
pub enum Polled {
    /// The next records in file order (a chunk's worth).
    Batch(Vec<Located>),
    /// A reader over pushed bytes needs more ([`ParallelReader::push`], or
    /// [`ParallelReader::end_input`] when there are none).
    NeedsInput,
    /// The stream is over.
    End,
}

/// [`ParallelReader`]'s stage: every framed record parsed into a record of its own. Its
/// options are read once per chunk, so setting them applies from the next chunk on.
struct ReaderStage {
    parse: Mutex<ParseOptions>,
    stop_on_error: AtomicBool,
    keep_raw: bool,
}

impl ReaderStage {
    fn parse_options(&self) -> ParseOptions {
        *self.parse.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Stage for ReaderStage {
    type Out = Located;

    fn records_wanted(&self, items: usize) -> usize {
        items
    }

    /// Parse a chunk's items in order, into spare records while there are any (with a
    /// `scratch` record, into that first, then copied). With `stop_on_error` the output
    /// ends at the first error, as a [`Recovery::Stop`] reader's does.
    fn run(&self, work: Work<'_>, spare: &mut Vec<Arc<Record>>) -> Parsed<Located> {
        let Work {
            bytes,
            items,
            parser,
            cancel,
            mut scratch,
        } = work;
        let opts = self.parse_options();
        let stop_on_error = self.stop_on_error.load(Ordering::Relaxed);
        let chunk = self.keep_raw.then(|| bytes.share());
        let bytes = bytes.as_slice();
        let raw = |range: &Range<usize>| {
            chunk.as_ref().map(|chunk| RawBytes {
                chunk: chunk.clone(),
                range: range.clone(),
            })
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            match item {
                Unparsed::Record {
                    range,
                    number,
                    offset,
                } => {
                    // Built in its place in `out` and parsed there: a record is a few
                    // hundred bytes, and moving it per record shows in the profile.
                    out.push(Located {
                        result: Ok(spare.pop().unwrap_or_default()),
                        number,
                        offset,
                        parser,
                        parsed_with: opts,
                        raw: raw(&range),
                    });
                    let last = out.last_mut().expect("just pushed");
                    let rec = Arc::make_mut(last.result.as_mut().expect("pushed as Ok"));
                    let framed = &bytes[range.clone()];
                    let parsed = match scratch.as_deref_mut() {
                        Some(scratch) => parse_framed(framed, number, offset, &opts, scratch)
                            .map(|()| rec.clone_from(scratch)),
                        None => parse_framed(framed, number, offset, &opts, rec),
                    };
                    if let Err(e) = parsed {
                        last.result = Err(e);
                    }
                }
                Unparsed::Failed(e, range) => out.push(Located {
                    raw: raw(&range),
                    parsed_with: opts,
                    ..Located::failed(e, parser)
                }),
            };
            let failed = out.last().is_some_and(|l| l.result.is_err());
            if failed && stop_on_error {
                break;
            }
        }
        // Chunks stop at their first error in Stop mode, so only the last result can be one.
        // Looked at here, where it was just written, not by the consumer on another core.
        let ends = stop_on_error && out.last().is_some_and(|r| r.result.is_err());
        Parsed { out, ends }
    }
}

/// Records of a file (or any `Read`, a buffer, or bytes the caller pushes) parsed on several
/// threads, delivered in file order: the same records and errors as
/// [`crate::iso2709::Reader`] with the same [`ReaderOptions`].
///
/// Iterate it for single records, call [`ParallelReader::next_batch`] for a chunk's worth
/// at a time, or [`ParallelReader::poll`] for records with their provenance. Dropping it
/// (or [`ParallelReader::close`]) stops and joins every thread; only a pool thread blocked
/// inside the underlying `read` call is waited for until that call returns. When the work
/// per record is the larger part, [`super::ParallelMap`] does it on the parser threads too.
///
/// ```
/// use fastmarc::iso2709::{record_to_bytes, ReaderOptions};
/// use fastmarc::parallel::ParallelReader;
/// use fastmarc::{Field, Record, Tag};
///
/// let mut rec = Record::new();
/// rec.push(&Field::control(Tag::new("001")?, "id-1"));
/// let mut file = record_to_bytes(&rec)?;
/// file.extend(record_to_bytes(&rec)?);
///
/// let reader = ParallelReader::new(std::io::Cursor::new(file), ReaderOptions::strict(), Some(2))?;
/// let records: Vec<Record> = reader.collect::<Result<_, _>>()?;
/// assert_eq!(records.len(), 2);
/// # Ok::<(), fastmarc::Error>(())
/// ```
pub struct ParallelReader {
    pipe: Pipeline<ReaderStage>,
    current: std::vec::IntoIter<Located>,
    /// Who parsed the batches handed out by `next_batch` and not yet recycled, oldest
    /// first: `recycle` gives each batch back to its parser (assuming batches come back in
    /// the order they went out; if not, records only land in another thread's pool).
    handed_out: VecDeque<Parser>,
}

/// Batches whose parser `ParallelReader` remembers for `recycle`.
const MAX_HANDED_OUT: usize = 64;

impl ParallelReader {
    /// A pipeline over `inner` with `threads` parser threads, the consumer included (see
    /// [`super::thread_count`]).
    pub fn new<R: Read + Send + 'static>(
        inner: R,
        opts: ReaderOptions,
        threads: Option<usize>,
    ) -> Result<ParallelReader> {
        ParallelReader::with_options(inner, ParallelOptions::new(opts, threads))
    }

    /// A pipeline over `inner` with every option given.
    pub fn with_options<R: Read + Send + 'static>(
        inner: R,
        opts: ParallelOptions,
    ) -> Result<ParallelReader> {
        let stage = ParallelReader::stage(&opts);
        Ok(ParallelReader::around(Pipeline::over_read(
            inner, &opts, stage,
        )?))
    }

    /// A pipeline over bytes in memory, framed in place.
    pub fn from_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        data: B,
        opts: ReaderOptions,
        threads: Option<usize>,
    ) -> Result<ParallelReader> {
        ParallelReader::from_shared(Arc::new(data), ParallelOptions::new(opts, threads))
    }

    /// A pipeline over bytes shared without copying, with every option given.
    pub fn from_shared(data: SharedBytes, opts: ParallelOptions) -> Result<ParallelReader> {
        let stage = ParallelReader::stage(&opts);
        Ok(ParallelReader::around(Pipeline::over_bytes(
            data, &opts, stage,
        )?))
    }

    /// A pipeline over bytes the caller hands it ([`ParallelReader::push`]) whenever
    /// [`ParallelReader::poll`] says it needs input: for a source only the caller can read.
    pub fn pushed(opts: ParallelOptions) -> Result<ParallelReader> {
        let stage = ParallelReader::stage(&opts);
        Ok(ParallelReader::around(Pipeline::over_pushed(&opts, stage)?))
    }

    fn stage(opts: &ParallelOptions) -> ReaderStage {
        ReaderStage {
            parse: Mutex::new(opts.reader.parse),
            stop_on_error: AtomicBool::new(opts.reader.recovery == Recovery::Stop),
            keep_raw: opts.keep_raw,
        }
    }

    fn around(pipe: Pipeline<ReaderStage>) -> ParallelReader {
        ParallelReader {
            pipe,
            current: Vec::new().into_iter(),
            handed_out: VecDeque::new(),
        }
    }

    /// Number of parser threads, the consumer included.
    pub fn threads(&self) -> usize {
        self.pipe.threads()
    }

    #[doc(hidden)]
    /// This pipeline's pool threads still running; zero after `close`.
    pub fn live_threads(&self) -> LiveThreads {
        self.pipe.live_threads()
    }

    /// Hand a reader made with [`ParallelReader::pushed`] more of its input.
    pub fn push(&self, bytes: &[u8]) {
        self.pipe.push(bytes);
    }

    /// Tell a reader made with [`ParallelReader::pushed`] that its input is over.
    pub fn end_input(&self) {
        self.pipe.end_input();
    }

    /// Parse options for the chunks parsed from now on (chunks parsed already keep theirs:
    /// see [`Located::reparse`]).
    pub fn set_parse_options(&self, opts: ParseOptions) {
        *self
            .pipe
            .stage()
            .parse
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = opts;
    }

    /// What happens after the next bad record. Switched to [`Recovery::Resync`], a stream
    /// that broken framing ended goes on, unless the consumer already saw its end.
    pub fn set_recovery(&self, recovery: Recovery) {
        let stage = self.pipe.stage();
        let stop = recovery == Recovery::Stop;
        stage.stop_on_error.store(stop, Ordering::Relaxed);
        self.pipe.set_recovery(recovery);
    }

    /// A handle that gives records back to the thread that parsed them (see [`Recycler`]).
    pub fn recycler(&self) -> Recycler {
        self.pipe.recycler()
    }

    /// The next records with their provenance, in file order (records not yet taken by
    /// iteration come first), or what the reader needs to go on.
    pub fn poll(&mut self) -> Polled {
        self.poll_with(false)
    }

    /// [`ParallelReader::poll`] for a reader of pushed bytes whose caller cannot push more
    /// for now (its own read failed): every record of the bytes pushed so far comes first,
    /// and [`Polled::NeedsInput`] only once none is left in flight, so that the caller can
    /// report its failure after every record read before it.
    pub fn poll_in_flight(&mut self) -> Polled {
        self.poll_with(true)
    }

    fn poll_with(&mut self, drain: bool) -> Polled {
        if self.current.len() > 0 {
            return Polled::Batch(std::mem::take(&mut self.current).collect());
        }
        match self.pipe.next_chunk(drain) {
            Next::Chunk(Ok((batch, parser))) => {
                if self.handed_out.len() == MAX_HANDED_OUT {
                    self.handed_out.pop_front();
                }
                self.handed_out.push_back(parser);
                Polled::Batch(batch)
            }
            Next::Chunk(Err(panic)) => {
                let what = format!("{} panicked", panic.during);
                Polled::Batch(vec![Located::failed(internal_error(&what), CONSUMER)])
            }
            Next::NeedsInput => Polled::NeedsInput,
            Next::End => Polled::End,
        }
    }

    /// The next batch of results in file order (one chunk's worth; records not yet taken
    /// by iteration come first), or `None` at the end (for a reader of pushed bytes, also
    /// when it needs input).
    pub fn next_batch(&mut self) -> Option<Vec<Result<Record>>> {
        match self.poll() {
            Polled::Batch(batch) => Some(batch.into_iter().map(Located::into_result).collect()),
            Polled::NeedsInput | Polled::End => None,
        }
    }

    /// Hand records back when done with them: later chunks are parsed into them, reusing
    /// their allocations instead of allocating on a parser thread and freeing on this one
    /// (what [`crate::iso2709::Reader::read_record`] does for one record, for a pipeline).
    /// Errors in `batch` are dropped; at most a few chunks' worth of records are kept.
    pub fn recycle(&mut self, batch: impl IntoIterator<Item = Result<Record>>) {
        let parser = self.handed_out.pop_front().unwrap_or(CONSUMER);
        self.recycler().give(parser, batch.into_iter().flatten());
    }

    /// Stop reading and parsing, and wait for every thread of this pipeline to end.
    /// Further calls return nothing. Called on drop.
    pub fn close(&mut self) {
        self.current = Vec::new().into_iter();
        self.pipe.close();
    }
}

impl Iterator for ParallelReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            if let Some(r) = self.current.next() {
                return Some(r.into_result());
            }
            match self.poll() {
                Polled::Batch(batch) => self.current = batch.into_iter(),
                Polled::NeedsInput | Polled::End => return None,
            }
        }
    }
}

impl std::fmt::Debug for ParallelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelReader")
            .field("threads", &self.threads())
            .field("finished", &self.pipe.finished())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn pipeline_types_can_move_between_threads() {
        assert_send::<ParallelReader>();
        assert_send::<Recycler>();
        assert_send::<Located>();
    }

    fn file_of(n: usize) -> Vec<u8> {
        let mut rec = Record::new();
        rec.push(&crate::Field::control(
            crate::Tag::new("001").unwrap(),
            "an id",
        ));
        let one = crate::iso2709::record_to_bytes(&rec).unwrap();
        one.repeat(n)
    }

    #[test]
    fn handed_back_records_stay_with_their_parser() {
        let opts = ParallelOptions {
            chunk_size: 256,
            threads: Some(2),
            ..ParallelOptions::default()
        };
        let mut reader =
            ParallelReader::with_options(std::io::Cursor::new(file_of(500)), opts).unwrap();
        let recycler = reader.recycler();
        let mut parsers = std::collections::HashSet::new();
        let handed_back =
            |r: &Recycler| -> Vec<usize> { (0..2).map(|p| r.handed_back(p)).collect() };
        while let Some(batch) = reader.next_batch() {
            let parser = *reader.handed_out.back().unwrap();
            parsers.insert(parser);
            let mut expected = handed_back(&recycler);
            expected[parser] += batch.len();
            reader.recycle(batch);
            assert_eq!(handed_back(&recycler), expected, "batch of parser {parser}");
            assert!(recycler.kept(parser) <= super::super::pipeline::MAX_SPARE_RECORDS);
            assert!(reader.handed_out.is_empty());
        }
        assert!(parsers.iter().all(|&p| p < 2));
        // Reaching the end closes the reader, which frees what the parsers kept.
        assert!((0..2).all(|p| recycler.kept(p) == 0));
        // Records handed back after that are freed, not kept.
        recycler.give(CONSUMER, [Record::new()]);
        assert_eq!(recycler.kept(CONSUMER), 0);
    }
}
