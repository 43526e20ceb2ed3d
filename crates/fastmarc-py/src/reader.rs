//! `fastmarc.MARCReader`: pymarc's reader, with a backend chosen by input type and records
//! parsed in batches with the GIL released.
//!
//! Each refill runs in three phases: (1) with the GIL, take input from a Python file object
//! if that is the source; (2) with the GIL released, read from a Rust file if that is the
//! source, then frame and parse up to a batch of records into plain Rust values (records or
//! core errors, never a Python object or `PyErr`); (3) with the GIL, hand them out one per
//! `__next__`, converting an error into pymarc's exception only when its turn comes.

use crate::errors::to_pymarc_error;
use crate::record::{DecodeSettings, Record};
use crate::spare_records::{self, Home};
use fastmarc::iso2709::{parse_framed, Framed, Framer, ParseOptions, ReadBuffer, Recovery};
use fastmarc::parallel::ParsePool;
use fastmarc::{Error as CoreError, Record as CoreRecord};
use pyo3::exceptions::{PyRuntimeError, PyStopIteration, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::MutexExt;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMemoryView, PyString};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Records parsed per GIL release (bounded in bytes too, by the read size).
const BATCH_RECORDS: usize = 256;
/// Bytes taken from a file per read (Python `.read(n)` or Rust `read`).
const READ_SIZE: usize = 256 * 1024;

/// Base class of all readers, as in pymarc.
#[pyclass(subclass, module = "fastmarc.reader", name = "Reader")]
pub struct Reader;

#[pymethods]
impl Reader {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(
        _args: &Bound<'_, pyo3::types::PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> Self {
        Reader
    }
}

/// Frame a batch from a stream's unread bytes, which the batch shares instead of copying
/// its part (a copy of every byte read, on the consumer's thread).
fn frame_buffered(
    buf: &mut ReadBuffer,
    framer: &mut Framer,
    opts: ParseOptions,
) -> (FramedBatch, bool) {
    let raw: Raw = buf.shared().clone();
    let unread = buf.pos()..buf.bytes().len();
    let (batch, used, need) = frame_batch(framer, opts, &raw, unread, buf.is_eof());
    buf.consume(used);
    (batch, need)
}

/// Bytes that records lie in, shared by a batch's records (for parsing on any thread and
/// for `current_chunk`): a read buffer's worth, or a whole input held in memory.
type Raw = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A batch's own handle on bytes held for the whole read: the batch's records count
/// references to it, not to the input's one `Arc`, whose count parser threads and the
/// consumer would otherwise update for every record from two cores.
struct HeldPart(Raw);

