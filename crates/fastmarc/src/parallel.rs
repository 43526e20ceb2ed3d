//! Parsing on a rayon pool.
//!
//! - [`parse_batch`] / [`ParsePool::parse_batch`]: records already split out, parsed at once.
//! - [`parse_all`] / [`ParsePool::parse_all`]: a whole buffer, framed then parsed at once.
//! - [`ParallelReader`]: an ordered pipeline for a file or any `Read`. One reader thread
//!   fills chunks of [`DEFAULT_CHUNK_SIZE`] bytes (a record cut by the end of a chunk is
//!   carried into the next), frames them with the same state machine as
//!   [`crate::iso2709::Reader`] and hands each chunk to a private pool; the consumer gets
//!   the records back in file order. A bounded channel keeps only a few chunks in flight,
//!   so memory stays bounded whatever the file size.
//!
//! Every path gives exactly what the sequential readers give with the same
//! [`ReaderOptions`]: the same records, the same errors with the same record numbers and
//! byte offsets, and the same end of stream for each [`Recovery`] mode.

use crate::error::{Error, ErrorKind, Result};
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::read::{parse_framed, Framer, ReaderOptions, Recovery, Step};
use crate::iso2709::write::MAX_RECORD_LEN;
use crate::record::Record;
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::io::Read;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Bytes the pipeline reads per chunk unless told otherwise. Small chunks keep the records
/// in flight few enough to stay in cache between the parser that builds them and the
/// consumer that reads them; measured, 64 KiB beats 1 MiB clearly (far fewer page faults
/// and cache misses) while the per-chunk overhead stays negligible.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// Small chunks of a batch are not worth a task of their own.
const MIN_RECORDS_PER_TASK: usize = 16;

/// The number of parser threads to use: `requested` if given (and not 0), else the
/// environment variable `RAYON_NUM_THREADS`, else every core.
pub fn thread_count(requested: Option<usize>) -> usize {
    if let Some(n) = requested.filter(|&n| n > 0) {
        return n;
    }
    let from_env = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    from_env.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

// ---- counting live threads ----------------------------------------------------------------

#[derive(Debug, Default)]
struct Counts {
    parsers: usize,
    readers: usize,
}

/// How many of a pool's or pipeline's threads are still running. Closing waits for this
/// to reach zero; tests and bindings can check it.
#[derive(Debug, Clone, Default)]
pub struct LiveThreads(Arc<(Mutex<Counts>, Condvar)>);

impl LiveThreads {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding this lock leaves plain integers behind: still usable.
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Threads (reader and parsers) that have not ended yet.
    pub fn get(&self) -> usize {
        let c = self.counts();
        c.parsers + c.readers
    }

    fn update(&self, change: impl FnOnce(&mut Counts)) {
        change(&mut self.counts());
        self.0 .1.notify_all();
    }

    fn wait_for_parsers(&self) {
        let mut c = self.counts();
        while c.parsers > 0 {
            c = self.0 .1.wait(c).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Marks the reader thread as ended when dropped, also when the thread unwinds.
struct ReaderExit(LiveThreads);

impl Drop for ReaderExit {
    fn drop(&mut self) {
        self.0.update(|c| c.readers -= 1);
    }
}

// ---- framing into work items ------------------------------------------------------------

/// One element of the output stream, framed but not yet parsed.
#[derive(Debug)]
enum Item {
    Record {
        range: Range<usize>,
        number: u64,
        offset: u64,
    },
    /// Broken framing or an I/O error, already located.
    Failed(Error),
}

/// Why [`frame_into`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// At least the byte budget has been framed.
    Budget,
    /// The rest of the buffer is an incomplete record.
    NeedMore,
    /// The stream is over (input ended, or broken framing ended it).
    End,
}

/// Frame records from `buf[*pos..]` into `items` until `budget` bytes have been framed, more
/// input is needed, or the stream ends. Steps the shared [`Framer`] exactly as the
/// sequential readers do, so records, errors, numbers and offsets are the same.
fn frame_into(
    framer: &mut Framer,
    buf: &[u8],
    pos: &mut usize,
    at_eof: bool,
    budget: usize,
    items: &mut Vec<Item>,
) -> Progress {
    let start = *pos;
    loop {
        if *pos - start >= budget {
            return Progress::Budget;
        }
        match framer.step(&buf[*pos..], at_eof) {
            Step::Record {
                len,
                number,
                offset,
            } => {
                items.push(Item::Record {
                    range: *pos..*pos + len,
                    number,
                    offset,
                });
                *pos += len;
                framer.consume(len);
            }
            Step::Skip(n) => {
                *pos += n;
                framer.consume(n);
            }
            Step::Broken(e) => items.push(Item::Failed(e)),
            Step::NeedMore => return Progress::NeedMore,
            Step::End => return Progress::End,
        }
    }
}

fn parse_one(bytes: &[u8], number: u64, offset: u64, opts: &ParseOptions) -> Result<Record> {
    let mut rec = Record::new();
    parse_framed(bytes, number, offset, opts, &mut rec)?;
    Ok(rec)
}

/// Parse a chunk's items in order. With `stop_on_error` the output ends at the first error,
/// as a [`Recovery::Stop`] reader's does.
fn parse_items(
    bytes: &[u8],
    items: Vec<Item>,
    opts: &ParseOptions,
    stop_on_error: bool,
    cancel: &AtomicBool,
) -> Vec<Result<Record>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let r = match item {
            Item::Record {
                range,
                number,
                offset,
            } => parse_one(&bytes[range], number, offset, opts),
            Item::Failed(e) => Err(e),
        };
        let failed = r.is_err();
        out.push(r);
        if failed && stop_on_error {
            break;
        }
    }
    out
}

/// Keep results up to and including the first error (what a [`Recovery::Stop`] reader
/// delivers).
fn truncate_after_first_error(results: &mut Vec<Result<Record>>) {
    if let Some(i) = results.iter().position(|r| r.is_err()) {
        results.truncate(i + 1);
    }
}

fn internal_error(what: &str) -> Error {
    Error::new(ErrorKind::Io(std::io::ErrorKind::Other, what.to_string()))
}

// ---- the pool -----------------------------------------------------------------------------

/// A private rayon pool for parsing. Dropping it waits until its threads have ended.
pub struct ParsePool {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    live: LiveThreads,
}

impl std::fmt::Debug for ParsePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsePool")
            .field("threads", &self.threads)
            .finish()
    }
}

