//! `MARCWriter(path)`: records written to a file fastmarc opens itself, serialised and
//! written in batches with the GIL released.
//!
//! A writer given a Python file object must call its `.write()` for every record, with the
//! GIL, and serialising one record takes about a microsecond: releasing the GIL for so
//! little hands it to another thread and back at every record, and threads writing files
//! then run no faster together than alone. When fastmarc owns the file, nobody can look at
//! it between two `write()` calls anyway (as with any buffered file), so records are taken
//! as they come (the parsed record itself, no copy) and serialised and written a batch at
//! a time in one release of the GIL. `flush()` and `close()` write what is pending; so does
//! dropping the writer.

use crate::record::{write_core_marc, MarcSource, Record};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Mutex;

/// Records pending before a batch is written.
const BATCH_RECORDS: usize = 512;
/// Bytes of already-serialised records pending before a batch is written.
const BATCH_BYTES: usize = 1 << 20;

struct Output {
    file: Option<BufWriter<File>>,
    pending: Vec<MarcSource>,
    pending_bytes: usize,
    /// Records handed to `write_record` so far (for error messages).
    written: u64,
}

impl Output {
    /// Serialise and write the pending records (pure Rust, run with the GIL released).
    /// Stops at the first failure, naming the record.
    fn write_pending(&mut self) -> Result<(), WriteError> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let Some(file) = self.file.as_mut() else {
            return Err(WriteError::Closed);
        };
        let first = self.written - pending.len() as u64;
        let mut buf = Vec::new();
        for (i, source) in pending.into_iter().enumerate() {
            let bytes = match &source {
                MarcSource::Core(core, leader) => {
                    buf.clear();
                    write_core_marc(core, *leader, &mut buf)
                        .map_err(|e| WriteError::Record(first + i as u64, e.to_string()))?;
                    &buf
                }
                MarcSource::Bytes(b) => b,
            };
            file.write_all(bytes).map_err(WriteError::Io)?;
        }
        Ok(())
    }
}

/// A failure while writing, as plain data (the GIL may be released when it happens).
enum WriteError {
    Closed,
    Record(u64, String),
    Io(std::io::Error),
}

impl WriteError {
    fn into_py(self) -> PyErr {
        match self {
            WriteError::Closed => PyValueError::new_err("write to a closed MARCWriter"),
            WriteError::Record(n, msg) => {
                PyValueError::new_err(format!("record {n} (counting from 0) not written: {msg}"))
            }
            WriteError::Io(e) => crate::errors::os_error(&e),
        }
    }
}

#[pyclass(frozen, module = "fastmarc._native", name = "RecordFileWriter")]
pub struct RecordFileWriter {
    state: Mutex<Output>,
}

impl RecordFileWriter {
    fn state(&self, py: Python<'_>) -> std::sync::MutexGuard<'_, Output> {
        self.state
            .lock_py_attached(py)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn flush_inner(&self, py: Python<'_>) -> PyResult<()> {
        let mut st = self.state(py);
        let st = &mut *st;
        py.detach(|| {
            st.write_pending()?;
            match st.file.as_mut() {
                Some(f) => f.flush().map_err(WriteError::Io),
                None => Ok(()),
            }
        })
        .map_err(WriteError::into_py)
    }
}

#[pymethods]
impl RecordFileWriter {
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Self> {
        let file = File::create(&path).map_err(|e| {
            PyOSError::new_err((
                e.raw_os_error().unwrap_or(0),
                e.to_string(),
                path.display().to_string(),
            ))
        })?;
        Ok(RecordFileWriter {
            state: Mutex::new(Output {
                file: Some(BufWriter::with_capacity(BATCH_BYTES, file)),
                pending: Vec::new(),
                pending_bytes: 0,
                written: 0,
            }),
        })
    }

    /// Queue `record` (as `record.as_marc()` would write it); a full batch is serialised
    /// and written with the GIL released.
    fn write_record(&self, py: Python<'_>, record: &Bound<'_, PyAny>) -> PyResult<()> {
        let Ok(record) = record.cast::<Record>() else {
            // What pymarc's Writer.write raises for anything but a Record.
            return Err(PyErr::from_value(
                crate::pyobjects::exception_class(py, "WriteNeedsRecord")?.call0()?,
            ));
        };
        let source = Record::marc_source(record)?;
        let mut st = self.state(py);
        if st.file.is_none() {
            return Err(WriteError::Closed.into_py());
        }
        if let MarcSource::Bytes(b) = &source {
            st.pending_bytes += b.len();
        }
        st.pending.push(source);
        st.written += 1;
        if st.pending.len() >= BATCH_RECORDS || st.pending_bytes >= BATCH_BYTES {
            let st = &mut *st;
            py.detach(|| st.write_pending())
                .map_err(WriteError::into_py)?;
        }
        Ok(())
    }

    /// Write raw bytes (for code that writes to `writer.file_handle` directly).
    fn write(&self, py: Python<'_>, data: &[u8]) -> PyResult<usize> {
        let mut st = self.state(py);
        let st = &mut *st;
        let data = data.to_vec();
        py.detach(|| {
            st.write_pending()?;
            match st.file.as_mut() {
                Some(f) => f.write_all(&data).map_err(WriteError::Io),
                None => Err(WriteError::Closed),
            }
        })
        .map_err(WriteError::into_py)?;
        Ok(data.len())
    }

    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.flush_inner(py)
    }

    /// Write what is pending and close the file. Closing twice is allowed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        if self.state(py).file.is_none() {
            return Ok(());
        }
        let flushed = self.flush_inner(py);
        self.state(py).file = None;
        flushed
    }

    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        self.state(py).file.is_none()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Dropped without close(): write what is pending, as a Python file flushes when it
        // is collected. Nothing can be reported from here.
        if self.file.is_some() {
            let _ = self.write_pending();
            if let Some(f) = self.file.as_mut() {
                let _ = f.flush();
            }
        }
    }
}
