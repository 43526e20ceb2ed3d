//! The ordered pipeline: records of a stream parsed on several threads, delivered in order.
//!
//! ```text
//!  parser threads (the consumer is one of them)       queue (at most `depth` chunks, in order)
//!  whoever is free and finds room: read 64 KiB ──▶ [Done][Done][Taken][Taken] ──pop front──▶
//!  and frame it (one thread at a time), then parse it                           next_batch()
//! ```
//!
//! There is no reader thread. A parser thread with nothing to do takes the input (one
//! thread at a time), reads and frames the next chunk (a record cut by the end of a chunk
//! is carried into the next), reserves that chunk's place at the back of the queue, lets go
//! of the input and parses the chunk itself. So a chunk's bytes are parsed on the core that
//! just read them, there are only as many threads as parsers (on two cores, a third
//! thread only took a core away from a parser, and every hand-off to it cost a wake-up
//! across cores), and with `n` threads `n - 1` are pool threads while the consumer reads
//! and parses too whenever the chunk it needs next is not done yet. Everyone waits on
//! condition variables, never by spinning. The queue holds at most `depth` chunks: memory
//! stays bounded whatever the file size and however slow the consumer.
//!
//! What a parser thread makes of a chunk is its [`Stage`]'s business: [`ParallelReader`]
//! hands the records on, [`super::ParallelMap`] a function of each.