impl ParsePool {
    /// A pool of [`thread_count`]`(threads)` threads.
    pub fn new(threads: Option<usize>) -> Result<ParsePool> {
        ParsePool::with_live(threads, LiveThreads::default())
    }

    fn with_live(threads: Option<usize>, live: LiveThreads) -> Result<ParsePool> {
        let threads = thread_count(threads);
        // Counted before the threads start, so a wait cannot pass before they have run.
        live.update(|c| c.parsers += threads);
        let on_exit = live.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("fastmarc-parse-{i}"))
            .exit_handler(move |_| on_exit.update(|c| c.parsers -= 1))
            // A panicking job drops its result channel, which the consumer reports as an
            // error; without a handler rayon would abort the process.
            .panic_handler(|_| {})
            .build()
            .map_err(|e| internal_error(&format!("cannot start parser threads: {e}")))?;
        Ok(ParsePool {
            pool: Some(pool),
            threads,
            live,
        })
    }

    /// Number of parser threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Threads of this pool still running.
    pub fn live_threads(&self) -> LiveThreads {
        self.live.clone()
    }

    fn install<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    /// Run `job` on the pool without waiting for it (for callers that pipeline their own
    /// batches; inside the job, rayon's parallel iterators use this pool).
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        match &self.pool {
            Some(pool) => pool.spawn(job),
            None => job(),
        }
    }

    /// Parse separate records in parallel, in order. Error positions: the record's index in
    /// `records`, and the byte offset within that record.
    pub fn parse_batch(&self, records: &[&[u8]], opts: &ParseOptions) -> Vec<Result<Record>> {
        self.install(|| {
            records
                .par_iter()
                .with_min_len(MIN_RECORDS_PER_TASK)
                .enumerate()
                .map(|(i, bytes)| parse_one(bytes, i as u64, 0, opts))
                .collect()
        })
    }

    /// Parse the records at `ranges` of `buf` in parallel, in order. Error positions: the
    /// range's index, and the byte offset within `buf`.
    pub fn parse_ranges(
        &self,
        buf: &[u8],
        ranges: &[Range<usize>],
        opts: &ParseOptions,
    ) -> Vec<Result<Record>> {
        self.install(|| {
            ranges
                .par_iter()
                .with_min_len(MIN_RECORDS_PER_TASK)
                .enumerate()
                .map(|(i, r)| match buf.get(r.clone()) {
                    Some(bytes) => parse_one(bytes, i as u64, r.start as u64, opts),
                    None => Err(Error::at(
                        ErrorKind::InvalidValue(format!(
                            "range {r:?} lies outside the {}-byte buffer",
                            buf.len()
                        )),
                        i as u64,
                        r.start as u64,
                    )),
                })
                .collect()
        })
    }

    /// Frame and parse a whole buffer: exactly the output of
    /// [`crate::iso2709::SliceReader`] with the same options, computed in parallel.
    pub fn parse_all(&self, bytes: &[u8], opts: &ReaderOptions) -> Vec<Result<Record>> {
        let mut framer = Framer::new(opts.recovery);
        let mut items = Vec::new();
        let mut pos = 0;
        frame_into(&mut framer, bytes, &mut pos, true, usize::MAX, &mut items);
        let parse = opts.parse;
        let mut out: Vec<Result<Record>> = self.install(|| {
            items
                .into_par_iter()
                .with_min_len(MIN_RECORDS_PER_TASK)
                .map(|item| match item {
                    Item::Record {
                        range,
                        number,
                        offset,
                    } => parse_one(&bytes[range], number, offset, &parse),
                    Item::Failed(e) => Err(e),
                })
                .collect()
        });
        if opts.recovery == Recovery::Stop {
            truncate_after_first_error(&mut out);
        }
        out
    }

    /// Parse one chunk's items on the pool; the result arrives on the returned channel.
    fn spawn_chunk(
        &self,
        bytes: ChunkBytes,
        items: Vec<Item>,
        opts: ParseOptions,
        stop_on_error: bool,
        cancel: Arc<AtomicBool>,
    ) -> Receiver<Vec<Result<Record>>> {
        let (tx, rx) = bounded(1);
        let job = move || {
            let out = parse_items(bytes.as_slice(), items, &opts, stop_on_error, &cancel);
            bytes.release();
            // The consumer may be gone; then the result is not wanted.
            let _ = tx.send(out);
        };
        match &self.pool {
            Some(pool) => pool.spawn(job),
            None => job(),
        }
        rx
    }
}