impl AsRef<[u8]> for HeldPart {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

enum Source {
    /// Bytes in memory, framed and parsed in place: a `bytes` object (shared, not copied:
    /// it is immutable), or a bytearray or memoryview copied once (they can change under
    /// us).
    Memory {
        data: Raw,
        pos: usize,
    },
    /// A path: read by Rust with the GIL released.
    File {
        file: std::fs::File,
        buf: ReadBuffer,
    },
    /// A Python object with `.read()`: read with the GIL, in large pieces.
    PyFile {
        obj: Py<PyAny>,
        buf: ReadBuffer,
    },
    Closed,
}

/// One parsed record or error, with the bytes it came from (for `current_chunk`).
struct Item {
    result: Result<Arc<CoreRecord>, CoreError>,
    /// The thread that parsed it (see `spare_records`).
    home: Home,
    /// The record's number and stream offset.
    number: u64,
    offset: u64,
    /// The options it was parsed with: options set on the reader since then parse it again.
    opts: ParseOptions,
    raw: Raw,
    range: Range<usize>,
}

/// A piece of input framed but not yet parsed.
enum Entry {
    Record {
        range: Range<usize>,
        number: u64,
        offset: u64,
    },
    /// Broken framing, already an error; `range` is what pymarc would show as the chunk.
    Broken { err: CoreError, range: Range<usize> },
}

/// Framed entries and the bytes they lie in (ranges index into `raw`), which keeps every
/// record's chunk available for `current_chunk` and lets a pool thread parse them.
struct FramedBatch {
    raw: Raw,
    entries: Vec<Entry>,
    /// The reader's parse options when the batch was framed.
    opts: ParseOptions,
}

/// Phase 2 (no Python): frame up to a batch of records from `raw[unframed]`, which the batch
/// shares. Returns the batch, how many bytes were consumed, and whether the framer needs
/// more input to go on. Framing is cheap (a length and a terminator per record); parsing
/// comes after, on this thread or on a pool.
fn frame_batch(
    framer: &mut Framer,
    opts: ParseOptions,
    raw: &Raw,
    unframed: Range<usize>,
    at_eof: bool,
) -> (FramedBatch, usize, bool) {
    let at = unframed.start;
    let input = &(**raw).as_ref()[unframed];
    let mut entries = Vec::new();
    let mut consumed = 0;
    let mut need_more = false;
    while entries.len() < BATCH_RECORDS {
        match framer.next_in(input, &mut consumed, at_eof) {
            Framed::Record {
                range,
                number,
                offset,
            } => entries.push(Entry::Record {
                range,
                number,
                offset,
            }),
            Framed::Broken(err) => {
                // pymarc's current_chunk: what it read for this record.
                let rest = &input[consumed..];
                let claimed = std::str::from_utf8(&rest[..rest.len().min(5)])
                    .ok()
                    .and_then(|s| s.parse::<usize>().ok());
                let end = consumed + claimed.unwrap_or(5).max(5).min(rest.len());
                entries.push(Entry::Broken {
                    err,
                    range: consumed..end,
                });
            }
            Framed::NeedMore => {
                need_more = true;
                break;
            }
            Framed::End => break,
        }
    }
    // Ranges become positions in the shared bytes, where the input began at `at`.
    for e in &mut entries {
        match e {
            Entry::Record { range, .. } | Entry::Broken { range, .. } => {
                *range = range.start + at..range.end + at;
            }
        }
    }
    let raw = Arc::new(HeldPart(raw.clone())) as Raw;
    (FramedBatch { raw, entries, opts }, consumed, need_more)
}

thread_local! {
    /// A pool thread's record to parse into before copying out (see `parse_entries`).
    static SCRATCH: RefCell<CoreRecord> = RefCell::new(CoreRecord::new());
}

/// Phase 2 (no Python): parse a framed batch. A pool thread (`on_pool`) parses each record
/// into its scratch record and then copies it into the spare one: the spare's tables were
/// last read by the consumer's core, and stores straight into them wait for each line to
/// come back from there, where one copy per table overlaps those transfers (the core's
/// pipeline does the same, see its `Local::scratch`).
fn parse_entries(batch: FramedBatch, on_pool: bool) -> Vec<Item> {
    let opts = &batch.opts;
    let raw = batch.raw;
    let bytes = (*raw).as_ref();
    let home = spare_records::home();
    let one = |e: Entry| match e {
        Entry::Record {
            range,
            number,
            offset,
        } => {
            // Held by nobody else (see `spare_records::take`), so `make_mut` never copies.
            let mut rec = spare_records::take();
            let target = Arc::make_mut(&mut rec);
            let framed = &bytes[range.clone()];
            let result = if on_pool {
                SCRATCH.with_borrow_mut(|scratch| {
                    parse_framed(framed, number, offset, opts, scratch)
                        .map(|()| target.clone_from(scratch))
                })
            } else {
                parse_framed(framed, number, offset, opts, target)
            }
            .map(|()| rec);
            Item {
                result,
                home,
                number,
                offset,
                opts: *opts,
                raw: raw.clone(),
                range,
            }
        }
        Entry::Broken { err, range } => Item {
            home,
            number: err.record.unwrap_or(0),
            offset: err.offset.unwrap_or(0),
            opts: *opts,
            result: Err(err),
            raw: raw.clone(),
            range,
        },
    };
    let entries = batch.entries;
    entries.into_iter().map(one).collect()
}

/// A framed batch given to the pool, which the consumer parses itself if no pool thread has
/// started on it by the time it is needed (rather than wait, then read records another core
/// built).
#[derive(Clone)]
struct Job(Arc<(Mutex<JobState>, Condvar)>);

enum JobState {
    Pending(FramedBatch),
    Taken,
    Done(Vec<Item>),
    /// Parsing panicked.
    Failed,
}

impl Job {
    fn new(batch: FramedBatch) -> Job {
        Job(Arc::new((
            Mutex::new(JobState::Pending(batch)),
            Condvar::new(),
        )))
    }