use super::{
    frame_into, internal_error, parse_items, thread_count, Item, LiveThreads, ParsePool, Progress,
    DEFAULT_CHUNK_SIZE,
};
use crate::error::{Error, Result};
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::read::{Framer, ReaderOptions, Recovery};
use crate::iso2709::write::MAX_RECORD_LEN;
use crate::record::Record;
use std::collections::VecDeque;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Bytes shared with the pipeline without copying (a `Vec<u8>`, `Arc<[u8]>`, a memory map...).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Configuration of a [`ParallelReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelOptions {
    /// How records are parsed, and what happens after a bad one.
    pub reader: ReaderOptions,
    /// Parser threads, the consumer included; `None`: `RAYON_NUM_THREADS`, else every core.
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
    /// The default chunking with these reader options and threads.
    pub fn new(reader: ReaderOptions, threads: Option<usize>) -> Self {
        ParallelOptions {
            reader,
            threads,
            ..ParallelOptions::default()
        }
    }
}

/// The bytes a chunk's items index into.
enum ChunkBytes {
    /// A read buffer, kept by the thread that parsed it to read its next chunk into.
    Buffer(Vec<u8>),
    Shared(SharedBytes),
}

impl ChunkBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            ChunkBytes::Buffer(v) => v,
            ChunkBytes::Shared(s) => (**s).as_ref(),
        }
    }

    fn into_buffer(self) -> Option<Vec<u8>> {
        match self {
            ChunkBytes::Buffer(v) => Some(v),
            ChunkBytes::Shared(_) => None,
        }
    }
}

/// Framed records waiting to be parsed, with the bytes they lie in.
struct Chunk {
    bytes: ChunkBytes,
    items: Vec<Item>,
}

/// Which parser thread parsed a chunk: 0 is the consumer, 1.. the pool threads.
type Parser = usize;

/// What parser threads make of a chunk's framed records: the records themselves for
/// [`ParallelReader`], a caller's function of each record for [`super::ParallelMap`].
pub(super) trait Stage: Send + Sync + 'static {
    type Out: Send + 'static;
    /// How many of its parser's spare records the stage wants for a chunk of `items`.
    fn records_wanted(&self, items: usize) -> usize;
    /// Turn a chunk's items into results, in order, parsing into `spare` records where it
    /// can; what it leaves in `spare` is kept for the parser's next chunk. `scratch` is
    /// given on pool threads only: a record that never leaves the thread (see
    /// [`Local::scratch`]).
    fn run(
        &self,
        bytes: &[u8],
        items: Vec<Item>,
        cancel: &AtomicBool,
        spare: &mut Vec<Record>,
        scratch: Option<&mut Record>,
    ) -> Parsed<Self::Out>;
}

/// A chunk's results.
pub(super) struct Parsed<T> {
    pub(super) out: Vec<T>,
    /// An error ended the stream in this chunk (a [`Recovery::Stop`] reader's end).
    pub(super) ends: bool,
}

/// A panic on a parser thread, carried to the consumer.
pub(super) struct Panic {
    /// What panicked: "reading the input" or "a parser thread".
    pub(super) during: &'static str,
    pub(super) payload: Box<dyn std::any::Any + Send>,
}

/// A chunk's results, or the panic that took their place.
pub(super) type Outcome<T> = std::result::Result<Parsed<T>, Panic>;

/// A chunk's results with the parser that made them, as the consumer gets them, or the
/// panic that took their place.
pub(super) type Delivered<T> = std::result::Result<(Vec<T>, Parser), Panic>;

/// One chunk's place in the queue.
enum Slot<T> {
    /// Being read or parsed by a parser thread.
    Taken,
    Done(Outcome<T>, Parser),
}

struct Queue<T> {
    slots: VecDeque<Slot<T>>,
    /// Sequence number of `slots[0]` (chunks are numbered from 0 in file order).
    front: u64,
    /// A thread is reading the input (its chunk's slot is the last one).
    reading: bool,
    /// The input has no more chunks.
    ended: bool,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            slots: VecDeque::new(),
            front: 0,
            reading: false,
            ended: false,
        }
    }
}

/// Where chunks come from: the next chunk of framed records, or `None` once there are no
/// more. Called by one parser thread at a time, with the read buffer that thread used last
/// (if it has one) for an input that reads.
trait Input: Send {
    fn next_chunk(&mut self, cancel: &AtomicBool, buf: Option<Vec<u8>>) -> Option<Chunk>;
}

/// What is left of an input once it has ended or the pipeline is closed: the real one (a
/// file, a socket) is dropped then, not when the last thread lets go of the pipeline.
struct NoInput;

impl Input for NoInput {
    fn next_chunk(&mut self, _cancel: &AtomicBool, _buf: Option<Vec<u8>>) -> Option<Chunk> {
        None
    }
}

/// What the parser threads (the consumer among them) share.
struct Shared<S: Stage> {
    queue: Mutex<Queue<S::Out>>,
    input: Mutex<Box<dyn Input>>,
    /// The input may be read (room in the queue, no reader), or the stream ended or was
    /// cancelled: pool threads look.
    work: Condvar,
    /// A chunk is done, or the stream ended: the consumer looks.
    ready: Condvar,
    cancel: AtomicBool,
    depth: usize,
    stage: S,
    /// What each parser thread keeps for its next chunk (see [`Local`]).
    local: Vec<Mutex<Local>>,
}

/// What a parser thread reuses from one chunk to the next: its read buffer, and the records
/// it built that the consumer handed back ([`ParallelReader::recycle`]). Each thread
/// writes into memory it wrote before, still in its core's cache, rather than into memory
/// another core wrote last (every cache line of that has to come over from that core
/// first): 16% less time for two threads on a 2-core VM.
#[derive(Default)]
struct Local {
    buf: Option<Vec<u8>>,
    records: Vec<Record>,
    /// A pool thread's record to parse into first, then copy out. A recycled record's
    /// tables were last read by the consumer's core, and parsing straight into them stalls
    /// on every store that needs a line back from that core: on a 2-vCPU AMD EPYC VM a
    /// pool thread's parse took 3.5 times as long per record as the consumer's. Parsing
    /// into lines this core owns and then copying them out in one `memcpy` per table lets
    /// those transfers overlap (the 2-thread `ParallelReader` 12% faster there). The
    /// consumer parses in place: what it parses, it reads itself.
    scratch: Record,
    /// Records handed back to this parser so far. The parser takes from `records` while
    /// the consumer hands back, so only this count says exactly where a batch went.
    #[cfg(test)]
    handed_back: usize,
}

/// At most this many handed-back records are kept per parser (a few chunks' worth of ~1 KB
/// records).
const MAX_SPARE_RECORDS: usize = 512;

impl<S: Stage> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Queue<S::Out>> {
        // Nothing panics while holding the lock (parsing happens outside it).
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        // Taking the lock orders the flag before any waiter's next check.
        drop(self.lock());
        self.work.notify_all();
        self.ready.notify_all();
    }

    /// Drop the input (see [`NoInput`]).
    fn release_input(&self) {
        *self.input.lock().unwrap_or_else(|e| e.into_inner()) = Box::new(NoInput);
    }

    /// Whether a thread may read the next chunk now.
    fn can_read(&self, q: &Queue<S::Out>) -> bool {
        !q.ended && !q.reading && q.slots.len() < self.depth && !self.cancelled()
    }

    /// Read and frame the next chunk (only when [`Shared::can_read`]), then parse it here.
    /// Its slot is reserved before reading, so chunks keep their order; the input is let go
    /// of before parsing, so the next thread can read on meanwhile.
    fn read_and_parse<'a>(
        &'a self,
        mut q: MutexGuard<'a, Queue<S::Out>>,
        parser: Parser,
    ) -> MutexGuard<'a, Queue<S::Out>> {
        q.reading = true;
        let seq = q.front + q.slots.len() as u64;
        q.slots.push_back(Slot::Taken);
        drop(q);
        let buf = self.local(parser).and_then(|mut l| l.buf.take());
        let chunk = catch_unwind(AssertUnwindSafe(|| {
            let mut input = self.input.lock().unwrap_or_else(|e| e.into_inner());
            let chunk = input.next_chunk(&self.cancel, buf);
            if chunk.is_none() {
                *input = Box::new(NoInput);
            }
            chunk
        }));
        if chunk.is_err() {
            self.release_input();
        }
        let mut q = self.lock();
        q.reading = false;
        let at = seq.checked_sub(q.front).map(|at| at as usize);
        let chunk = match chunk {
            Ok(Some(chunk)) => chunk,
            end => {
                // The reserved slot is still the last one (only the reader adds slots), unless
                // closing cleared the queue.
                if at.is_some_and(|at| at + 1 == q.slots.len()) {
                    q.slots.pop_back();
                    if let Err(payload) = end {
                        let panic = Panic {
                            during: "reading the input",
                            payload,
                        };
                        q.slots.push_back(Slot::Done(Err(panic), parser));
                    }
                }
                q.ended = true;
                self.work.notify_all();
                self.ready.notify_all();
                return q;
            }
        };
        drop(q);
        // The input is free: whoever waits may read it, the consumer included (it waits on
        // `ready` for its next chunk, and reading one itself beats sleeping until then).
        self.work.notify_one();
        self.ready.notify_one();
        let out = self.parse_chunk(chunk, parser);
        let mut q = self.lock();
        if let Some(slot) = seq
            .checked_sub(q.front)
            .and_then(|at| q.slots.get_mut(at as usize))
        {
            *slot = Slot::Done(out, parser);
            self.ready.notify_one();
        }
        q
    }

    /// Parse a chunk. A panic must not leave the consumer waiting for a chunk that never
    /// comes: it is carried to the consumer in the chunk's place.
    fn parse_chunk(&self, chunk: Chunk, parser: Parser) -> Outcome<S::Out> {
        let Chunk { bytes, items } = chunk;
        let mut spare = self.take_spare(parser, self.stage.records_wanted(items.len()));
        let mut scratch = match parser {
            CONSUMER => None,
            _ => self
                .local(parser)
                .map(|mut l| std::mem::take(&mut l.scratch)),
        };
        let out = catch_unwind(AssertUnwindSafe(|| {
            self.stage.run(
                bytes.as_slice(),
                items,
                &self.cancel,
                &mut spare,
                scratch.as_mut(),
            )
        }))
        .map_err(|payload| Panic {
            during: "a parser thread",
            payload,
        });
        if let Some(mut local) = self.local(parser) {
            if let Some(buf) = bytes.into_buffer() {
                local.buf = Some(buf);
            }
            let room = MAX_SPARE_RECORDS.saturating_sub(local.records.len());
            local.records.extend(spare.into_iter().take(room));
            if let Some(scratch) = scratch {
                local.scratch = scratch;
            }
        }
        out
    }

    fn local(&self, parser: Parser) -> Option<MutexGuard<'_, Local>> {
        // Only `parser` and `recycle` take it, never while holding another lock.
        let local = self.local.get(parser)?;
        Some(local.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Up to `n` of the records `parser` built that were handed back, for parsing one chunk.
    fn take_spare(&self, parser: Parser, n: usize) -> Vec<Record> {
        let Some(mut local) = self.local(parser) else {
            return Vec::new();
        };
        let keep = local.records.len().saturating_sub(n);
        local.records.split_off(keep)
    }

    /// Pool thread: read and parse chunks ahead of the consumer while the queue has room,
    /// until the input ends or the stream is cancelled.
    fn work(&self, parser: Parser) {
        let mut q = self.lock();
        loop {
            if self.cancelled() || q.ended {
                return;
            }
            if self.can_read(&q) {
                q = self.read_and_parse(q, parser);
            } else {
                q = self.work.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    /// Consumer: the next chunk's results in order. When that chunk is not done yet and
    /// the input may be read, it reads and parses a chunk itself rather than wait. `None`
    /// at the end (or once cancelled).
    fn next_chunk(&self) -> Option<(Outcome<S::Out>, Parser)> {
        let mut q = self.lock();
        loop {
            if self.cancelled() {
                return None;
            }
            match q.slots.front() {
                Some(Slot::Done(..)) => {
                    let Some(Slot::Done(out, parser)) = q.slots.pop_front() else {
                        unreachable!("matched above")
                    };
                    q.front += 1;
                    drop(q);
                    self.work.notify_one();
                    return Some((out, parser));
                }
                None if q.ended => return None,
                _ if self.can_read(&q) => q = self.read_and_parse(q, CONSUMER),
                _ => q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

/// Read into `buf[*filled..]` until it is full or the input ends. Returns whether the input
/// ended, and the I/O error that stopped reading, if any (bytes read before it are kept).
pub(super) fn read_chunk<R: Read>(
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

/// Chunks from a `Read`: fills a buffer, frames it, hands the framed part on. Buffers are
/// zeroed once and reused (each parser thread keeps the one it parsed last), since fresh
/// megabytes for every chunk cost more in page faults than the parsing itself.
struct ReadInput<R> {
    inner: R,
    framer: Framer,
    chunk_size: usize,
    /// The start of a record cut by the end of the last chunk, for the next one.
    carry: Vec<u8>,
    done: bool,
}

impl<R: Read + Send> Input for ReadInput<R> {
    fn next_chunk(&mut self, cancel: &AtomicBool, buf: Option<Vec<u8>>) -> Option<Chunk> {
        let mut buf = buf.unwrap_or_default();
        let mut filled = self.carry.len();
        if buf.len() < filled + self.chunk_size {
            // Room for later carries too, so the buffer is sized once.
            buf.resize(self.chunk_size + filled.max(CARRY_ROOM), 0);
        }
        buf[..filled].copy_from_slice(&self.carry);
        loop {
            if self.done || cancel.load(Ordering::Relaxed) {
                return None;
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
            self.done = progress == Progress::End;
            if let Some(e) = io_error {
                if !self.done {
                    // Where the sequential reader reports it: at the first record it could
                    // not complete.
                    let (number, offset) = (self.framer.number, self.framer.offset);
                    items.push(Item::Failed(Error::from(e).located(number, offset)));
                    self.done = true;
                }
            }
            if items.is_empty() {
                // Only part of a record so far: keep it and read on.
                buf.copy_within(pos..filled, 0);
                filled -= pos;
                continue;
            }
            self.carry.clear();
            self.carry.extend_from_slice(&buf[pos..filled]);
            return Some(Chunk {
                bytes: ChunkBytes::Buffer(buf),
                items,
            });
        }
    }
}

/// Chunks of bytes in memory: framed `chunk_size` bytes at a time, no copying.
struct MemoryInput {
    data: SharedBytes,
    framer: Framer,
    chunk_size: usize,
    pos: usize,
    done: bool,
}

impl Input for MemoryInput {
    fn next_chunk(&mut self, cancel: &AtomicBool, _buf: Option<Vec<u8>>) -> Option<Chunk> {
        while !self.done && !cancel.load(Ordering::Relaxed) {
            let mut items = Vec::new();
            let progress = frame_into(
                &mut self.framer,
                (*self.data).as_ref(),
                &mut self.pos,
                true,
                self.chunk_size,
                &mut items,
            );
            self.done = progress != Progress::Budget;
            if !items.is_empty() {
                return Some(Chunk {
                    bytes: ChunkBytes::Shared(self.data.clone()),
                    items,
                });
            }
        }
        None
    }
}

/// The threads and the queue of an ordered pipeline, whatever its [`Stage`]: what
/// [`ParallelReader`] and [`super::ParallelMap`] are made of. Dropping it (or
/// [`Pipeline::close`]) stops and joins every thread; only a pool thread blocked inside the
/// underlying `read` call is waited for until that call returns.
pub(super) struct Pipeline<S: Stage> {
    shared: Arc<Shared<S>>,
    /// The `threads - 1` pool threads (none for one thread: the consumer parses alone).
    pool: Option<ParsePool>,
    threads: usize,
    finished: bool,
    live: LiveThreads,
}

impl<S: Stage> Pipeline<S> {
    /// A pipeline over a `Read`, chunks read into buffers the parser threads keep.
    pub(super) fn over_read<R: Read + Send + 'static>(
        inner: R,
        opts: &ParallelOptions,
        stage: S,
    ) -> Result<Self> {
        let input = ReadInput {
            inner,
            framer: Framer::new(opts.reader.recovery),
            chunk_size: opts.chunk_size.max(1),
            carry: Vec::new(),
            done: false,
        };
        Pipeline::start(opts, Box::new(input), stage)
    }

    /// A pipeline over bytes in memory, framed in place.
    pub(super) fn over_bytes(data: SharedBytes, opts: &ParallelOptions, stage: S) -> Result<Self> {
        let input = MemoryInput {
            data,
            framer: Framer::new(opts.reader.recovery),
            chunk_size: opts.chunk_size.max(1),
            pos: 0,
            done: false,
        };
        Pipeline::start(opts, Box::new(input), stage)
    }

    fn start(opts: &ParallelOptions, input: Box<dyn Input>, stage: S) -> Result<Self> {
        let threads = thread_count(opts.threads);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            input: Mutex::new(input),
            work: Condvar::new(),
            ready: Condvar::new(),
            cancel: AtomicBool::new(false),
            depth: opts.chunks_in_flight.unwrap_or(threads + 2).max(1),
            stage,
            local: (0..threads).map(|_| Mutex::default()).collect(),
        });
        let live = LiveThreads::default();
        let pool = if threads > 1 {
            let pool = ParsePool::with_live(Some(threads - 1), live.clone())?;
            for parser in 1..threads {
                let shared = shared.clone();
                pool.spawn(move || shared.work(parser));
            }
            Some(pool)
        } else {
            None
        };
        Ok(Pipeline {
            shared,
            pool,
            threads,
            finished: false,
            live,
        })
    }

    pub(super) fn threads(&self) -> usize {
        self.threads
    }

    pub(super) fn live_threads(&self) -> LiveThreads {
        self.live.clone()
    }

    pub(super) fn finished(&self) -> bool {
        self.finished
    }

    /// The next chunk's results in file order with the parser that made them, or the panic
    /// that took the chunk's place; `None` at the end. The end of the stream, an error that
    /// ends it, or a panic closes the pipeline.
    pub(super) fn next_chunk(&mut self) -> Option<Delivered<S::Out>> {
        loop {
            if self.finished {
                return None;
            }
            let Some((done, parser)) = self.shared.next_chunk() else {
                self.close();
                return None;
            };
            match done {
                Err(panic) => {
                    self.close();
                    return Some(Err(panic));
                }
                Ok(Parsed { out, ends }) => {
                    if ends {
                        self.close();
                    }
                    if !out.is_empty() {
                        return Some(Ok((out, parser)));
                    }
                }
            }
        }
    }

    /// What `parser` keeps for its next chunk.
    fn local(&self, parser: Parser) -> Option<MutexGuard<'_, Local>> {
        self.shared.local(parser)
    }

    /// Stop reading and parsing, and wait for every thread of this pipeline to end.
    pub(super) fn close(&mut self) {
        self.finished = true;
        self.shared.cancel();
        // Pool threads leave their loop once cancelled (one inside the input's `read` once
        // that call returns); this drop waits for them.
        drop(self.pool.take());
        self.shared.release_input();
        // Chunks still queued, and what parser threads kept for their next chunk, hold
        // buffers and records: free them now.
        self.shared.lock().slots.clear();
        for parser in 0..self.shared.local.len() {
            if let Some(mut local) = self.shared.local(parser) {
                *local = Local::default();
            }
        }
    }
}

impl<S: Stage> Drop for Pipeline<S> {
    fn drop(&mut self) {
        self.close();
    }
}

/// [`ParallelReader`]'s stage: every framed record parsed into a record of its own.
struct ReaderStage {
    parse: ParseOptions,
    stop_on_error: bool,
}

impl Stage for ReaderStage {
    type Out = Result<Record>;

    fn records_wanted(&self, items: usize) -> usize {
        items
    }

    fn run(
        &self,
        bytes: &[u8],
        items: Vec<Item>,
        cancel: &AtomicBool,
        spare: &mut Vec<Record>,
        scratch: Option<&mut Record>,
    ) -> Parsed<Result<Record>> {
        let out = parse_items(
            bytes,
            items,
            &self.parse,
            self.stop_on_error,
            cancel,
            spare,
            scratch,
        );
        // Chunks stop at their first error in Stop mode, so only the last result can be one.
        // Looked at here, where it was just written, not by the consumer on another core.
        let ends = self.stop_on_error && out.last().is_some_and(|r| r.is_err());
        Parsed { out, ends }
    }
}

/// Records of a file (or any `Read`, or a buffer) parsed on several threads, delivered in
/// file order: the same records and errors as [`crate::iso2709::Reader`] with the same
/// [`ReaderOptions`].
///
/// Iterate it for single records, or call [`ParallelReader::next_batch`] for a chunk's
/// worth at a time. Dropping it (or [`ParallelReader::close`]) stops and joins every thread;
/// only a pool thread blocked inside the underlying `read` call is waited for until that
/// call returns. When the work per record is the larger part, [`super::ParallelMap`] does it
/// on the parser threads too.
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
    current: std::vec::IntoIter<Result<Record>>,
    /// Who parsed the batches handed out by `next_batch` and not yet recycled, oldest
    /// first: `recycle` gives each batch back to its parser (assuming batches come back in
    /// the order they went out; if not, records only land in another thread's pool).
    handed_out: VecDeque<Parser>,
}

/// The consumer's parser number.
const CONSUMER: Parser = 0;

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

    fn stage(opts: &ParallelOptions) -> ReaderStage {
        ReaderStage {
            parse: opts.reader.parse,
            stop_on_error: opts.reader.recovery == Recovery::Stop,
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

    /// This pipeline's pool threads still running; zero after `close`.
    pub fn live_threads(&self) -> LiveThreads {
        self.pipe.live_threads()
    }

    /// The next batch of results in file order (one chunk's worth; records not yet taken
    /// by iteration come first), or `None` at the end.
    pub fn next_batch(&mut self) -> Option<Vec<Result<Record>>> {
        if self.current.len() > 0 {
            return Some(std::mem::take(&mut self.current).collect());
        }
        match self.pipe.next_chunk()? {
            Ok((batch, parser)) => {
                if self.handed_out.len() == MAX_HANDED_OUT {
                    self.handed_out.pop_front();
                }
                self.handed_out.push_back(parser);
                Some(batch)
            }
            Err(panic) => {
                let what = format!("{} panicked", panic.during);
                Some(vec![Err(internal_error(&what))])
            }
        }
    }

    /// Hand records back when done with them: later chunks are parsed into them, reusing
    /// their allocations instead of allocating on a parser thread and freeing on this one
    /// (what [`crate::iso2709::Reader::read_record`] does for one record, for a pipeline).
    /// Errors in `batch` are dropped; at most a few chunks' worth of records are kept.
    pub fn recycle(&mut self, batch: impl IntoIterator<Item = Result<Record>>) {
        let parser = self.handed_out.pop_front().unwrap_or(CONSUMER);
        let Some(mut local) = self.pipe.local(parser) else {
            return;
        };
        let room = MAX_SPARE_RECORDS.saturating_sub(local.records.len());
        let records = batch.into_iter().flatten();
        #[cfg(test)]
        let records = records
            .inspect(|_| local.handed_back += 1)
            .collect::<Vec<_>>();
        local.records.extend(records.into_iter().take(room));
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
                return Some(r);
            }
            self.current = self.next_batch()?.into_iter();
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
    fn handed_back_records_and_read_buffers_stay_with_their_parser() {
        let opts = ParallelOptions {
            chunk_size: 256,
            threads: Some(2),
            ..ParallelOptions::default()
        };
        let mut reader =
            ParallelReader::with_options(std::io::Cursor::new(file_of(500)), opts).unwrap();
        let mut parsers = std::collections::HashSet::new();
        let handed_back = |reader: &ParallelReader| -> Vec<usize> {
            (0..2)
                .map(|p| reader.pipe.local(p).unwrap().handed_back)
                .collect()
        };
        while let Some(batch) = reader.next_batch() {
            let parser = *reader.handed_out.back().unwrap();
            parsers.insert(parser);
            let mut expected = handed_back(&reader);
            expected[parser] += batch.len();
            reader.recycle(batch);
            assert_eq!(handed_back(&reader), expected, "batch of parser {parser}");
            assert!(reader.pipe.local(parser).unwrap().records.len() <= MAX_SPARE_RECORDS);
            assert!(reader.handed_out.is_empty());
        }
        assert!(parsers.iter().all(|&p| p < 2));
        // Reaching the end closes the reader, which frees what the parsers kept.
        assert!(reader
            .pipe
            .shared
            .local
            .iter()
            .all(|l| l.lock().unwrap().buf.is_none() && l.lock().unwrap().records.is_empty()));
    }

    #[test]
    fn a_parser_reads_into_the_buffer_it_parsed_last() {
        let mut input = ReadInput {
            inner: std::io::Cursor::new(file_of(40)),
            framer: Framer::new(Recovery::Stop),
            chunk_size: 100,
            carry: Vec::new(),
            done: false,
        };
        let cancel = AtomicBool::new(false);
        let first = input.next_chunk(&cancel, None).unwrap();
        let buf = first.bytes.into_buffer().unwrap();
        let at = buf.as_ptr();
        let second = input.next_chunk(&cancel, Some(buf)).unwrap();
        assert_eq!(second.bytes.as_slice().as_ptr(), at);
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
