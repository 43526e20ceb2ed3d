//! The ordered pipeline: records of a stream parsed on several threads, delivered in order.
//!
//! ```text
//!  producer thread             queue (at most `depth` chunks, file order)        consumer
//!  read 64 KiB, frame  ──push──▶ [Done][Taken][Pending][Pending] ──pop front──▶ next_batch()
//!  (blocks when full)                  ▲        │                          (parses the front
//!                                      └─parse──┘ pool threads take the     chunk itself when
//!                                                 newest pending chunk      it is still pending)
//! ```
//!
//! One producer thread reads chunks (a record cut by the end of a chunk is carried into the
//! next) and frames them with the same state machine as the sequential readers. With `n`
//! parser threads, `n - 1` are pool threads and one is the consumer itself: when the chunk it
//! needs next is still pending it parses it on the spot, instead of waiting for a pool thread
//! and then reading records another core built. Pool threads take the newest pending chunk,
//! working ahead of the consumer. Everyone waits on condition variables, never by spinning,
//! so no thread takes a core from one with work to do. The queue holds at most `depth`
//! chunks: memory stays bounded whatever the file size and however slow the consumer.

use super::{
    frame_into, internal_error, parse_items, thread_count, Item, LiveThreads, ParsePool, Progress,
    DEFAULT_CHUNK_SIZE,
};
use crate::error::{Error, Result};
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::read::{Framer, ReaderOptions, Recovery};
use crate::iso2709::write::MAX_RECORD_LEN;
use crate::record::Record;
use crossbeam_channel::{unbounded, Sender};
use std::collections::VecDeque;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Bytes shared with the pipeline without copying (a `Vec<u8>`, `Arc<[u8]>`, a memory map...).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Configuration of a [`ParallelReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParallelOptions {
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
    /// A producer buffer, sent back for reuse once parsed.
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
            // The producer may have ended; then the buffer is simply freed.
            let _ = back.send(v);
        }
    }
}

/// Framed records waiting to be parsed, with the bytes they lie in.
struct Chunk {
    bytes: ChunkBytes,
    items: Vec<Item>,
}

/// One chunk's place in the queue.
enum Slot {
    Pending(Chunk),
    /// A pool thread is parsing it.
    Taken,
    Done(Vec<Result<Record>>),
}

#[derive(Default)]
struct Queue {
    slots: VecDeque<Slot>,
    /// Sequence number of `slots[0]` (chunks are numbered from 0 in file order).
    front: u64,
    /// The producer has queued its last chunk.
    ended: bool,
    /// The producer stopped without reaching the end (it panicked); reported once.
    producer_failed: bool,
}

/// What the producer, the pool threads and the consumer share.
struct Shared {
    queue: Mutex<Queue>,
    /// A chunk is pending, or the stream ended or was cancelled: pool threads look.
    work: Condvar,
    /// A chunk is done or pending, or the stream ended: the consumer looks.
    ready: Condvar,
    /// The consumer took a chunk, or the stream was cancelled: the producer looks.
    room: Condvar,
    cancel: AtomicBool,
    depth: usize,
    parse: ParseOptions,
    stop_on_error: bool,
    /// Records the consumer handed back ([`ParallelReader::recycle`]), parsed into again.
    spare: Mutex<Vec<Record>>,
}

/// At most this many handed-back records are kept (a few chunks' worth of ~1 KB records).
const MAX_SPARE_RECORDS: usize = 1024;

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
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
        self.room.notify_all();
    }

    /// Producer: queue a chunk, waiting while the queue is full. False once cancelled.
    fn push(&self, chunk: Chunk) -> bool {
        let mut q = self.lock();
        while q.slots.len() >= self.depth && !self.cancelled() {
            q = self.room.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        if self.cancelled() {
            return false;
        }
        q.slots.push_back(Slot::Pending(chunk));
        drop(q);
        self.work.notify_one();
        self.ready.notify_one();
        true
    }

    /// Producer: no more chunks (`failed`: it did not reach the end of its input).
    fn finish(&self, failed: bool) {
        let mut q = self.lock();
        q.ended = true;
        q.producer_failed |= failed;
        drop(q);
        self.work.notify_all();
        self.ready.notify_all();
    }

    /// Parse a chunk. A panic must not leave the consumer waiting for a chunk that never
    /// comes: it becomes an error in the stream.
    fn parse_chunk(&self, chunk: Chunk) -> Vec<Result<Record>> {
        let Chunk { bytes, items } = chunk;
        let mut spare = self.take_spare(items.len());
        let out = catch_unwind(AssertUnwindSafe(|| {
            parse_items(
                bytes.as_slice(),
                items,
                &self.parse,
                self.stop_on_error,
                &self.cancel,
                &mut spare,
            )
        }))
        .unwrap_or_else(|_| vec![Err(internal_error("a parser thread panicked"))]);
        bytes.release();
        out
    }

    /// Up to `n` handed-back records, for parsing one chunk.
    fn take_spare(&self, n: usize) -> Vec<Record> {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        let keep = spare.len().saturating_sub(n);
        spare.split_off(keep)
    }

    /// Pool thread: parse the newest pending chunk, again and again, until the stream ends
    /// or is cancelled.
    fn work(&self) {
        let mut q = self.lock();
        loop {
            if self.cancelled() {
                return;
            }
            let newest = q.slots.iter().rposition(|s| matches!(s, Slot::Pending(_)));
            let Some(i) = newest else {
                if q.ended {
                    return;
                }
                q = self.work.wait(q).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let seq = q.front + i as u64;
            let Slot::Pending(chunk) = std::mem::replace(&mut q.slots[i], Slot::Taken) else {
                unreachable!("found pending above")
            };
            drop(q);
            let out = self.parse_chunk(chunk);
            q = self.lock();
            // The consumer never removes a taken chunk (cancelling aside), so it is still
            // here unless the pipeline is closing.
            if let Some(slot) = seq
                .checked_sub(q.front)
                .and_then(|at| q.slots.get_mut(at as usize))
            {
                *slot = Slot::Done(out);
                self.ready.notify_one();
            }
        }
    }

    /// Consumer: the next chunk's results in order; parses it here if no pool thread has
    /// started on it. `None` at the end (or once cancelled).
    fn next_chunk(&self) -> Option<Vec<Result<Record>>> {
        let mut q = self.lock();
        loop {
            if self.cancelled() {
                return None;
            }
            match q.slots.front() {
                Some(Slot::Done(_) | Slot::Pending(_)) => {
                    let slot = q.slots.pop_front().expect("front exists");
                    q.front += 1;
                    drop(q);
                    self.room.notify_one();
                    return Some(match slot {
                        Slot::Done(out) => out,
                        Slot::Pending(chunk) => self.parse_chunk(chunk),
                        Slot::Taken => unreachable!("matched above"),
                    });
                }
                Some(Slot::Taken) => {}
                None if q.ended => {
                    let failed = std::mem::take(&mut q.producer_failed);
                    return failed.then(|| vec![Err(internal_error("the reader thread failed"))]);
                }
                None => {}
            }
            q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Marks the producer as ended when dropped, also when its thread unwinds.
struct ProducerExit {
    shared: Arc<Shared>,
    live: LiveThreads,
    completed: bool,
}

impl ProducerExit {
    /// The producer reached the end of its input (or was cancelled): not a failure.
    fn complete(mut self) {
        self.completed = true;
    }
}

impl Drop for ProducerExit {
    fn drop(&mut self) {
        self.shared.finish(!self.completed);
        self.live.update(|c| c.readers -= 1);
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

/// Producer over a `Read`: fills chunks, frames them, queues them.
fn produce_from_read<R: Read>(
    mut inner: R,
    mut framer: Framer,
    chunk_size: usize,
    shared: &Shared,
) {
    // Chunk buffers are zeroed once and recycled by the parsers: fresh megabytes for every
    // chunk cost more in page faults than the parsing itself.
    let (recycle_tx, recycle_rx) = unbounded::<Vec<u8>>();
    let mut buf = vec![0u8; chunk_size + CARRY_ROOM];
    let mut filled = 0;
    loop {
        if shared.cancelled() {
            return;
        }
        let want = filled + chunk_size;
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let (eof, io_error) = read_chunk(&mut inner, &mut buf[..want], &mut filled);
        let mut items = Vec::new();
        let mut pos = 0;
        let progress = frame_into(
            &mut framer,
            &buf[..filled],
            &mut pos,
            eof,
            usize::MAX,
            &mut items,
        );
        let mut ended = progress == Progress::End;
        if let Some(e) = io_error {
            if !ended {
                // Where the sequential reader reports it: at the first record it could not
                // complete.
                let (number, offset) = (framer.number, framer.offset);
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
                .unwrap_or_else(|_| vec![0u8; chunk_size + CARRY_ROOM]);
            if next.len() < carry {
                next.resize(carry, 0);
            }
            next[..carry].copy_from_slice(&buf[pos..filled]);
            let bytes = std::mem::replace(&mut buf, next);
            let chunk = Chunk {
                bytes: ChunkBytes::Recycled(bytes, recycle_tx.clone()),
                items,
            };
            if !shared.push(chunk) {
                return;
            }
        }
        filled = carry;
        if ended {
            return;
        }
    }
}

/// Producer over bytes in memory: frames `chunk_size` bytes at a time, no copying.
fn produce_from_memory(data: SharedBytes, mut framer: Framer, chunk_size: usize, shared: &Shared) {
    let mut pos = 0;
    loop {
        if shared.cancelled() {
            return;
        }
        let mut items = Vec::new();
        let progress = frame_into(
            &mut framer,
            (*data).as_ref(),
            &mut pos,
            true,
            chunk_size,
            &mut items,
        );
        if !items.is_empty() {
            let chunk = Chunk {
                bytes: ChunkBytes::Shared(data.clone()),
                items,
            };
            if !shared.push(chunk) {
                return;
            }
        }
        if progress != Progress::Budget {
            return;
        }
    }
}

/// Records of a file (or any `Read`, or a buffer) parsed on several threads, delivered in
/// file order: the same records and errors as [`crate::iso2709::Reader`] with the same
/// [`ReaderOptions`].
///
/// Iterate it for single records, or call [`ParallelReader::next_batch`] for a chunk's
/// worth at a time. Dropping it (or [`ParallelReader::close`]) stops and joins every thread;
/// only a producer blocked inside the underlying `read` call is waited for until that call
/// returns.
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
    shared: Arc<Shared>,
    producer: Option<JoinHandle<()>>,
    /// The `threads - 1` pool threads (none for one thread: the consumer parses alone).
    pool: Option<ParsePool>,
    threads: usize,
    current: std::vec::IntoIter<Result<Record>>,
    finished: bool,
    live: LiveThreads,
}

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

    pub fn with_options<R: Read + Send + 'static>(
        inner: R,
        opts: ParallelOptions,
    ) -> Result<ParallelReader> {
        ParallelReader::start(opts, move |framer, chunk_size, shared| {
            produce_from_read(inner, framer, chunk_size, shared)
        })
    }

    /// A pipeline over bytes in memory: the producer frames them in place.
    pub fn from_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(
        data: B,
        opts: ReaderOptions,
        threads: Option<usize>,
    ) -> Result<ParallelReader> {
        ParallelReader::from_shared(Arc::new(data), ParallelOptions::new(opts, threads))
    }

    pub fn from_shared(data: SharedBytes, opts: ParallelOptions) -> Result<ParallelReader> {
        ParallelReader::start(opts, move |framer, chunk_size, shared| {
            produce_from_memory(data, framer, chunk_size, shared)
        })
    }

    fn start(
        opts: ParallelOptions,
        produce: impl FnOnce(Framer, usize, &Shared) + Send + 'static,
    ) -> Result<ParallelReader> {
        let threads = thread_count(opts.threads);
        let stop_on_error = opts.reader.recovery == Recovery::Stop;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            ready: Condvar::new(),
            room: Condvar::new(),
            cancel: AtomicBool::new(false),
            depth: opts.chunks_in_flight.unwrap_or(threads + 2).max(1),
            parse: opts.reader.parse,
            stop_on_error,
            spare: Mutex::new(Vec::new()),
        });
        let live = LiveThreads::default();
        let pool = if threads > 1 {
            let pool = ParsePool::with_live(Some(threads - 1), live.clone())?;
            for _ in 0..threads - 1 {
                let shared = shared.clone();
                pool.spawn(move || shared.work());
            }
            Some(pool)
        } else {
            None
        };
        let framer = Framer::new(opts.reader.recovery);
        let chunk_size = opts.chunk_size.max(1);
        live.update(|c| c.readers += 1);
        let exit = ProducerExit {
            shared: shared.clone(),
            live: live.clone(),
            completed: false,
        };
        let spawned = std::thread::Builder::new()
            .name("fastmarc-read".into())
            .spawn(move || {
                produce(framer, chunk_size, &exit.shared);
                exit.complete();
            });
        let mut reader = ParallelReader {
            shared,
            producer: None,
            pool,
            threads,
            current: Vec::new().into_iter(),
            finished: false,
            live,
        };
        match spawned {
            Ok(handle) => reader.producer = Some(handle),
            Err(e) => {
                // The closure (and its exit guard) was dropped: the stream is marked ended.
                reader.close();
                return Err(e.into());
            }
        }
        Ok(reader)
    }

    /// Number of parser threads, the consumer included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// This pipeline's threads (producer and pool threads) still running; zero after `close`.
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
            let Some(batch) = self.shared.next_chunk() else {
                self.close();
                return None;
            };
            if batch.is_empty() {
                continue;
            }
            // Chunks stop at their first error in Stop mode; the stream ends there.
            if self.shared.stop_on_error && batch.iter().any(|r| r.is_err()) {
                self.close();
            }
            return Some(batch);
        }
    }

    /// Hand records back when done with them: later chunks are parsed into them, reusing
    /// their allocations instead of allocating on a parser thread and freeing on this one
    /// (what [`crate::iso2709::Reader::read_record`] does for one record, for a pipeline).
    /// Errors in `batch` are dropped; at most a few chunks' worth of records are kept.
    pub fn recycle(&self, batch: impl IntoIterator<Item = Result<Record>>) {
        let mut spare = self.shared.spare.lock().unwrap_or_else(|e| e.into_inner());
        let room = MAX_SPARE_RECORDS.saturating_sub(spare.len());
        spare.extend(batch.into_iter().flatten().take(room));
    }

    /// Stop reading and parsing, and wait for every thread of this pipeline to end.
    /// Further calls return nothing. Called on drop.
    pub fn close(&mut self) {
        self.finished = true;
        self.current = Vec::new().into_iter();
        self.shared.cancel();
        if let Some(producer) = self.producer.take() {
            let _ = producer.join();
        }
        // Pool threads leave their loop once cancelled; this drop waits for them.
        drop(self.pool.take());
        // Chunks still queued hold recycled buffers and records: free them now.
        self.shared.lock().slots.clear();
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
            .field("threads", &self.threads)
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
