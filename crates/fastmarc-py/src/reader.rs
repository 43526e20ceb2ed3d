//! `fastmarc.MARCReader`: pymarc's reader on the core's parallel pipeline
//! (`fastmarc::parallel::ParallelReader`), with the source chosen by input type.
//!
//! A path, `bytes` and a plain binary file (`open(path, "rb")`, through its descriptor) are
//! read by the pipeline itself; any other Python file object is read here and pushed.
//! Each refill runs in three phases: (1) with the GIL, `.read(n)` from a Python file
//! object when the pipeline asks for input; (2) with the GIL released, push what was read
//! and take the next records from the pipeline (plain Rust values: records or core
//! errors, never a Python object or `PyErr`); (3) with the GIL, hand them out one per
//! `__next__`, converting an error into pymarc's exception only when its turn comes.

use crate::errors::to_pymarc_error;
use crate::record::{DecodeSettings, RecordState};
use crate::threads::Threads;
use fastmarc::iso2709::{ParseOptions, ReaderOptions, Recovery};
use fastmarc::parallel::{
    Located, ParallelOptions, ParallelReader, Parser, Polled, RawBytes, Recycler,
};
use fastmarc::{Error as CoreError, ErrorKind, Record as CoreRecord};
use pyo3::exceptions::{PyRuntimeError, PyStopIteration, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::MutexExt;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMemoryView, PyString};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes taken from a Python file object per `.read(n)`: one call with the GIL for many
/// records.
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

/// The pipeline's recycler as a Python object, which every record from the reader refers
/// to: with the GIL, Python counts those references without atomic operations, where an
/// `Arc` clone and drop per record would cost two.
#[pyclass(frozen, module = "fastmarc.reader")]
pub struct RecordHome(Recycler);

/// Where a record handed to Python was parsed: its core record goes back there, through
/// the pipeline's recycler, once Python lets go of it.
pub struct Home {
    recycler: Py<RecordHome>,
    parser: Parser,
}

impl Home {
    /// Hand `core` back to the thread that parsed it, unless another holder shares it.
    pub fn give_back(&self, core: Arc<CoreRecord>) {
        self.recycler.get().0.give_one(self.parser, core);
    }

    pub fn clone_ref(&self, py: Python<'_>) -> Home {
        Home {
            recycler: self.recycler.clone_ref(py),
            parser: self.parser,
        }
    }
}

/// The error a failed `read` of a file left, with its errno (the core error keeps only
/// its text).
type LastIoError = Arc<Mutex<Option<std::io::Error>>>;

/// A file that remembers its last read error (see [`LastIoError`]).
struct File {
    inner: std::fs::File,
    failed: LastIoError,
    /// Where to read next, for the descriptor of a Python file object: read there with
    /// `pread`, which leaves the descriptor's own offset (shared with the object's) alone.
    at: Option<Arc<AtomicU64>>,
}

impl File {
    fn read_here(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &self.at {
            #[cfg(unix)]
            Some(at) => {
                use std::os::unix::fs::FileExt;
                let from = at.load(Ordering::Relaxed);
                let n = self.inner.read_at(buf, from)?;
                at.store(from + n as u64, Ordering::Relaxed);
                Ok(n)
            }
            _ => self.inner.read(buf),
        }
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_here(buf).inspect_err(|e| {
            let copy = match e.raw_os_error() {
                Some(errno) => std::io::Error::from_raw_os_error(errno),
                None => std::io::Error::new(e.kind(), e.to_string()),
            };
            *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(copy);
        })
    }
}

/// Where the pipeline's bytes come from.
enum Input {
    /// A path, read by the pipeline; its read error, if any.
    File(LastIoError),
    /// Bytes in memory, framed in place.
    Memory,
    /// A Python object with `.read()`: read here with the GIL, in large pieces, and pushed.
    PyFile(Py<PyAny>),
    /// A Python binary file (`open(path, "rb")`): its descriptor is read by the pipeline,
    /// from the object's position on, without the GIL; the object is moved to where the
    /// reading got (as its own reads would have moved it) around each refill.
    Descriptor {
        obj: Py<PyAny>,
        at: Arc<AtomicU64>,
        failed: LastIoError,
    },
}

impl Input {
    /// The Python file object given, if any.
    fn py_file(&self) -> Option<&Py<PyAny>> {
        match self {
            Input::PyFile(obj) | Input::Descriptor { obj, .. } => Some(obj),
            _ => None,
        }
    }