impl Drop for ParsePool {
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else {
            return;
        };
        // A pool thread cannot wait for itself to end.
        let inside = pool.current_thread_index().is_some();
        drop(pool);
        if !inside {
            self.live.wait_for_parsers();
        }
    }
}

/// Parse separate records in parallel on a temporary pool (see [`ParsePool::parse_batch`]).
/// If no threads can be started, parses on the calling thread.
pub fn parse_batch(
    records: &[&[u8]],
    opts: &ParseOptions,
    threads: Option<usize>,
) -> Vec<Result<Record>> {
    match ParsePool::new(threads) {
        Ok(pool) => pool.parse_batch(records, opts),
        Err(_) => records
            .iter()
            .enumerate()
            .map(|(i, bytes)| parse_one(bytes, i as u64, 0, opts))
            .collect(),
    }
}

/// Frame and parse a whole buffer in parallel on a temporary pool (see
/// [`ParsePool::parse_all`]). If no threads can be started, parses on the calling thread.
pub fn parse_all(
    bytes: &[u8],
    opts: &ReaderOptions,
    threads: Option<usize>,
) -> Vec<Result<Record>> {
    let pool = ParsePool::new(threads).unwrap_or_else(|_| ParsePool {
        pool: None,
        threads: 1,
        live: LiveThreads::default(),
    });
    pool.parse_all(bytes, opts)
}

// ---- the ordered pipeline -----------------------------------------------------------------

/// Bytes shared with the pipeline without copying (a `Vec<u8>`, `Arc<[u8]>`, a memory map...).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The bytes a chunk's items index into.
enum ChunkBytes {
    /// A reader thread's buffer, sent back for reuse once parsed.
    Recycled(Vec<u8>, Sender<Vec<u8>>),
    Shared(SharedBytes),
}

impl ChunkBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            ChunkBytes::Recycled(v, _) => v,
            ChunkBytes::Shared(s) => (**s).as_ref(),
        }
    }

    fn release(self) {
        if let ChunkBytes::Recycled(v, back) = self {
            // The reader thread may have ended; then the buffer is simply freed.
            let _ = back.send(v);
        }
    }
}

