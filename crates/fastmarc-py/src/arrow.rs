//! `fastmarc.to_arrow`, `to_parquet`, `from_arrow`: the core's Arrow batches handed to
//! Python through the Arrow PyCapsule interface (pyo3-arrow), so pyarrow, polars and DuckDB
//! take them without copying and without fastmarc depending on any of them; and the record
//! boundaries `fastmarc.dask` splits files at.

use crate::errors::value_error;
use crate::record::{DecodeSettings, RecordState};
use fastmarc::arrow::parquet::{compression, ParquetRecords, ParquetSink};
use fastmarc::arrow::{
    check_foreign, detail, ArrowOptions, BatchReader, BatchRecords, Layout, Nested, Projection,
};
use fastmarc::iso2709::{ParseOptions, ReaderOptions, RecordStart, Recovery};
use fastmarc::parallel::SharedBytes;
use fastmarc::{Error as CoreError, ErrorKind};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::MutexExt;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use pyo3_arrow::input::AnyRecordBatch;
use pyo3_arrow::PyTable;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Where records come from, as for `MARCReader`.
enum Source {
    Path(PathBuf),
    Bytes(SharedBytes),
}

fn source(py: Python<'_>, target: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Ok(b) = target.cast::<PyBytes>() {
        return Ok(Source::Bytes(Arc::new(PyBackedBytes::from(b.clone()))));
    }
    if let Ok(b) = target.cast::<PyByteArray>() {
        return Ok(Source::Bytes(Arc::new(PyBackedBytes::from(b.clone()))));
    }
    if let Some(path) = path_of(py, target)? {
        return Ok(Source::Path(path));
    }
    if target.hasattr("read")? {
        // A Python file is read with the GIL held: once, whole, then parsed without it.
        let mut data = target.call_method0("read")?;
        if let Ok(array) = data.cast::<PyByteArray>() {
            data = PyBytes::new(py, &array.to_vec()).into_any();
        }
        let data = data.cast_into::<PyBytes>().map_err(|_| {
            PyTypeError::new_err(
                "the file object's read() must return bytes (open it in binary mode)",
            )
        })?;
        return Ok(Source::Bytes(Arc::new(PyBackedBytes::from(data))));
    }
    if target.hasattr("tobytes")? {
        let copy = target.call_method0("tobytes")?.cast_into::<PyBytes>()?;
        return Ok(Source::Bytes(Arc::new(PyBackedBytes::from(copy))));
    }
    Err(PyTypeError::new_err(format!(
        "cannot read MARC from {}: pass a path, bytes, or a binary file object",
        target.get_type().name()?
    )))
}

/// The path `target` names, when it is a `str` or an `os.PathLike`.
fn path_of(py: Python<'_>, target: &Bound<'_, PyAny>) -> PyResult<Option<PathBuf>> {
    let os = py.import("os")?;
    if target.is_instance_of::<PyString>() || target.is_instance(&os.getattr("PathLike")?)? {
        return Ok(Some(os.call_method1("fspath", (target,))?.extract()?));
    }
    Ok(None)
}

fn open_error(path: &std::path::Path, e: &std::io::Error) -> PyErr {
    pyo3::exceptions::PyOSError::new_err((
        e.raw_os_error().unwrap_or(0),
        e.to_string(),
        path.display().to_string(),
    ))
}

/// Column name and MARCspec of each projected column.
type Columns = Option<Vec<(String, String)>>;

/// Bytes `[start, end)` of a file as one stream, which ends in an error rather than early
/// when the file turns out shorter (it changed or was cut while being read): records that
/// stop at the cut would otherwise look like the whole range.
struct Span(std::io::Take<std::fs::File>);

impl Span {
    fn open(path: &std::path::Path, start: u64, end: u64) -> std::io::Result<Span> {
        let mut file = std::fs::File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        Ok(Span(file.take(end.saturating_sub(start))))
    }
}

impl Read for Span {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        if n == 0 && !buf.is_empty() && self.0.limit() > 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the file ended {} bytes before the end of the range read",
                    self.0.limit()
                ),
            ));
        }
        Ok(n)
    }
}

