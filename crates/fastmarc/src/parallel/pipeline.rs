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
//! Its source is pulled (a `Read` or bytes in memory, read by whichever thread is free) or
//! pushed: the caller hands it bytes whenever [`Pipeline::next_chunk`] says it
//! [`Next::NeedsInput`], for a source only the caller can read.
//!
//! What a parser thread makes of a chunk is its [`Stage`]'s business: [`ParallelReader`]
//! hands the records on, [`super::ParallelMap`] a function of each.

use super::source::{
    ChunkBytes, MemorySource, NoSource, Pulled, PushSource, ReadSource, SharedBytes, Source,
};
use super::{thread_count, LiveThreads, ParsePool, Unparsed, DEFAULT_CHUNK_SIZE};
use crate::error::Result;
use crate::iso2709::buffer::ReadBuffer;
use crate::iso2709::read::{Framer, ReaderOptions, Recovery};
use crate::record::Record;
use std::collections::VecDeque;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Configuration of a [`super::ParallelReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelOptions {
    /// How records are parsed, and what happens after a bad one.
    pub reader: ReaderOptions,
    /// Parser threads, the consumer included; `None`: `RAYON_NUM_THREADS`, else every core.
    pub threads: Option<usize>,
    /// Bytes per chunk (at least 1). A chunk is also one batch of
    /// [`ParallelReader::next_batch`](super::ParallelReader::next_batch).
    pub chunk_size: usize,
    /// Chunks read ahead of the consumer; `None`: threads + 2.
    pub chunks_in_flight: Option<usize>,
    /// Give each record's raw bytes with it ([`super::Located::raw`]), for callers that
    /// show them.
    pub keep_raw: bool,
    /// Read record lengths as pymarc does (see [`Framer::with_python_lengths`]).
    pub python_lengths: bool,
    /// Where the input starts in its source (a part of a file read on its own): record
    /// offsets, in records and errors alike, count from there.
    pub first_offset: u64,
}

impl Default for ParallelOptions {
    fn default() -> Self {
        ParallelOptions {
            reader: ReaderOptions::strict(),
            threads: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunks_in_flight: None,
            keep_raw: false,
            python_lengths: false,
            first_offset: 0,
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

impl ParallelOptions {
    fn framer(&self) -> Framer {
        let framer = Framer::new(self.reader.recovery).starting_at(self.first_offset);
        if self.python_lengths {
            framer.with_python_lengths()
        } else {
            framer
        }
    }
}

/// Which parser thread parsed a chunk: 0 is the consumer, 1.. the pool threads.
pub type Parser = usize;

/// The consumer's parser number.
pub(super) const CONSUMER: Parser = 0;

/// What parser threads make of a chunk's framed records: the records themselves for
/// [`super::ParallelReader`], a caller's function of each record for [`super::ParallelMap`].
pub(super) trait Stage: Send + Sync + 'static {
    type Out: Send + 'static;
    /// How many of its parser's spare records the stage wants for a chunk of `items`.
    fn records_wanted(&self, items: usize) -> usize;
    /// Turn a chunk's items into results, in order, parsing into `spare` records where it
    /// can; what it leaves in `spare` is kept for the parser's next chunk. `scratch` is
    /// given on pool threads only: a record that never leaves the thread (see
    /// [`ParserReuse::scratch`]).
    fn run(&self, chunk: Work<'_>, spare: &mut Vec<Arc<Record>>) -> Parsed<Self::Out>;
}

/// A chunk as a [`Stage`] gets it.
pub(super) struct Work<'a> {
    pub(super) bytes: &'a mut ChunkBytes,
    pub(super) items: Vec<Unparsed>,
    pub(super) parser: Parser,
    pub(super) cancel: &'a AtomicBool,
    /// On pool threads only: a record that never leaves the thread (see [`ParserReuse::scratch`]).
    pub(super) scratch: Option<&'a mut Record>,
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

/// What the consumer gets next.
pub(super) enum Next<T> {
    Chunk(Delivered<T>),
    /// A push source needs more bytes before the next chunk can come.
    NeedsInput,
    End,
}

/// What the consumer takes from the queue.
enum FromQueue<T> {
    Chunk(Outcome<T>, Parser),
    NeedsInput,
    End,
}

/// One chunk's place in the queue.
enum Slot<T> {
    /// Being read or parsed by a parser thread.
    Taken,
    /// Framed by a pool thread while the consumer waited for it: the consumer parses it,
    /// so that its records are built on the core that reads them.
    Pending(super::source::Chunk),
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
    /// A push source has no whole record until the caller pushes more.
    starved: bool,
    /// The consumer sleeps until the front chunk is done.
    consumer_waits: bool,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            slots: VecDeque::new(),
            front: 0,
            reading: false,
            ended: false,
            starved: false,
            consumer_waits: false,
        }
    }
}

/// What the parser threads (the consumer among them) share.
struct Shared<S: Stage> {
    queue: Mutex<Queue<S::Out>>,
    /// Locked before `queue` by whoever holds both.
    source: Mutex<Box<dyn Source>>,
    /// The source may be read (room in the queue, no reader), or the stream ended or was
    /// cancelled: pool threads look.
    work: Condvar,
    /// A chunk is done, or the stream ended: the consumer looks.
    ready: Condvar,
    cancel: AtomicBool,
    depth: usize,
    stage: S,
    reuse: Arc<Reuse>,
}

/// What a parser thread reuses from one chunk to the next: the records it built that the
/// consumer handed back ([`Recycler`]). Each thread writes into memory it
/// wrote before, still in its core's cache, rather than into memory another core wrote last
/// (every cache line of that has to come over from that core first).
#[derive(Default)]
struct ParserReuse {
    /// In their `Arc`s, each held here alone: a consumer that shares records (the Python
    /// reader's record objects) takes them and gives them back without allocating one.
    records: Vec<Arc<Record>>,
    /// A pool thread's record to parse into first, then copy out. A recycled record's
    /// tables were last read by the consumer's core, and parsing straight into them stalls
    /// on every store that needs a line back from that core. Parsing into lines this core
    /// owns and then copying them out in one `memcpy` per table lets those transfers
    /// overlap. The consumer parses in place: what it parses, it reads itself.
    scratch: Record,
    /// Records handed back to this parser so far. The parser takes from `records` while
    /// the consumer hands back, so only this count says exactly where a batch went.
    #[cfg(test)]
    handed_back: usize,
}

/// Each parser thread's [`ParserReuse`], and whether the pipeline still runs.
#[derive(Default)]
struct Reuse {
    per_parser: Vec<Mutex<ParserReuse>>,
    closed: AtomicBool,
}

impl Reuse {
    fn get(&self, parser: Parser) -> Option<MutexGuard<'_, ParserReuse>> {
        // Taken by `parser` and by recycling, never while holding another lock.
        let reuse = self.per_parser.get(parser)?;
        Some(reuse.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Free what every parser kept; from now on, records handed back are freed.
    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        for parser in 0..self.per_parser.len() {
            if let Some(mut reuse) = self.get(parser) {
                *reuse = ParserReuse::default();
            }
        }
    }
}

/// At most this many handed-back records are kept per parser (a few chunks' worth of ~1 KB
/// records).
pub(super) const MAX_SPARE_RECORDS: usize = 512;

/// Gives records back to the parser thread that built them, for it to parse into again
/// (reusing their allocations instead of allocating on a parser thread and freeing on the
/// consumer's). A handle of its own, so records can come back from wherever their owner
/// lets go of them, in any order; what comes back after the pipeline closed is freed.
#[derive(Clone)]
pub struct Recycler(Arc<Reuse>);

impl Recycler {
    /// Hand `records` back to `parser` (the [`super::Located::parser`] that built them). At
    /// most a few chunks' worth are kept; the rest, and any still shared, are freed.
    pub fn give<R: Into<Arc<Record>>>(&self, parser: Parser, records: impl IntoIterator<Item = R>) {
        if self.0.closed.load(Ordering::Relaxed) {
            return;
        }
        let Some(mut reuse) = self.0.get(parser) else {
            return;
        };
        let room = MAX_SPARE_RECORDS.saturating_sub(reuse.records.len());
        let records = records
            .into_iter()
            .map(Into::into)
            .filter(|r| Arc::strong_count(r) == 1)
            .take(room);
        #[cfg(test)]
        let records = records
            .inspect(|_| reuse.handed_back += 1)
            .collect::<Vec<_>>();
        reuse.records.extend(records);
    }

    /// [`Recycler::give`] for one record: a consumer that lets go of records one at a
    /// time calls this per record. A record still shared elsewhere is let go of.
    pub fn give_one(&self, parser: Parser, record: Arc<Record>) {
        if self.0.closed.load(Ordering::Relaxed) || Arc::strong_count(&record) != 1 {
            return;
        }
        if let Some(mut reuse) = self.0.get(parser) {
            if reuse.records.len() < MAX_SPARE_RECORDS {
                #[cfg(test)]
                {
                    reuse.handed_back += 1;
                }
                reuse.records.push(record);
            }
        }
    }

    #[cfg(test)]
    pub(super) fn handed_back(&self, parser: Parser) -> usize {
        self.0.get(parser).map_or(0, |l| l.handed_back)
    }

    #[cfg(test)]
    pub(super) fn kept(&self, parser: Parser) -> usize {
        self.0.get(parser).map_or(0, |l| l.records.len())
    }
}

impl std::fmt::Debug for Recycler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recycler").finish_non_exhaustive()
    }
}

impl<S: Stage> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, Queue<S::Out>> {
        // Nothing panics while holding the lock (parsing happens outside it).
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_source(&self) -> MutexGuard<'_, Box<dyn Source>> {
        self.source.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Drop the source (see [`NoSource`]).
    fn release_source(&self) {
        *self.lock_source() = Box::new(NoSource);
    }

    /// Change the source (push bytes, end it, change its recovery), then let whoever waits
    /// for it look again.
    fn feed(&self, change: impl FnOnce(&mut dyn Source) -> bool) {
        let mut source = self.lock_source();
        let revived = change(&mut **source);
        let mut q = self.lock();
        q.starved = false;
        q.ended &= !revived;
        drop(q);
        drop(source);
        self.work.notify_all();
        self.ready.notify_all();
    }

    /// Whether a thread may read the next chunk now.
    fn can_read(&self, q: &Queue<S::Out>) -> bool {
        !q.ended && !q.reading && !q.starved && q.slots.len() < self.depth && !self.cancelled()
    }

    /// Read and frame the next chunk (only when [`Shared::can_read`]), then parse it here.
    /// Its slot is reserved before reading, so chunks keep their order; the source is let go
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
        let pulled = catch_unwind(AssertUnwindSafe(|| {
            let mut source = self.lock_source();
            match source.next_chunk(&self.cancel) {
                Pulled::Chunk(chunk) => Some(chunk),
                Pulled::Starved => {
                    // Marked while the source is held, so a push cannot come in between.
                    self.lock().starved = true;
                    None
                }
                Pulled::End => {
                    self.lock().ended = true;
                    None
                }
            }
        }));
        let mut q = self.lock();
        q.reading = false;
        let at = seq.checked_sub(q.front).map(|at| at as usize);
        let chunk = match pulled {
            Ok(Some(chunk)) => chunk,
            other => {
                // The reserved slot is still the last one (only the reader adds slots), unless
                // closing cleared the queue.
                if at.is_some_and(|at| at + 1 == q.slots.len()) {
                    q.slots.pop_back();
                    if let Err(payload) = other {
                        let panic = Panic {
                            during: "reading the input",
                            payload,
                        };
                        q.slots.push_back(Slot::Done(Err(panic), parser));
                        q.ended = true;
                    }
                }
                self.work.notify_all();
                self.ready.notify_all();
                return q;
            }
        };
        if parser != CONSUMER && q.consumer_waits && at == Some(0) {
            // The consumer waits for this very chunk: rather than have it read every record
            // from this core, let it parse them itself while this thread reads on.
            q.slots[0] = Slot::Pending(chunk);
            self.ready.notify_one();
            return q;
        }
        drop(q);
        // The source is free: whoever waits may read it, the consumer included (it waits on
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
    fn parse_chunk(&self, chunk: super::source::Chunk, parser: Parser) -> Outcome<S::Out> {
        let super::source::Chunk { mut bytes, items } = chunk;
        // The bytes go back to the source (see `ReadBuffer`) once the chunk is dropped.
        let mut spare = self.take_spare(parser, self.stage.records_wanted(items.len()));
        let mut scratch = match parser {
            CONSUMER => None,
            _ => self
                .reuse
                .get(parser)
                .map(|mut l| std::mem::take(&mut l.scratch)),
        };
        let out = catch_unwind(AssertUnwindSafe(|| {
            let work = Work {
                bytes: &mut bytes,
                items,
                parser,
                cancel: &self.cancel,
                scratch: scratch.as_mut(),
            };
            self.stage.run(work, &mut spare)
        }))
        .map_err(|payload| Panic {
            during: "a parser thread",
            payload,
        });
        if let Some(mut reuse) = self.reuse.get(parser) {
            if reuse.records.is_empty() {
                // The list goes back whole, with its capacity: no record is moved.
                spare.truncate(MAX_SPARE_RECORDS);
                std::mem::swap(&mut reuse.records, &mut spare);
            }
            let room = MAX_SPARE_RECORDS.saturating_sub(reuse.records.len());
            reuse.records.extend(spare.into_iter().take(room));
            if let Some(scratch) = scratch {
                reuse.scratch = scratch;
            }
        }
        out
    }

    /// Up to `n` of the records `parser` built that were handed back, for parsing one chunk.
    fn take_spare(&self, parser: Parser, n: usize) -> Vec<Arc<Record>> {
        let Some(mut reuse) = self.reuse.get(parser) else {
            return Vec::new();
        };
        let keep = reuse.records.len().saturating_sub(n);
        if keep == 0 {
            // All of them: the whole list, without moving a record.
            return std::mem::take(&mut reuse.records);
        }
        reuse.records.split_off(keep)
    }

    /// Pool thread: read and parse chunks ahead of the consumer while the queue has room,
    /// until the source ends or the stream is cancelled.
    fn work(&self, parser: Parser) {
        let mut q = self.lock();
        loop {
            if self.cancelled() || (q.ended && !q.reading) {
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
    /// the source may be read, it reads and parses a chunk itself rather than wait; when a
    /// push source has run dry and there is room for more, it asks the caller for input
    /// (with `drain`, only once no chunk is in flight).
    fn next_chunk(&self, drain: bool) -> FromQueue<S::Out> {
        let mut q = self.lock();
        loop {
            if self.cancelled() {
                return FromQueue::End;
            }
            match q.slots.front() {
                Some(Slot::Done(..)) => {
                    let Some(Slot::Done(out, parser)) = q.slots.pop_front() else {
                        unreachable!("matched above")
                    };
                    q.front += 1;
                    drop(q);
                    self.work.notify_one();
                    return FromQueue::Chunk(out, parser);
                }
                Some(Slot::Pending(_)) => {
                    let Some(Slot::Pending(chunk)) = q.slots.pop_front() else {
                        unreachable!("matched above")
                    };
                    // Its place is given up now: only the consumer takes from the front.
                    q.front += 1;
                    drop(q);
                    self.work.notify_one();
                    return FromQueue::Chunk(self.parse_chunk(chunk, CONSUMER), CONSUMER);
                }
                None if q.ended && !q.reading => return FromQueue::End,
                _ if q.starved
                    && !q.ended
                    && q.slots.len() < self.depth
                    && (!drain || q.slots.is_empty()) =>
                {
                    return FromQueue::NeedsInput
                }
                _ if self.can_read(&q) => q = self.read_and_parse(q, CONSUMER),
                _ => {
                    q.consumer_waits = true;
                    q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
                    q.consumer_waits = false;
                }
            }
        }
    }
}

/// Chunks in the queue at most.
fn depth_of(opts: &ParallelOptions) -> usize {
    let threads = thread_count(opts.threads);
    opts.chunks_in_flight.unwrap_or(threads + 2).max(1)
}

/// The threads and the queue of an ordered pipeline, whatever its [`Stage`]: what
/// [`super::ParallelReader`] and [`super::ParallelMap`] are made of. Dropping it (or
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
    /// A pipeline over a `Read`, read by whichever parser thread is free.
    pub(super) fn over_read<R: Read + Send + 'static>(
        inner: R,
        opts: &ParallelOptions,
        stage: S,
    ) -> Result<Self> {
        let source = ReadSource {
            inner,
            framer: opts.framer(),
            chunk_size: opts.chunk_size.max(1),
            buf: ReadBuffer::with_spares(depth_of(opts) + 1),
            done: false,
        };
        Pipeline::start(opts, Box::new(source), stage)
    }

    /// A pipeline over bytes in memory, framed in place.
    pub(super) fn over_bytes(data: SharedBytes, opts: &ParallelOptions, stage: S) -> Result<Self> {
        let source = MemorySource {
            data,
            framer: opts.framer().prefetching(),
            chunk_size: opts.chunk_size.max(1),
            pos: 0,
        };
        Pipeline::start(opts, Box::new(source), stage)
    }

    /// A pipeline over the bytes the caller pushes ([`Pipeline::push`]).
    pub(super) fn over_pushed(opts: &ParallelOptions, stage: S) -> Result<Self> {
        let source = PushSource {
            buf: ReadBuffer::default(),
            framer: opts.framer(),
            chunk_size: opts.chunk_size.max(1),
        };
        let pipe = Pipeline::start(opts, Box::new(source), stage)?;
        // Nothing to frame before the first push.
        pipe.shared.lock().starved = true;
        Ok(pipe)
    }

    fn start(opts: &ParallelOptions, source: Box<dyn Source>, stage: S) -> Result<Self> {
        let threads = thread_count(opts.threads);
        let reuse = Reuse {
            per_parser: (0..threads).map(|_| Mutex::default()).collect(),
            closed: AtomicBool::new(false),
        };
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            source: Mutex::new(source),
            work: Condvar::new(),
            ready: Condvar::new(),
            cancel: AtomicBool::new(false),
            depth: depth_of(opts),
            stage,
            reuse: Arc::new(reuse),
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

    pub(super) fn stage(&self) -> &S {
        &self.shared.stage
    }

    pub(super) fn recycler(&self) -> Recycler {
        Recycler(self.shared.reuse.clone())
    }

    /// Hand a push source more bytes.
    pub(super) fn push(&self, bytes: &[u8]) {
        self.shared.feed(|source| {
            source.push(bytes);
            false
        });
    }

    /// Tell a push source that nothing more comes.
    pub(super) fn end_input(&self) {
        self.shared.feed(|source| {
            source.end_input();
            false
        });
    }

    /// What happens after the next bad record; a stream that broken framing ended goes on
    /// once switched to [`Recovery::Resync`], unless the end was already handed out.
    pub(super) fn set_recovery(&self, recovery: Recovery) {
        self.shared.feed(|source| source.set_recovery(recovery));
    }

    /// The next chunk's results in file order with the parser that made them, or the panic
    /// that took the chunk's place. The end of the stream, an error that ends it, or a
    /// panic closes the pipeline. With `drain`, a push source asks for input only once
    /// every chunk in flight is handed out.
    pub(super) fn next_chunk(&mut self, drain: bool) -> Next<S::Out> {
        loop {
            if self.finished {
                return Next::End;
            }
            let (done, parser) = match self.shared.next_chunk(drain) {
                FromQueue::Chunk(done, parser) => (done, parser),
                FromQueue::NeedsInput => return Next::NeedsInput,
                FromQueue::End => {
                    self.close();
                    return Next::End;
                }
            };
            match done {
                Err(panic) => {
                    self.close();
                    return Next::Chunk(Err(panic));
                }
                Ok(Parsed { out, ends }) => {
                    if ends {
                        self.close();
                    }
                    if !out.is_empty() {
                        return Next::Chunk(Ok((out, parser)));
                    }
                }
            }
        }
    }

    /// Stop reading and parsing, and wait for every thread of this pipeline to end.
    pub(super) fn close(&mut self) {
        self.finished = true;
        self.shared.cancel();
        // Pool threads leave their loop once cancelled (one inside the source's `read` once
        // that call returns); this drop waits for them.
        drop(self.pool.take());
        self.shared.release_source();
        // Chunks still queued, and what parser threads kept for their next chunk, hold
        // buffers and records: free them now.
        self.shared.lock().slots.clear();
        self.shared.reuse.close();
    }
}

impl<S: Stage> Drop for Pipeline<S> {
    fn drop(&mut self) {
        self.close();
    }
}