    fn lock(&self) -> MutexGuard<'_, JobState> {
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pool side: the batch to parse, unless someone already took it.
    fn try_start(&self) -> Option<FramedBatch> {
        let mut st = self.lock();
        match std::mem::replace(&mut *st, JobState::Taken) {
            JobState::Pending(b) => Some(b),
            other => {
                *st = other;
                None
            }
        }
    }

    /// Pool side: parse a batch taken with `try_start`.
    fn run(&self, batch: FramedBatch) {
        let parsed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_entries(batch, true)));
        *self.lock() = parsed.map_or(JobState::Failed, JobState::Done);
        self.0 .1.notify_all();
    }

    fn is_taken(&self) -> bool {
        matches!(*self.lock(), JobState::Taken)
    }

    /// Consumer side (no Python): the parsed items, parsed here if still pending.
    fn take(&self) -> Option<Vec<Item>> {
        let mut st = self.lock();
        loop {
            match std::mem::replace(&mut *st, JobState::Taken) {
                JobState::Pending(b) => {
                    drop(st);
                    return Some(parse_entries(b, false));
                }
                JobState::Done(items) => return Some(items),
                JobState::Failed => return None,
                JobState::Taken => st = self.0 .1.wait(st).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

/// Parsing on a private pool, a few batches ahead of the consumer (bounded, so memory
/// stays a few batches whatever the consumer's speed).
struct Pipeline {
    /// Held for its threads: dropped after `Drop::drop` closes the queue, it joins them.
    _workers: ParsePool,
    shared: Arc<Jobs>,
    depth: usize,
    /// Parser threads, the consumer included.
    threads: usize,
}

/// Jobs in file order; the consumer takes the front one, pool threads the oldest pending
/// one (see `State::refill` for how the consumer helps). Pool threads wait on `wake`
/// (never spinning: an idle thread that spins takes a core from the consumer).
#[derive(Default)]
struct Jobs {
    queue: Mutex<JobQueue>,
    wake: Condvar,
}

#[derive(Default)]
struct JobQueue {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Jobs {
    fn lock(&self) -> MutexGuard<'_, JobQueue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The oldest job nobody has started on, taken.
    fn oldest_pending(&self) -> Option<(Job, FramedBatch)> {
        let q = self.lock();
        q.jobs
            .iter()
            .find_map(|job| job.try_start().map(|batch| (job.clone(), batch)))
    }

    /// Pool thread: parse the oldest pending batch, again and again, until closed.
    fn work(&self) {
        let mut q = self.lock();
        loop {
            if q.closed {
                return;
            }
            let oldest = q
                .jobs
                .iter()
                .find_map(|job| job.try_start().map(|batch| (job.clone(), batch)));
            match oldest {
                Some((job, batch)) => {
                    drop(q);
                    job.run(batch);
                    q = self.lock();
                }
                None => q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

impl Pipeline {
    fn in_flight(&self) -> usize {
        self.shared.lock().jobs.len()
    }

    /// Queue a framed batch and wake a pool thread.
    fn submit(&self, batch: FramedBatch) {
        self.shared.lock().jobs.push_back(Job::new(batch));
        self.shared.wake.notify_one();
    }

    fn next_job(&self) -> Option<Job> {
        self.shared.lock().jobs.pop_front()
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // Pool threads leave their loop; dropping the pool then waits for them.
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

/// A batch out of the source: parsed already, or framed for the pool.
enum Batch {
    Parsed(Vec<Item>),
    Framed(FramedBatch),
}

impl Batch {
    fn is_empty(&self) -> bool {
        match self {
            Batch::Parsed(items) => items.is_empty(),
            Batch::Framed(f) => f.entries.is_empty(),
        }
    }
}

/// The reader's mutable state. It sits behind a mutex so that one reader shared by several
/// threads hands each record to exactly one of them; the mutex is taken with the GIL
/// released (`lock_py_attached`), so a thread waiting for it never blocks the interpreter.
struct State {
    source: Source,
    /// pymarc's reader options, settable at any time: they apply to the records handed out
    /// after that (queued records parsed with other options are parsed again).
    settings: DecodeSettings,
    permissive: bool,
    /// The parse options `settings` make.
    opts: ParseOptions,
    file_handle: Py<PyAny>,
    framer: Framer,
    queue: VecDeque<Item>,
    chunk: Option<(Raw, Range<usize>)>,
    exception: Option<Py<PyAny>>,
    /// A framing error ended the stream.
    fatal: bool,
    /// Nothing more to frame from the source.
    input_done: bool,
    /// Reading the source failed: raised once every record read before it is handed out.
    read_error: Option<PyErr>,
    /// `Some` when parsing on several threads.
    pipeline: Option<Pipeline>,
}

/// pymarc's reader. Subclasses may take their own constructor arguments: `__new__` takes
/// any, and `__init__` (which a subclass's `__init__` calls through `super()`) opens the
/// source, as pymarc's `__init__` does.
#[pyclass(
    frozen,
    subclass,
    extends = Reader,
    module = "fastmarc.reader",
    name = "MARCReader"
)]
pub struct MARCReader {
    state: Mutex<State>,
}

/// How broken framing is handled: pymarc ends the stream (its `FatalReaderError`); a
/// permissive reader resynchronises on the next record terminator.
fn recovery(permissive: bool) -> Recovery {
    if permissive {
        Recovery::Resync
    } else {
        Recovery::SkipRecord
    }
}

impl State {
    fn new(
        source: Source,
        file_handle: Py<PyAny>,
        settings: DecodeSettings,
        permissive: bool,
        pipeline: Option<Pipeline>,
    ) -> State {
        State {
            source,
            opts: settings.parse_options(),
            settings,
            permissive,
            file_handle,
            framer: Framer::new(recovery(permissive)).with_python_lengths(),
            queue: VecDeque::new(),
            chunk: None,
            exception: None,
            fatal: false,
            input_done: false,
            read_error: None,
            pipeline,
        }
    }

    /// Change the decoding options: records handed out from now on use them.
    fn set_settings(&mut self, change: impl FnOnce(&mut DecodeSettings)) {
        change(&mut self.settings);
        self.opts = self.settings.parse_options();
    }

    fn set_permissive(&mut self, permissive: bool) {
        self.permissive = permissive;
        let was_finished = self.framer.is_finished();
        self.framer.set_recovery(recovery(permissive));
        if was_finished && !self.framer.is_finished() {
            // Broken framing had ended the stream: it goes on past the broken bytes.
            self.fatal = false;
            self.input_done = false;
        }
    }
}

impl MARCReader {
    fn state(&self, py: Python<'_>) -> MutexGuard<'_, State> {
        // A panic while parsing became a Python exception; the state is still usable.
        self.state
            .lock_py_attached(py)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Frame the next batch from the source, reading more input first if needed, and with
    /// `parse_here` parse it too, all in one release of the GIL (each release can hand the
    /// GIL to another thread, so there is one per batch, not one per step). Returns the
    /// batch, whether it was parsed, and whether the framer needs more input to go on.
    fn next_batch(&mut self, py: Python<'_>, parse_here: bool) -> PyResult<(Batch, bool)> {
        let framer = &mut self.framer;
        let opts = self.opts;
        let finish = move |batch: FramedBatch| {
            if parse_here {
                Batch::Parsed(parse_entries(batch, false))
            } else {
                Batch::Framed(batch)
            }
        };
        Ok(match &mut self.source {
            Source::Closed => return Err(PyValueError::new_err("I/O operation on closed file.")),
            Source::Memory { data, pos } => {
                let unframed = *pos..(**data).as_ref().len();
                let (batch, used) = py.detach(|| {
                    let (batch, used, _) = frame_batch(framer, opts, data, unframed, true);
                    (finish(batch), used)
                });
                *pos += used;
                (batch, false)
            }
            Source::File { file, buf } => {
                let may_read = self.read_error.is_none();
                let (batch, need, failed) = py.detach(|| {
                    let mut failed = None;
                    if may_read && buf.unread().len() < READ_SIZE && !buf.is_eof() {
                        failed = buf.read_from(file, READ_SIZE).err();
                    }
                    let (batch, need) = frame_buffered(buf, framer, opts);
                    (finish(batch), need, failed)
                });
                if let Some(e) = failed {
                    self.read_error = Some(crate::errors::os_error(&e));
                }
                (batch, need)
            }
            Source::PyFile { obj, buf } => {
                let mut got = None;
                if self.read_error.is_none() && buf.unread().len() < READ_SIZE && !buf.is_eof() {
                    match read_py(py, obj.bind(py), buf) {
                        Ok(piece) => got = piece,
                        Err(e) => self.read_error = Some(e),
                    }
                }
                // What .read() returned is appended with the GIL released: with the GIL
                // held, copying a quarter of a megabyte cost about a tenth of a
                // microsecond a record, all of it time other threads could not run.
                let piece = got.as_ref().map(Piece::as_slice);
                let (batch, need) = py.detach(|| {
                    if let Some(piece) = piece {
                        buf.push(piece);
                    }
                    let (batch, need) = frame_buffered(buf, framer, opts);
                    (finish(batch), need)
                });
                (batch, need)
            }
        })
    }

    /// Fill the queue; false when the source has nothing more. A read error is raised
    /// only once every record read before it has been queued; the next call reads again.
    fn refill(&mut self, py: Python<'_>) -> PyResult<bool> {
        loop {
            let room = self
                .pipeline
                .as_ref()
                .is_none_or(|p| p.in_flight() < p.depth);
            if room && !self.input_done {
                let parse_here = self.pipeline.is_none();
                let (batch, need_more) = self.next_batch(py, parse_here)?;
                if batch.is_empty() {
                    if need_more && self.read_error.is_none() {
                        continue;
                    }
                    // Nothing more to frame now (the input ended, or reading failed).
                    self.input_done = true;
                } else {
                    match (batch, &self.pipeline) {
                        (Batch::Parsed(items), _) => {
                            self.queue.extend(items);
                            return Ok(true);
                        }
                        (Batch::Framed(framed), Some(p)) => {
                            p.submit(framed);
                            continue;
                        }
                        (Batch::Framed(framed), None) => {
                            let items = py.detach(|| parse_entries(framed, false));
                            self.queue.extend(items);
                            return Ok(true);
                        }
                    }
                }
            }
            if let Some((job, jobs)) = self
                .pipeline
                .as_ref()
                .and_then(|p| Some((p.next_job()?, p.shared.clone())))
            {
                let items = py.detach(move || {
                    // Pool threads parse the oldest batches first, so the consumer (the
                    // slowest stage whenever Python does anything per record) rarely
                    // parses. When the pool is the slower one, its thread is still on
                    // the batch needed next: parse a later one meanwhile, not wait.
                    if job.is_taken() {
                        if let Some((later, batch)) = jobs.oldest_pending() {
                            later.run(batch);
                        }
                    }
                    job.take()
                });
                return match items {
                    Some(items) => {
                        self.queue.extend(items);
                        Ok(true)
                    }
                    None => Err(PyRuntimeError::new_err("a fastmarc parser thread failed")),
                };
            }
            if let Some(e) = self.read_error.take() {
                // As pymarc, whose next call would read again.
                self.input_done = false;
                return Err(e);
            }
            return Ok(false);
        }
    }

    fn wrap(&mut self, py: Python<'_>, mut item: Item) -> PyResult<Py<PyAny>> {
        if item.opts != self.opts {
            item = reparsed(item, self.opts);
        }
        self.chunk = Some((item.raw.clone(), item.range.clone()));
        match item.result {
            Ok(core) => {
                match Record::from_core(py, core, item.home, &self.settings) {
                    Ok(r) => r.into_object(py),
                    // Python-side decoding failed (custom encodings): a bad record, as pymarc.
                    Err(e) => {
                        self.exception = Some(e.into_value(py).into_any());
                        Ok(py.None())
                    }
                }
            }
            Err(e) => {
                // Broken framing ends a pymarc reader; a permissive one resynchronises.
                self.fatal |= e.is_framing() && !self.permissive;
                let chunk = &(*item.raw).as_ref()[item.range.clone()];
                let exception = to_pymarc_error(py, &e, chunk, item.offset).into_value(py);
                add_position_note(py, exception.bind(py).as_any(), &e);
                self.exception = Some(exception.into_any());
                Ok(py.None())
            }
        }
    }
}

/// `item` parsed again with `opts`, unless its framing was broken (nothing to parse).
fn reparsed(item: Item, opts: ParseOptions) -> Item {
    if matches!(&item.result, Err(e) if e.is_framing()) {
        return item;
    }
    let mut rec = match item.result {
        // Not shared yet, so `make_mut` below does not copy.
        Ok(rec) => rec,
        Err(_) => spare_records::take(),
    };
    let bytes = &(*item.raw).as_ref()[item.range.clone()];
    let result = parse_framed(
        bytes,
        item.number,
        item.offset,
        &opts,
        Arc::make_mut(&mut rec),
    )
    .map(|()| rec);
    Item {
        result,
        opts,
        ..item
    }
}

/// Say where the bad record is, as an exception note (PEP 678, Python 3.11+): type and
/// message stay pymarc's, and tracebacks show "record N (counting from 0), byte offset O:
/// what". Best effort: an exception that takes no notes is left as it is.
fn add_position_note(py: Python<'_>, exception: &Bound<'_, PyAny>, e: &CoreError) {
    let (Some(record), Some(offset)) = (e.record, e.offset) else {
        return;
    };
    let note = format!(
        "fastmarc: record {record} (counting from 0), byte offset {offset}: {}",
        e.kind
    );
    if exception.hasattr(intern!(py, "add_note")).unwrap_or(false) {
        let _ = exception.call_method1(intern!(py, "add_note"), (note,));
    }
}

/// What one `.read()` of a Python file returned: a `bytes` object (read without the GIL:
/// it never changes), or a copy of another buffer type.
enum Piece<'py> {
    Bytes(Bound<'py, PyBytes>),
    Copied(Vec<u8>),
}

impl Piece<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Piece::Bytes(b) => b.as_bytes(),
            Piece::Copied(v) => v,
        }
    }
}

/// Call `obj.read(READ_SIZE)` (with the GIL, as it must be) and return what it gave, to be
/// appended to `buf` by the caller; marks `buf` at its end on an empty read.
fn read_py<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    buf: &mut ReadBuffer,
) -> PyResult<Option<Piece<'py>>> {
    let got = obj.call_method1(intern!(py, "read"), (READ_SIZE,))?;
    let piece = if got.is_none() {
        // Non-blocking stream with nothing ready: treat as end, as pymarc would see b"".
        None
    } else if let Ok(b) = got.cast::<PyBytes>() {
        Some(Piece::Bytes(b.clone()))
    } else if let Ok(v) = got.extract::<Vec<u8>>() {
        Some(Piece::Copied(v))
    } else {
        return Err(PyTypeError::new_err(format!(
            "MARCReader needs a binary file: .read() returned {}, not bytes",
            got.get_type().name()?
        )));
    };
    if piece.as_ref().is_none_or(|p| p.as_slice().is_empty()) {
        buf.set_eof();
    }
    Ok(piece)
}

/// A parsing pipeline for `threads` (`None`: RAYON_NUM_THREADS, else every core); none
/// for one thread, which parses on the calling thread.
fn make_pipeline(threads: Option<usize>) -> PyResult<Option<Pipeline>> {
    let n = fastmarc::parallel::thread_count(threads);
    if n <= 1 {
        return Ok(None);
    }
    // The consumer is one of the n parser threads.
    let pool = ParsePool::new(Some(n - 1)).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let shared = Arc::new(Jobs::default());
    for _ in 0..n - 1 {
        let shared = shared.clone();
        pool.spawn(move || shared.work());
    }
    Ok(Some(Pipeline {
        _workers: pool,
        shared,
        depth: 2 * n,
        threads: n,
    }))
}

fn choose_source(py: Python<'_>, target: &Bound<'_, PyAny>) -> PyResult<(Source, Py<PyAny>)> {
    // PyBackedBytes keeps a `bytes` object alive and reads it without the GIL (its
    // contents never change), and copies a bytearray.
    let held = if let Ok(b) = target.cast::<PyBytes>() {
        Some(PyBackedBytes::from(b.clone()))
    } else if let Ok(ba) = target.cast::<PyByteArray>() {
        Some(PyBackedBytes::from(ba.clone()))
    } else if target.is_instance_of::<PyMemoryView>() {
        let copy = target.call_method0("tobytes")?.cast_into::<PyBytes>()?;
        Some(PyBackedBytes::from(copy))
    } else {
        None
    };
    if let Some(data) = held {
        let data: Raw = Arc::new(data);
        return Ok((Source::Memory { data, pos: 0 }, py.None()));
    }
    let os = py.import("os")?;
    let is_path =
        target.is_instance_of::<PyString>() || target.is_instance(&os.getattr("PathLike")?)?;
    if is_path {
        let path: std::path::PathBuf = os.call_method1("fspath", (target,))?.extract()?;
        let file = std::fs::File::open(&path).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err((
                e.raw_os_error().unwrap_or(0),
                e.to_string(),
                path.display().to_string(),
            ))
        })?;
        return Ok((
            Source::File {
                file,
                buf: ReadBuffer::default(),
            },
            py.None(),
        ));
    }
    if target.hasattr(intern!(py, "read"))? {
        return Ok((
            Source::PyFile {
                obj: target.clone().unbind(),
                buf: ReadBuffer::default(),
            },
            target.clone().unbind(),
        ));
    }
    Err(PyTypeError::new_err(format!(
        "MARCReader cannot read from {}: pass a path (str or os.PathLike), bytes, bytearray, \
         memoryview, or a binary file object with .read()",
        target.get_type().name()?
    )))
}

#[pymethods]
impl MARCReader {
    /// An unopened reader; `__init__` opens the source.
    #[new]
    #[pyo3(
        signature = (*_args, **_kwargs),
        text_signature = "(marc_target, to_unicode=True, force_utf8=False, hide_utf8_warnings=False, utf8_handling='strict', file_encoding='iso8859-1', permissive=False, threads=1)"
    )]
    fn new(
        py: Python<'_>,
        _args: &Bound<'_, pyo3::types::PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyClassInitializer<Self> {
        let state = State::new(
            Source::Closed,
            py.None(),
            DecodeSettings::default(),
            false,
            None,
        );
        PyClassInitializer::from(Reader).add_subclass(MARCReader {
            state: Mutex::new(state),
        })
    }

    #[pyo3(signature = (marc_target, to_unicode = true, force_utf8 = false, hide_utf8_warnings = false, utf8_handling = "strict".to_string(), file_encoding = "iso8859-1".to_string(), permissive = false, threads = Some(1)))]
    #[allow(clippy::too_many_arguments)]
    fn __init__(
        &self,
        py: Python<'_>,
        marc_target: &Bound<'_, PyAny>,
        to_unicode: bool,
        force_utf8: bool,
        hide_utf8_warnings: bool,
        utf8_handling: String,
        file_encoding: String,
        permissive: bool,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let (source, file_handle) = choose_source(py, marc_target)?;
        let settings = DecodeSettings {
            to_unicode,
            force_utf8,
            hide_utf8_warnings,
            utf8_handling,
            file_encoding,
        };
        let pipeline = make_pipeline(threads)?;
        let state = State::new(source, file_handle, settings, permissive, pipeline);
        // The old state (a second `__init__`) is dropped after the lock is let go.
        let _old = std::mem::replace(&mut *self.state(py), state);
        Ok(())
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut st = self.state(py);
        // As pymarc: after a fatal framing error the stream ends with the error still shown;
        // at a normal end current_chunk is the empty read.
        if st.fatal && st.queue.is_empty() {
            return Err(PyStopIteration::new_err(()));
        }
        st.chunk = None;
        st.exception = None;
        if st.queue.is_empty() && !st.refill(py)? {
            st.chunk = Some((Arc::new(Vec::new()), 0..0));
            return Err(PyStopIteration::new_err(()));
        }
        let item = st.queue.pop_front();
        if st.pipeline.is_some() {
            // The next record was most likely parsed on another core: start loading it
            // while Python works on this one, so the cross-core reads overlap Python's work.
            if let Some(Item {
                result: Ok(next), ..
            }) = st.queue.front()
            {
                next.prefetch();
            }
        }
        match item {
            Some(item) => st.wrap(py, item),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Every remaining record as a list (None for a bad record, as iteration gives),
    /// without a Python-level loop. `current_chunk`/`current_exception` describe the last.
    fn read_all<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        let mut st = self.state(py);
        loop {
            if st.fatal && st.queue.is_empty() {
                break;
            }
            if st.queue.is_empty() && !st.refill(py)? {
                break;
            }
            while let Some(item) = st.queue.pop_front() {
                st.exception = None;
                out.append(st.wrap(py, item)?)?;
            }
        }
        Ok(out)
    }

    /// Parser threads (1: parsing on the calling thread).
    #[getter]
    fn threads(&self, py: Python<'_>) -> usize {
        self.state(py).pipeline.as_ref().map_or(1, |p| p.threads)
    }

    /// The bytes of the record last returned (or that failed).
    #[getter]
    fn current_chunk<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.state(py)
            .chunk
            .as_ref()
            .map(|(raw, r)| PyBytes::new(py, &(**raw).as_ref()[r.clone()]))
    }

    /// The exception for the last record, when it was returned as None.
    #[getter]
    fn current_exception(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.state(py).exception.as_ref().map(|e| e.clone_ref(py))
    }

    #[getter]
    fn file_handle(&self, py: Python<'_>) -> Py<PyAny> {
        self.state(py).file_handle.clone_ref(py)
    }

    // pymarc's options are plain attributes, read for each record: set one and the records
    // returned from then on follow it.

    #[getter]
    fn to_unicode(&self, py: Python<'_>) -> bool {
        self.state(py).settings.to_unicode
    }

    #[setter]
    fn set_to_unicode(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = value.is_truthy()?;
        self.state(py).set_settings(|s| s.to_unicode = value);
        Ok(())
    }

    #[getter]
    fn force_utf8(&self, py: Python<'_>) -> bool {
        self.state(py).settings.force_utf8
    }

    #[setter]
    fn set_force_utf8(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = value.is_truthy()?;
        self.state(py).set_settings(|s| s.force_utf8 = value);
        Ok(())
    }

    #[getter]
    fn hide_utf8_warnings(&self, py: Python<'_>) -> bool {
        self.state(py).settings.hide_utf8_warnings
    }

    #[setter]
    fn set_hide_utf8_warnings(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = value.is_truthy()?;
        self.state(py)
            .set_settings(|s| s.hide_utf8_warnings = value);
        Ok(())
    }

    #[getter]
    fn utf8_handling(&self, py: Python<'_>) -> String {
        self.state(py).settings.utf8_handling.clone()
    }

    #[setter]
    fn set_utf8_handling(&self, py: Python<'_>, value: String) {
        self.state(py).set_settings(|s| s.utf8_handling = value);
    }

    #[getter]
    fn file_encoding(&self, py: Python<'_>) -> String {
        self.state(py).settings.file_encoding.clone()
    }

    #[setter]
    fn set_file_encoding(&self, py: Python<'_>, value: String) {
        self.state(py).set_settings(|s| s.file_encoding = value);
    }

    /// Whether broken framing (a record length that lies, a missing record terminator) is
    /// resynchronised over (`True`: one `None` for the damaged bytes, then the records after
    /// them) or ends the stream as in pymarc (`False`).
    #[getter]
    fn permissive(&self, py: Python<'_>) -> bool {
        self.state(py).permissive
    }

    #[setter]
    fn set_permissive(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = value.is_truthy()?;
        self.state(py).set_permissive(value);
        Ok(())
    }

    /// Close the source: the Python file object if one was given (as pymarc), else the
    /// file fastmarc opened. Records not yet returned are dropped.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let mut st = self.state(py);
        st.queue.clear();
        if let Source::PyFile { obj, .. } = &st.source {
            obj.bind(py).call_method0(intern!(py, "close"))?;
        }
        st.source = Source::Closed;
        // Stops and joins the parser threads.
        st.pipeline = None;
        Ok(())
    }
}