fn start<L: Layout>(
    source: Source,
    range: Option<(u64, u64)>,
    opts: ArrowOptions,
    layout: L,
) -> PyResult<BatchReader> {
    let started = match (source, range) {
        (Source::Path(path), None) => {
            let file = std::fs::File::open(&path).map_err(|e| open_error(&path, &e))?;
            let meta = file.metadata().map_err(|e| open_error(&path, &e))?;
            if meta.is_dir() {
                return Err(pyo3::exceptions::PyIsADirectoryError::new_err(format!(
                    "{}: is a directory, not a file of records",
                    path.display()
                )));
            }
            let len = meta.len();
            BatchReader::new(file, opts.for_input::<L>(len), layout)
        }
        (Source::Path(path), Some((from, to))) => {
            let span = Span::open(&path, from, to).map_err(|e| open_error(&path, &e))?;
            BatchReader::new(span, opts, layout)
        }
        (Source::Bytes(_), Some(_)) => {
            return Err(PyTypeError::new_err("byte_range needs a path"));
        }
        (Source::Bytes(data), None) => BatchReader::from_shared(data, opts, layout),
    };
    started.map_err(|e| value_error(&e))
}

/// Where and how `reader` reads: a byte range of a path, and where the input starts in
/// its file (for the offsets), as a Dask partition is read; the input bytes per batch.
#[derive(Default)]
struct Part {
    range: Option<(u64, u64)>,
    first_offset: u64,
    batch_bytes: Option<usize>,
}

fn reader(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
    fields: Columns,
    threads: Option<usize>,
    permissive: bool,
    part: Part,
) -> PyResult<BatchReader> {
    // Records are parsed as MARCReader parses them (pymarc's leniency); permissive mode
    // skips a bad record and, after broken framing, resynchronises on the next record.
    let opts = ArrowOptions {
        reader: ReaderOptions {
            parse: ParseOptions {
                strict: false,
                ..ParseOptions::default()
            },
            recovery: if permissive {
                Recovery::Resync
            } else {
                Recovery::Stop
            },
        },
        threads,
        batch_bytes: part.batch_bytes,
        first_offset: part.first_offset,
    };
    // Specs are checked before any input is touched.
    let projection = match fields {
        Some(columns) => Some(Projection::new(&columns).map_err(|e| value_error(&e))?),
        None => None,
    };
    let source = source(py, target)?;
    match projection {
        Some(p) => start(source, part.range, opts, p),
        None => start(source, part.range, opts, Nested),
    }
}

/// Bad records left out in permissive mode: (record number counting from 1, byte offset,
/// what was wrong).
type Skipped = Vec<(Option<u64>, Option<u64>, String)>;

fn skipped(reader: &BatchReader) -> Skipped {
    reader
        .skipped()
        .iter()
        .map(|e| (e.record().map(|n| n + 1), e.offset(), e.kind().to_string()))
        .collect()
}

/// A failed read: OSError when the input could not be read, ValueError for bad records.
fn read_error(e: &CoreError) -> PyErr {
    match e.kind() {
        ErrorKind::Io(..) => pyo3::exceptions::PyOSError::new_err(e.to_string()),
        _ => value_error(e),
    }
}