    /// Move a file object whose descriptor the pipeline reads to where the reading got:
    /// a closed one raises `ValueError` here, before anything more is read.
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        if let Input::Descriptor { obj, at, .. } = self {
            let obj = obj.bind(py);
            if obj.getattr(intern!(py, "closed"))?.is_truthy()? {
                // The error reading it would raise, as pymarc's reader reads it.
                obj.call_method1(intern!(py, "read"), (0,))?;
            }
            obj.call_method1(intern!(py, "seek"), (at.load(Ordering::Relaxed),))?;
        }
        Ok(())
    }
}

/// What `current_chunk` shows.
enum Chunk {
    None,
    /// The empty read at the end of the stream.
    End,
    Record(RawBytes),
}

/// The reader's mutable state. It sits behind a mutex so that one reader shared by several
/// threads hands each record to exactly one of them; the mutex is taken with the GIL
/// released (`lock_py_attached`), so a thread waiting for it never blocks the interpreter.
struct State {
    /// `None` before `__init__` and after `close`.
    pipeline: Option<ParallelReader>,
    /// The pipeline's recycler, for the records handed out.
    home: Option<Py<RecordHome>>,
    input: Input,
    /// pymarc's reader options, settable at any time: they apply to the records handed out
    /// after that (records parsed with other options are parsed again).
    settings: DecodeSettings,
    permissive: bool,
    /// The parse options `settings` make.
    opts: ParseOptions,
    file_handle: Py<PyAny>,
    /// The chunk being handed out (the pipeline's own batch: not copied into a queue).
    queue: std::vec::IntoIter<Located>,
    chunk: Chunk,
    exception: Option<Py<PyAny>>,
    /// A framing error ended the stream.
    fatal: bool,
    /// A Python file's `.read()` failed: raised once every record read before it is handed
    /// out; the call after that reads again, as pymarc's would.
    read_error: Option<PyErr>,
    /// The process that made the pipeline: a child `fork()`ed from it has none of its
    /// parser threads.
    pid: u32,
}

