//! How many threads a `MARCReader` parses on: `threads=` as given, or, by default
//! (`"auto"`), as many as pay off for the source and the program reading it.
//!
//! A Python loop over records spends a fifth to a third of its time parsing when it parses
//! on its own thread; a second thread takes that off it, which the loop feels as that much
//! less time. But a second thread only pays when there is enough to read to win back
//! starting it (about as long as parsing a few hundred records), and it costs when the
//! program already keeps every core busy: two processes on two cores, each with a parser
//! thread, run a quarter slower than with none. The program's own threads and
//! `multiprocessing` children are such programs; a reader made there parses on the calling
//! thread, as pymarc's does.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// Input below which `"auto"` parses on the calling thread.
const AUTO_MIN_BYTES: u64 = 1 << 20;

/// Most threads `"auto"` takes. Python takes records from a reader no faster than one
/// parser thread makes them; a few more cover slow records, more only hold more batches.
const AUTO_MAX_THREADS: usize = 4;

/// The `threads` argument of a reader.
#[derive(Clone, Copy, Debug)]
pub enum Threads {
    /// A number of threads (`None`: `RAYON_NUM_THREADS` or every core).
    Given(Option<usize>),
    /// `"auto"`: chosen by [`Threads::resolve`].
    Auto,
}

impl<'a, 'py> FromPyObject<'a, 'py> for Threads {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(s) = obj.cast::<PyString>() {
            if s.to_str()? == "auto" {
                return Ok(Threads::Auto);
            }
            return Err(PyValueError::new_err(format!(
                "threads must be a number of threads, None (every core) or 'auto', not {}",
                s.repr()?
            )));
        }
        Ok(Threads::Given(obj.extract()?))
    }
}

impl Threads {
    /// The threads to parse on, for a source of `size` bytes (`None`: not known before it
    /// is read, a Python file object), as `ParallelOptions::threads` takes them.
    pub fn resolve(self, py: Python<'_>, size: Option<u64>) -> PyResult<Option<usize>> {
        match self {
            Threads::Given(n) => Ok(n),
            Threads::Auto => {
                if size.is_none_or(|n| n < AUTO_MIN_BYTES) || busy_program(py)? {
                    return Ok(Some(1));
                }
                Ok(Some(
                    fastmarc::internal::thread_count(None).min(AUTO_MAX_THREADS),
                ))
            }
        }
    }
}

/// Whether the reader is being made in a program that spreads its own work over threads
/// or processes: on a thread other than the main one, or in a `multiprocessing` child.
fn busy_program(py: Python<'_>) -> PyResult<bool> {
    let threading = py.import("threading")?;
    let current = threading.call_method0("current_thread")?;
    if !current.is(&threading.call_method0("main_thread")?) {
        return Ok(true);
    }
    // A program that never imported multiprocessing is not one of its children.
    let modules = py
        .import("sys")?
        .getattr("modules")?
        .cast_into::<PyDict>()?;
    match modules.get_item("multiprocessing")? {
        Some(mp) => Ok(!mp.call_method0("parent_process")?.is_none()),
        None => Ok(false),
    }
}