/// Configuration of a [`ParallelReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelOptions {
    pub reader: ReaderOptions,
    /// Parser threads; `None`: `RAYON_NUM_THREADS`, else every core.
    pub threads: Option<usize>,
    /// Bytes per chunk (at least 1). A chunk is also one batch of [`ParallelReader::next_batch`].
    pub chunk_size: usize,
    /// Chunks read ahead of the consumer; `None`: threads + 2.
    pub chunks_in_flight: Option<usize>,
}

impl Default for ParallelOptions {
    fn default() -> Self {
        ParallelOptions {
            reader: ReaderOptions::strict(),
            threads: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunks_in_flight: None,
        }
    }
}

impl ParallelOptions {
    pub fn new(reader: ReaderOptions, threads: Option<usize>) -> Self {
        ParallelOptions {
            reader,
            threads,
            ..ParallelOptions::default()
        }
    }
}

type BatchReceiver = Receiver<Vec<Result<Record>>>;

/// What the reader thread sends the consumer, in file order.
enum Msg {
    Batch(BatchReceiver),
    /// The stream ended normally (its absence on disconnection means the thread failed).
    End,
}

/// Everything the reader thread needs.
struct Producer<R> {
    inner: R,
    framer: Framer,
    parse: ParseOptions,
    stop_on_error: bool,
    chunk_size: usize,
    pool: Arc<ParsePool>,
    cancel: Arc<AtomicBool>,
    tx: Sender<Msg>,
}

/// Read into `buf[*filled..]` until it is full or the input ends. Returns whether the input
/// ended, and the I/O error that stopped reading, if any (bytes read before it are kept).
fn read_chunk<R: Read>(
    inner: &mut R,
    buf: &mut [u8],
    filled: &mut usize,
) -> (bool, Option<std::io::Error>) {
    while *filled < buf.len() {
        match inner.read(&mut buf[*filled..]) {
            Ok(0) => return (true, None),
            Ok(n) => *filled += n.min(buf.len() - *filled),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (false, Some(e)),
        }
    }
    (false, None)
}

/// Room for the part of a record carried over from the previous chunk.
const CARRY_ROOM: usize = MAX_RECORD_LEN;

impl<R: Read> Producer<R> {
    fn run(mut self) {
        // Chunk buffers are zeroed once and recycled by the parser jobs: fresh megabytes
        // for every chunk cost more in page faults than the parsing itself.
        let (recycle_tx, recycle_rx) = unbounded::<Vec<u8>>();
        let mut buf = vec![0u8; self.chunk_size + CARRY_ROOM];
        let mut filled = 0;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return;
            }
            let want = filled + self.chunk_size;
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let (eof, io_error) = read_chunk(&mut self.inner, &mut buf[..want], &mut filled);
            let mut items = Vec::new();
            let mut pos = 0;
            let progress = frame_into(
                &mut self.framer,
                &buf[..filled],
                &mut pos,
                eof,
                usize::MAX,
                &mut items,
            );
            let mut ended = progress == Progress::End;
            if let Some(e) = io_error {
                if !ended {
                    // Where the sequential reader reports it: at the first record it
                    // could not complete.
                    let (number, offset) = (self.framer.number, self.framer.offset);
                    items.push(Item::Failed(Error::from(e).located(number, offset)));
                    ended = true;
                }
            }
            let carry = filled - pos;
            if items.is_empty() {
                // Only part of a record so far: keep it and read on.
                buf.copy_within(pos..filled, 0);
            } else {
                let mut next = recycle_rx
                    .try_recv()
                    .unwrap_or_else(|_| vec![0u8; self.chunk_size + CARRY_ROOM]);
                if next.len() < carry {
                    next.resize(carry, 0);
                }
                next[..carry].copy_from_slice(&buf[pos..filled]);
                let chunk = std::mem::replace(&mut buf, next);
                let rx = self.pool.spawn_chunk(
                    ChunkBytes::Recycled(chunk, recycle_tx.clone()),
                    items,
                    self.parse,
                    self.stop_on_error,
                    self.cancel.clone(),
                );
                // Blocks while enough chunks are in flight; fails once the consumer is gone.
                if self.tx.send(Msg::Batch(rx)).is_err() {
                    return;
                }
            }
            filled = carry;
            if ended {
                let _ = self.tx.send(Msg::End);
                return;
            }
        }
    }
}