/// Read every batch with the GIL released (and Ctrl-C heeded between batches).
fn collect(
    py: Python<'_>,
    mut reader: BatchReader,
) -> PyResult<(Vec<arrow_array::RecordBatch>, BatchReader)> {
    let mut interrupts = Interrupts::new();
    let mut interrupted = None;
    let batches = py.detach(|| {
        let mut batches = Vec::new();
        for batch in reader.by_ref() {
            if let Some(e) = interrupts.check() {
                interrupted = Some(e);
                break;
            }
            batches.push(batch?);
        }
        Ok::<_, CoreError>(batches)
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    match batches {
        Ok(b) => Ok((b, reader)),
        Err(e) => Err(read_error(&e)),
    }
}

/// The records of `source` as an Arrow table, and the bad records left out. With
/// `byte_range`, `source` is a path and only bytes `[start, end)` of it are read (a Dask
/// partition, read straight into the parser's buffers); `first_offset` is where the input
/// starts in its file, which offsets count from; `batch_bytes` overrides the input bytes
/// per record batch.
#[pyfunction]
#[pyo3(signature = (source, fields = None, threads = None, permissive = false, byte_range = None, batch_bytes = None, first_offset = 0))]
#[allow(clippy::too_many_arguments)]
pub fn arrow_table(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    fields: Columns,
    threads: Option<usize>,
    permissive: bool,
    byte_range: Option<(u64, u64)>,
    batch_bytes: Option<usize>,
    first_offset: u64,
) -> PyResult<(PyTable, Skipped)> {
    let part = Part {
        range: byte_range,
        first_offset,
        batch_bytes,
    };
    let reader = reader(py, source, fields, threads, permissive, part)?;
    let schema = reader.schema();
    let (batches, reader) = collect(py, reader)?;
    Ok((PyTable::try_new(batches, schema)?, skipped(&reader)))
}

/// Write the records of `source` to a Parquet file at `dest`; the number of records
/// written, and the bad records left out. The file is written under a temporary name and
/// takes `dest`'s place only once complete: a failure, or Ctrl-C, leaves `dest` as it was.
#[pyfunction]
#[pyo3(signature = (source, dest, fields = None, compression_name = "zstd", threads = None, permissive = false))]
#[allow(clippy::too_many_arguments)]
pub fn write_parquet(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    dest: PathBuf,
    fields: Columns,
    compression_name: &str,
    threads: Option<usize>,
    permissive: bool,
) -> PyResult<(u64, Skipped)> {
    let codec =
        compression(compression_name).map_err(|e| PyValueError::new_err(e.kind().to_string()))?;
    if let Some(path) = path_of(py, source)? {
        if fastmarc_cli::same_file(&path, &dest) {
            return Err(PyValueError::new_err(format!(
                "{}: the destination is the source file; it would be overwritten",
                dest.display()
            )));
        }
    }
    let mut reader = reader(py, source, fields, threads, permissive, Part::default())?;
    let (file, replacement) =
        fastmarc_cli::Replacement::create(&dest).map_err(|e| open_error(&dest, &e))?;
    let mut interrupts = Interrupts::new();
    let mut interrupted = None;
    let written = py.detach(|| -> Result<u64, CoreError> {
        let mut sink = ParquetSink::new(
            std::io::BufWriter::new(file),
            reader.schema(),
            codec,
            threads,
        )?;
        let mut rows = 0;
        for batch in reader.by_ref() {
            if let Some(e) = interrupts.check() {
                interrupted = Some(e);
                return Ok(rows);
            }
            let batch = batch?;
            rows += batch.num_rows() as u64;
            sink.write(&batch)?;
        }
        let mut file = sink.finish()?;
        // Dropping the buffer would lose a failure to write its last bytes.
        file.flush()?;
        Ok(rows)
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    let written = written.map_err(|e| read_error(&e))?;
    replacement.commit().map_err(|e| open_error(&dest, &e))?;
    Ok((written, skipped(&reader)))
}

/// Ctrl-C during a long read with the GIL let go. Python runs signal handlers on its main
/// thread only, so only a read there looks, and at most every tenth of a second: taking
/// the GIL back can wait for another Python thread's turn to end. A read shorter than
/// that never takes it back.
struct Interrupts {
    /// Whether this is Python's main thread, once a first look has found out.
    main_thread: Option<bool>,
    next: std::time::Instant,
}

impl Interrupts {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(100);

    fn new() -> Interrupts {
        Interrupts {
            main_thread: None,
            next: std::time::Instant::now() + Self::EVERY,
        }
    }

    /// The exception a signal's handler raised, if one came since the last look.
    fn check(&mut self) -> Option<PyErr> {
        if self.main_thread == Some(false) || std::time::Instant::now() < self.next {
            return None;
        }
        self.next = std::time::Instant::now() + Self::EVERY;
        Python::attach(|py| {
            let main = match self.main_thread {
                Some(main) => main,
                None => *self.main_thread.insert(is_main_thread(py)),
            };
            main.then(|| py.check_signals().err()).flatten()
        })
    }
}

fn is_main_thread(py: Python<'_>) -> bool {
    let threading = py.import("threading");
    let same = threading.and_then(|t| {
        let main = t.call_method0("main_thread")?;
        Ok(main.is(&t.call_method0("current_thread")?))
    });
    same.unwrap_or(false)
}

/// Rows rebuilt into records per step: a batch from pyarrow or DuckDB may be a whole row
/// group, and rebuilding all of it at once would hold every one of its records.
const ROWS_PER_STEP: usize = 1024;

/// Where `ArrowRecords` takes its records from.
enum Records {
    /// Batches from any Arrow stream: the current one and the next row to rebuild, and the
    /// rows of the batches before it (errors name a row by its place in the stream).
    Stream {
        stream: Box<dyn arrow_array::RecordBatchReader + Send>,
        batch: Option<(arrow_array::RecordBatch, usize)>,
        rows_before: u64,
    },
    /// A Parquet file, decoded on a thread of the core's.
    Parquet(ParquetRecords),
}

impl Records {
    /// The next records (`None` at the end): decoded and rebuilt with the GIL released,
    /// except a foreign stream's batches, which are fetched holding it.
    fn next_step(&mut self, py: Python<'_>) -> Option<Vec<Result<fastmarc::Record, CoreError>>> {
        match self {
            Records::Parquet(records) => py.detach(|| records.next_batch()),
            Records::Stream {
                stream,
                batch,
                rows_before,
            } => loop {
                if let Some((b, row)) = batch {
                    if *row < b.num_rows() {
                        let (start, end) = (*row, b.num_rows().min(*row + ROWS_PER_STEP));
                        *row = end;
                        let first = *rows_before;
                        return Some(py.detach(|| match BatchRecords::new(b) {
                            Ok(rows) => {
                                let rows = rows.numbered_from(first);
                                (start..end).map(|i| rows.record(i)).collect()
                            }
                            Err(e) => vec![Err(e)],
                        }));
                    }
                    *rows_before += b.num_rows() as u64;
                }
                match stream.next()? {
                    Ok(b) => {
                        if let Err(e) = py.detach(|| check_foreign(&b)) {
                            let (first, rows) = (*rows_before, b.num_rows() as u64);
                            *rows_before += rows;
                            *batch = None;
                            return Some(vec![Err(CoreError::new(ErrorKind::InvalidValue(
                                format!(
                                    "reading Arrow data: rows {first} to {}: {}",
                                    (first + rows).saturating_sub(1),
                                    detail(&e)
                                ),
                            )))]);
                        }
                        *batch = Some((b, 0));
                    }
                    Err(e) => {
                        *batch = None;
                        return Some(vec![Err(CoreError::new(ErrorKind::InvalidValue(format!(
                            "reading Arrow data: {e}"
                        ))))]);
                    }
                }
            },
        }
    }
}

/// Records rebuilt from Arrow data in the nested schema: an Arrow stream or a Parquet file.
#[pyclass(module = "fastmarc._native")]
pub struct ArrowRecords {
    state: Mutex<(
        Records,
        std::vec::IntoIter<Result<fastmarc::Record, CoreError>>,
    )>,
}

impl ArrowRecords {
    fn over(records: Records) -> Self {
        ArrowRecords {
            state: Mutex::new((records, Vec::new().into_iter())),
        }
    }
}

#[pymethods]
impl ArrowRecords {
    #[new]
    fn new(data: AnyRecordBatch) -> PyResult<Self> {
        Ok(ArrowRecords::over(Records::Stream {
            stream: data.into_reader()?,
            batch: None,
            rows_before: 0,
        }))
    }

    /// The records of a Parquet file in the nested schema, decoded on a thread of its own
    /// unless `threads` is 1.
    #[staticmethod]
    #[pyo3(signature = (path, threads = None))]
    fn parquet(path: PathBuf, threads: Option<usize>) -> PyResult<Self> {
        let records = ParquetRecords::with_threads(&path, threads).map_err(|e| value_error(&e))?;
        Ok(ArrowRecords::over(Records::Parquet(records)))
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let next = {
            // Taken with the GIL released: the holder may be waiting without it.
            let mut state = self
                .state
                .lock_py_attached(py)
                .unwrap_or_else(|e| e.into_inner());
            let (records, ready) = &mut *state;
            loop {
                if let Some(r) = ready.next() {
                    break Some(r);
                }
                match records.next_step(py) {
                    Some(step) => *ready = step.into_iter(),
                    None => break None,
                }
            }
        };
        match next {
            None => Ok(None),
            Some(Err(e)) => Err(value_error(&e)),
            Some(Ok(rec)) => {
                RecordState::from_core(py, Arc::new(rec), None, &DecodeSettings::default())?
                    .into_object(py)
                    .map(Some)
            }
        }
    }
}

/// Where the first record at or after index `from_` of `data` starts (the core's
/// `find_record_start`): its index, -1 when more bytes after `data` are needed to tell, or
/// None when no record starts there.
#[pyfunction]
#[pyo3(signature = (data, from_, at_eof))]
pub fn find_record_start(data: &[u8], from_: usize, at_eof: bool) -> Option<i64> {
    match fastmarc::iso2709::find_record_start(data, from_, at_eof) {
        RecordStart::At(q) => Some(q as i64),
        RecordStart::NeedMore => Some(-1),
        RecordStart::None => None,
    }
}