impl Drop for State {
    fn drop(&mut self) {
        self.let_go_of_pipeline();
    }
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

/// Bytes per chunk: with one thread, larger chunks spread the pipeline's per-chunk work
/// over more records (no other core reads them, so staying in cache between cores does
/// not matter); with more, the core's default.
fn chunk_size(threads: Option<usize>) -> usize {
    match fastmarc::internal::thread_count(threads) {
        1 => 256 * 1024,
        _ => fastmarc::parallel::DEFAULT_CHUNK_SIZE,
    }
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
    fn new(settings: DecodeSettings, permissive: bool, file_handle: Py<PyAny>) -> State {
        State {
            pipeline: None,
            home: None,
            input: Input::Memory,
            opts: settings.parse_options(),
            settings,
            permissive,
            file_handle,
            queue: Vec::new().into_iter(),
            chunk: Chunk::None,
            exception: None,
            fatal: false,
            read_error: None,
            pid: std::process::id(),
        }
    }

    /// Whether this is a child forked from the process that made the pipeline while the
    /// pipeline had parser threads, which the child does not have.
    fn forked_from_threads(&self) -> bool {
        self.pipeline.as_ref().is_some_and(|p| p.threads() > 1) && std::process::id() != self.pid
    }

    /// Stop the pipeline and join its parser threads; in a forked child, whose copy of the
    /// pipeline waits for threads that are not there, leave it be.
    fn let_go_of_pipeline(&mut self) {
        if self.forked_from_threads() {
            std::mem::forget(self.pipeline.take());
        }
        self.pipeline = None;
    }

    /// Change the decoding options: records handed out from now on use them.
    fn set_settings(&mut self, change: impl FnOnce(&mut DecodeSettings)) {
        change(&mut self.settings);
        self.opts = self.settings.parse_options();
        if let Some(p) = &self.pipeline {
            p.set_parse_options(self.opts);
        }
    }

    fn set_permissive(&mut self, permissive: bool) {
        self.permissive = permissive;
        if let Some(p) = &self.pipeline {
            // Broken framing that ended the stream is resynchronised over from now on.
            p.set_recovery(recovery(permissive));
        }
        self.fatal &= !permissive;
    }

    /// Take the next records from the pipeline (the queue is empty); false at the end. Phase 1
    /// (reading a Python file) runs here with the GIL; phase 2 (pushing what it gave and
    /// taking records) with the GIL released, one release per batch.
    fn refill(&mut self, py: Python<'_>) -> PyResult<bool> {
        if self.forked_from_threads() {
            return Err(PyRuntimeError::new_err(format!(
                "fastmarc: this MARCReader parses on {} threads of the process that made it, \
                 and threads do not survive fork(): make the reader after forking, or pass \
                 threads=1",
                self.pipeline.as_ref().map_or(1, |p| p.threads())
            )));
        }
        let State {
            pipeline,
            input,
            read_error,
            queue,
            ..
        } = self;
        let Some(pipeline) = pipeline else {
            return Err(PyValueError::new_err("I/O operation on closed file."));
        };
        input.sync(py)?;
        let mut piece = None;
        loop {
            let drain = read_error.is_some();
            let got = piece.as_ref().map(Piece::as_slice);
            let polled = py.detach(|| {
                match got {
                    Some([]) => pipeline.end_input(),
                    Some(bytes) => pipeline.push(bytes),
                    None => {}
                }
                if drain {
                    pipeline.poll_in_flight()
                } else {
                    pipeline.poll()
                }
            });
            match polled {
                Polled::Batch(batch) => {
                    *queue = batch.into_iter();
                    input.sync(py)?;
                    return Ok(true);
                }
                Polled::End => {
                    input.sync(py)?;
                    return Ok(false);
                }
                Polled::NeedsInput => {
                    if let Some(e) = read_error.take() {
                        return Err(e);
                    }
                    let Input::PyFile(obj) = &*input else {
                        return Ok(false);
                    };
                    match read_py(py, obj.bind(py)) {
                        Ok(p) => piece = Some(p),
                        Err(e) => {
                            piece = None;
                            *read_error = Some(e);
                        }
                    }
                }
            }
        }
    }

    /// Phase 3: the next record as a Python object, or `None` with `current_exception` set.
    fn wrap(&mut self, py: Python<'_>, mut item: Located) -> PyResult<Py<PyAny>> {
        item.reparse(self.opts);
        let Located {
            result,
            offset,
            parser,
            raw,
            ..
        } = item;
        self.chunk = raw.map_or(Chunk::None, Chunk::Record);
        match result {
            Ok(core) => {
                let home = self.home.as_ref().map(|h| Home {
                    recycler: h.clone_ref(py),
                    parser,
                });
                match RecordState::from_core(py, core, home, &self.settings) {
                    Ok(r) => r.into_object(py),
                    // Python-side decoding failed (custom encodings): a bad record, as pymarc.
                    Err(e) => {
                        self.exception = Some(e.into_value(py).into_any());
                        Ok(py.None())
                    }
                }
            }
            Err(e) => {
                if let ErrorKind::Io(_, message) = e.kind() {
                    return Err(self.io_error(message));
                }
                // Broken framing ends a pymarc reader; a permissive one resynchronises.
                self.fatal |= e.is_framing() && !self.permissive;
                let chunk = match &self.chunk {
                    Chunk::Record(raw) => raw.bytes(),
                    _ => &[],
                };
                let exception = to_pymarc_error(py, &e, chunk, offset).into_value(py);
                add_position_note(py, exception.bind(py).as_any(), &e);
                self.exception = Some(exception.into_any());
                Ok(py.None())
            }
        }
    }

    /// A failed read of a path as Python's OSError (errno kept); anything else the
    /// pipeline reports as I/O (a panicked parser thread) as a RuntimeError.
    fn io_error(&self, message: &str) -> PyErr {
        let failed = match &self.input {
            Input::File(failed) | Input::Descriptor { failed, .. } => {
                failed.lock().unwrap_or_else(|p| p.into_inner()).take()
            }
            _ => None,
        };
        match failed {
            Some(e) => crate::errors::os_error(&e),
            None => PyRuntimeError::new_err(format!("fastmarc: {message}")),
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

/// Say where the bad record is, as an exception note (PEP 678, Python 3.11+): type and
/// message stay pymarc's, and tracebacks show "record N (counting from 0), byte offset O:
/// what". Best effort: an exception that takes no notes is left as it is.
fn add_position_note(py: Python<'_>, exception: &Bound<'_, PyAny>, e: &CoreError) {
    let (Some(record), Some(offset)) = (e.record(), e.offset()) else {
        return;
    };
    let note = format!(
        "fastmarc: record {record} (counting from 0), byte offset {offset}: {}",
        e.kind()
    );
    if exception.hasattr(intern!(py, "add_note")).unwrap_or(false) {
        let _ = exception.call_method1(intern!(py, "add_note"), (note,));
    }
}

/// What one `.read()` of a Python file returned: a `bytes` object (read without the GIL:
/// it never changes), or a copy of another buffer type; empty at the end.
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

/// Phase 1: call `obj.read(READ_SIZE)` (with the GIL, as it must be) and return what it
/// gave, for the pipeline to take with the GIL released.
fn read_py<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Piece<'py>> {
    let got = obj.call_method1(intern!(py, "read"), (READ_SIZE,))?;
    if got.is_none() {
        // Non-blocking stream with nothing ready: treat as end, as pymarc would see b"".
        Ok(Piece::Copied(Vec::new()))
    } else if let Ok(b) = got.cast::<PyBytes>() {
        Ok(Piece::Bytes(b.clone()))
    } else if let Ok(v) = got.extract::<Vec<u8>>() {
        Ok(Piece::Copied(v))
    } else {
        Err(PyTypeError::new_err(format!(
            "MARCReader needs a binary file: .read() returned {}, not bytes",
            got.get_type().name()?
        )))
    }
}

/// The size of `file` when it is a regular file (a pipe or a device has none to tell).
fn regular_file_size(file: &std::fs::File) -> Option<u64> {
    file.metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// A duplicate of the descriptor of `target`, `target`'s position and the file's size,
/// when `target` is exactly what `open(path, "rb")` gives for a regular file (an
/// `io.BufferedReader` over an `io.FileIO`, or with `buffering=0` the `io.FileIO`): its
/// bytes are then read without a `.read()` call, a `bytes` object and a copy per piece.
/// Anything else, a subclass or a wrapper included (a `gzip` file's descriptor is its
/// compressed file), is read through `.read()`.
#[cfg(unix)]
fn plain_file(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
) -> PyResult<Option<(std::fs::File, u64, u64)>> {
    use std::os::fd::BorrowedFd;
    let io = py.import("io")?;
    let file_io = io.getattr("FileIO")?;
    let raw = if target.get_type().is(&io.getattr("BufferedReader")?) {
        target.getattr(intern!(py, "raw"))?
    } else if target.get_type().is(&file_io) {
        target.clone()
    } else {
        return Ok(None);
    };
    if !raw.get_type().is(&file_io) || raw.getattr("closed")?.is_truthy()? {
        return Ok(None);
    }
    let fd: std::os::fd::RawFd = raw.call_method0("fileno")?.extract()?;
    // SAFETY: `raw` is open, so `fd` is its descriptor, valid for this call; the duplicate
    // made from it is ours, closed when the pipeline lets go of the file.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let Ok(dup) = borrowed.try_clone_to_owned() else {
        return Ok(None);
    };
    let file = std::fs::File::from(dup);
    let Some(size) = regular_file_size(&file) else {
        return Ok(None);
    };
    let position: u64 = target.call_method0(intern!(py, "tell"))?.extract()?;
    Ok(Some((file, position, size)))
}

#[cfg(not(unix))]
fn plain_file(
    _py: Python<'_>,
    _target: &Bound<'_, PyAny>,
) -> PyResult<Option<(std::fs::File, u64, u64)>> {
    Ok(None)
}

/// The pipeline for `target` and where its bytes come from: a path or bytes are read by
/// the pipeline itself, a file object is pushed (see [`State::refill`]). `options` gives
/// the pipeline's options for the threads chosen, which depend on how much there is to read.
fn open_pipeline(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
    threads: Threads,
    options: impl Fn(Option<usize>) -> ParallelOptions,
) -> PyResult<(ParallelReader, Input)> {
    let started = |r: fastmarc::Result<ParallelReader>| {
        r.map_err(|e| PyRuntimeError::new_err(format!("fastmarc: {e}")))
    };
    let opts = |size: Option<u64>| threads.resolve(py, size).map(&options);
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
        let opts = opts(Some(data.len() as u64))?;
        let pipeline = started(ParallelReader::from_shared(Arc::new(data), opts))?;
        return Ok((pipeline, Input::Memory));
    }
    let os = py.import("os")?;
    let is_path =
        target.is_instance_of::<PyString>() || target.is_instance(&os.getattr("PathLike")?)?;
    if is_path {
        let path: std::path::PathBuf = os.call_method1("fspath", (target,))?.extract()?;
        let inner = std::fs::File::open(&path).map_err(|e| {
            pyo3::exceptions::PyOSError::new_err((
                e.raw_os_error().unwrap_or(0),
                e.to_string(),
                path.display().to_string(),
            ))
        })?;
        let opts = opts(regular_file_size(&inner))?;
        let failed = LastIoError::default();
        let file = File {
            inner,
            failed: failed.clone(),
            at: None,
        };
        let pipeline = started(ParallelReader::with_options(file, opts))?;
        return Ok((pipeline, Input::File(failed)));
    }
    if let Some((inner, position, size)) = plain_file(py, target)? {
        let opts = opts(Some(size.saturating_sub(position)))?;
        let (failed, at) = (LastIoError::default(), Arc::new(AtomicU64::new(position)));
        let file = File {
            inner,
            failed: failed.clone(),
            at: Some(at.clone()),
        };
        let pipeline = started(ParallelReader::with_options(file, opts))?;
        let obj = target.clone().unbind();
        return Ok((pipeline, Input::Descriptor { obj, at, failed }));
    }
    if target.hasattr(intern!(py, "read"))? {
        let pipeline = started(ParallelReader::pushed(opts(None)?))?;
        return Ok((pipeline, Input::PyFile(target.clone().unbind())));
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
        text_signature = "(marc_target, to_unicode=True, force_utf8=False, hide_utf8_warnings=False, utf8_handling='strict', file_encoding='iso8859-1', permissive=False, threads='auto')"
    )]
    fn new(
        py: Python<'_>,
        _args: &Bound<'_, pyo3::types::PyTuple>,
        _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyClassInitializer<Self> {
        let state = State::new(DecodeSettings::default(), false, py.None());
        PyClassInitializer::from(Reader).add_subclass(MARCReader {
            state: Mutex::new(state),
        })
    }

    #[pyo3(signature = (marc_target, to_unicode = true, force_utf8 = false, hide_utf8_warnings = false, utf8_handling = "strict".to_string(), file_encoding = "iso8859-1".to_string(), permissive = false, threads = Threads::Auto))]
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
        threads: Threads,
    ) -> PyResult<()> {
        let settings = DecodeSettings {
            to_unicode,
            force_utf8,
            hide_utf8_warnings,
            utf8_handling,
            file_encoding,
        };
        let parse = settings.parse_options();
        let opts = |threads| ParallelOptions {
            reader: ReaderOptions {
                parse,
                recovery: recovery(permissive),
            },
            threads,
            chunk_size: chunk_size(threads),
            // For current_chunk, and to parse again under options set later.
            keep_raw: true,
            python_lengths: true,
            ..ParallelOptions::default()
        };
        let (pipeline, input) = open_pipeline(py, marc_target, threads, opts)?;
        let mut state = State::new(settings, permissive, py.None());
        if let Some(obj) = input.py_file() {
            state.file_handle = obj.clone_ref(py);
        }
        state.home = Some(Py::new(py, RecordHome(pipeline.recycler()))?);
        state.pipeline = Some(pipeline);
        state.input = input;
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
        if st.fatal && st.queue.len() == 0 {
            return Err(PyStopIteration::new_err(()));
        }
        st.chunk = Chunk::None;
        st.exception = None;
        if st.queue.len() == 0 && !st.refill(py)? {
            st.chunk = Chunk::End;
            return Err(PyStopIteration::new_err(()));
        }
        let item = st.queue.next();
        if st.pipeline.as_ref().is_some_and(|p| p.threads() > 1) {
            // The next record was most likely parsed on another core: start loading it
            // while Python works on this one, so the cross-core reads overlap Python's work.
            if let Some(Located {
                result: Ok(next), ..
            }) = st.queue.as_slice().first()
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
            if st.fatal && st.queue.len() == 0 {
                break;
            }
            if st.queue.len() == 0 && !st.refill(py)? {
                break;
            }
            while let Some(item) = st.queue.next() {
                st.exception = None;
                out.append(st.wrap(py, item)?)?;
            }
        }
        Ok(out)
    }

    /// Parser threads (1: parsing on the calling thread).
    #[getter]
    fn threads(&self, py: Python<'_>) -> usize {
        self.state(py).pipeline.as_ref().map_or(1, |p| p.threads())
    }

    /// The bytes of the record last returned (or that failed).
    #[getter]
    fn current_chunk<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        match &self.state(py).chunk {
            Chunk::None => None,
            Chunk::End => Some(PyBytes::new(py, b"")),
            Chunk::Record(raw) => Some(PyBytes::new(py, raw.bytes())),
        }
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
        st.queue = Vec::new().into_iter();
        if let Some(obj) = st.input.py_file() {
            obj.bind(py).call_method0(intern!(py, "close"))?;
        }
        st.let_go_of_pipeline();
        Ok(())
    }
}