/// Framing of an in-memory buffer, done by the consumer a few chunks ahead.
struct MemorySource {
    data: SharedBytes,
    pos: usize,
    framer: Framer,
    ended: bool,
    chunk_size: usize,
    in_flight: usize,
    pending: VecDeque<BatchReceiver>,
}

enum Source {
    Stream {
        rx: Option<Receiver<Msg>>,
        thread: Option<JoinHandle<()>>,
    },
    Memory(MemorySource),
}

/// Records of a file (or any `Read`, or a buffer) parsed on a private pool, delivered in
/// file order: the same records and errors as [`crate::iso2709::Reader`] with the same
/// [`ReaderOptions`].
///
/// Iterate it for single records, or call [`ParallelReader::next_batch`] for a chunk's
/// worth at a time. Dropping it (or [`ParallelReader::close`]) stops and joins every thread;
/// only a reader thread blocked inside the underlying `read` call is waited for until that
/// call returns.
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
    pool: Option<Arc<ParsePool>>,
    source: Source,
    current: std::vec::IntoIter<Result<Record>>,
    parse: ParseOptions,
    stop_on_error: bool,
    finished: bool,
    cancel: Arc<AtomicBool>,
    live: LiveThreads,
}

impl ParallelReader {
    /// A pipeline over `inner` with `threads` parser threads (see [`thread_count`]).
    pub fn new<R: Read + Send + 'static>(
        inner: R,
        opts: ReaderOptions,
        threads: Option<usize>,
    ) -> Result<ParallelReader> {
        ParallelReader::with_options(inner, ParallelOptions::new(opts, threads))
    }

    pub fn with_options<R: Read + Send + 'static>(
        inner: R,
        opts: ParallelOptions,
    ) -> Result<ParallelReader> {
        let live = LiveThreads::default();
        let pool = Arc::new(ParsePool::with_live(opts.threads, live.clone())?);
        let in_flight = opts.chunks_in_flight.unwrap_or(pool.threads() + 2).max(1);
        let (tx, rx) = bounded(in_flight);
        let cancel = Arc::new(AtomicBool::new(false));
        let producer = Producer {
            inner,
            framer: Framer::new(opts.reader.recovery),
            parse: opts.reader.parse,
            stop_on_error: opts.reader.recovery == Recovery::Stop,
            chunk_size: opts.chunk_size.max(1),
            pool: pool.clone(),
            cancel: cancel.clone(),
            tx,
        };
        live.update(|c| c.readers += 1);
        let guard = ReaderExit(live.clone());
        let thread = std::thread::Builder::new()
            .name("fastmarc-read".into())
            .spawn(move || {
                let _guard = guard;
                producer.run();
            })?;
        Ok(ParallelReader {
            pool: Some(pool),
            source: Source::Stream {
                rx: Some(rx),
                thread: Some(thread),
            },
            current: Vec::new().into_iter(),
            parse: opts.reader.parse,
            stop_on_error: opts.reader.recovery == Recovery::Stop,
            finished: false,
            cancel,
            live,
        })
    }

    /// A pipeline over bytes in memory: no reader thread; the consumer frames a few chunks
    /// ahead and the pool parses them.
    pub fn from_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        data: B,
        opts: ReaderOptions,
        threads: Option<usize>,
    ) -> Result<ParallelReader> {
        ParallelReader::from_shared(Arc::new(data), ParallelOptions::new(opts, threads))
    }

    pub fn from_shared(data: SharedBytes, opts: ParallelOptions) -> Result<ParallelReader> {
        let live = LiveThreads::default();
        let pool = Arc::new(ParsePool::with_live(opts.threads, live.clone())?);
        let in_flight = opts.chunks_in_flight.unwrap_or(pool.threads() + 2).max(1);
        Ok(ParallelReader {
            pool: Some(pool),
            source: Source::Memory(MemorySource {
                data,
                pos: 0,
                framer: Framer::new(opts.reader.recovery),
                ended: false,
                chunk_size: opts.chunk_size.max(1),
                in_flight,
                pending: VecDeque::new(),
            }),
            current: Vec::new().into_iter(),
            parse: opts.reader.parse,
            stop_on_error: opts.reader.recovery == Recovery::Stop,
            finished: false,
            cancel: Arc::new(AtomicBool::new(false)),
            live,
        })
    }

    /// Number of parser threads.
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(0, |p| p.threads())
    }

    /// This pipeline's threads (reader and parsers) still running; zero after `close`.
    pub fn live_threads(&self) -> LiveThreads {
        self.live.clone()
    }

    /// The next batch of results in file order (one chunk's worth; records not yet taken
    /// by iteration come first), or `None` at the end.
    pub fn next_batch(&mut self) -> Option<Vec<Result<Record>>> {
        if self.current.len() > 0 {
            return Some(std::mem::take(&mut self.current).collect());
        }
        loop {
            if self.finished {
                return None;
            }
            let Some(batch) = self.receive_batch() else {
                self.close();
                return None;
            };
            if batch.is_empty() {
                continue;
            }
            // Chunks stop at their first error in Stop mode; the stream ends there.
            if self.stop_on_error && batch.iter().any(|r| r.is_err()) {
                self.close();
            }
            return Some(batch);
        }
    }

    /// Wait for the next chunk's results. `None` at the end of the stream.
    fn receive_batch(&mut self) -> Option<Vec<Result<Record>>> {
        let pool = self.pool.as_ref()?;
        let rx = match &mut self.source {
            Source::Stream { rx, .. } => match rx.as_ref()?.recv() {
                Ok(Msg::Batch(rx)) => rx,
                Ok(Msg::End) => return None,
                Err(_) => {
                    self.finished = true;
                    return Some(vec![Err(internal_error("the reader thread failed"))]);
                }
            },
            Source::Memory(m) => {
                m.top_up(pool, self.parse, self.stop_on_error, &self.cancel);
                m.pending.pop_front()?
            }
        };
        match rx.recv() {
            Ok(batch) => Some(batch),
            Err(_) => {
                self.finished = true;
                Some(vec![Err(internal_error("a parser thread failed"))])
            }
        }
    }

    /// Stop reading and parsing, and wait for every thread of this pipeline to end.
    /// Further calls return nothing. Called on drop.
    pub fn close(&mut self) {
        self.finished = true;
        self.current = Vec::new().into_iter();
        self.cancel.store(true, Ordering::Relaxed);
        match &mut self.source {
            Source::Stream { rx, thread } => {
                // Dropping the receiver wakes a reader thread blocked on a full channel.
                drop(rx.take());
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
            Source::Memory(m) => m.pending.clear(),
        }
        // The reader thread's handle on the pool is gone; this drop joins the parsers.
        drop(self.pool.take());
    }
}

impl MemorySource {
    /// Frame and spawn chunks until `in_flight` are pending or the buffer is done.
    fn top_up(
        &mut self,
        pool: &ParsePool,
        parse: ParseOptions,
        stop_on_error: bool,
        cancel: &Arc<AtomicBool>,
    ) {
        while !self.ended && self.pending.len() < self.in_flight {
            let data: &[u8] = (*self.data).as_ref();
            let mut items = Vec::new();
            let progress = frame_into(
                &mut self.framer,
                data,
                &mut self.pos,
                true,
                self.chunk_size,
                &mut items,
            );
            self.ended = progress != Progress::Budget;
            if !items.is_empty() {
                self.pending.push_back(pool.spawn_chunk(
                    ChunkBytes::Shared(self.data.clone()),
                    items,
                    parse,
                    stop_on_error,
                    cancel.clone(),
                ));
            }
        }
    }
}

impl Iterator for ParallelReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            if let Some(r) = self.current.next() {
                return Some(r);
            }
            self.current = self.next_batch()?.into_iter();
        }
    }
}

impl Drop for ParallelReader {
    fn drop(&mut self) {
        self.close();
    }
}

impl std::fmt::Debug for ParallelReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelReader")
            .field("threads", &self.threads())
            .field("finished", &self.finished)
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
        assert_send::<ParsePool>();
    }

    #[test]
    fn explicit_thread_count_wins() {
        assert_eq!(thread_count(Some(3)), 3);
        assert!(thread_count(None) >= 1);
        assert!(thread_count(Some(0)) >= 1);
    }

    #[test]
    fn read_chunk_keeps_bytes_before_an_error() {
        struct Two(u8);
        impl Read for Two {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("boom"));
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        let mut buf = *b"ab--------";
        let mut filled = 2;
        let (eof, err) = read_chunk(&mut Two(2), &mut buf, &mut filled);
        assert!(!eof);
        assert!(err.is_some());
        assert_eq!(&buf[..filled], b"abxx");
    }
}
