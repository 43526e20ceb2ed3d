//! Core errors become the exceptions pymarc raises for the same input (phase 3 only: these
//! functions need the GIL, so they run after a released section returns its plain errors).

use crate::pyobjects::exception_class;
use fastmarc::{Error, ErrorKind};
use pyo3::exceptions::{PyIndexError, PyOSError, PyUnicodeDecodeError, PyValueError};
use pyo3::prelude::*;

fn unicode_error(
    py: Python<'_>,
    encoding: &std::ffi::CStr,
    chunk: &[u8],
    reason: &std::ffi::CStr,
) -> PyErr {
    let end = chunk.len().max(1).min(chunk.len());
    match PyUnicodeDecodeError::new(py, encoding, chunk, 0..end, reason) {
        Ok(e) => PyErr::from_value(e.into_any()),
        Err(e) => e,
    }
}

fn pymarc_exception(py: Python<'_>, name: &str) -> PyErr {
    match exception_class(py, name).and_then(|c| c.call0()) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// The exception pymarc 5.4.0 raises (or stores as `current_exception`) for this error.
/// `chunk` is the record's bytes, for the exceptions that carry them.
pub fn to_pymarc_error(py: Python<'_>, err: &Error, chunk: &[u8]) -> PyErr {
    use ErrorKind::*;
    match &err.kind {
        RecordLengthNotDigits => pymarc_exception(py, "RecordLengthInvalid"),
        // pymarc reads a too-short length's bytes and then finds no terminator (or too few).
        RecordLengthInvalid(n) if chunk.len() < *n => pymarc_exception(py, "TruncatedRecord"),
        RecordLengthInvalid(_) => pymarc_exception(py, "EndOfRecordNotFound"),
        LeaderInvalid if chunk.len() < 24 => pymarc_exception(py, "RecordLeaderInvalid"),
        TruncatedRecord { .. } => pymarc_exception(py, "TruncatedRecord"),
        EndOfRecordNotFound => pymarc_exception(py, "EndOfRecordNotFound"),
        LeaderInvalid | DirectoryNotAscii | IndicatorsInvalid { .. } => {
            unicode_error(py, c"ascii", chunk, c"ordinal not in range(128)")
        }
        InvalidUtf8 { .. } => unicode_error(py, c"utf-8", chunk, c"invalid utf-8"),
        InvalidMarc8 { .. } => unicode_error(
            py,
            c"marc8_to_unicode",
            chunk,
            c"invalid multibyte character encoding",
        ),
        BaseAddressNotDigits | DirectoryEntryNotDigits { .. } => {
            PyValueError::new_err(format!("invalid literal for int() with base 10: {err}"))
        }
        BaseAddressNotFound => pymarc_exception(py, "BaseAddressNotFound"),
        BaseAddressInvalid(_) => pymarc_exception(py, "BaseAddressInvalid"),
        DirectoryLengthInvalid(_) => pymarc_exception(py, "RecordDirectoryInvalid"),
        NoFields => pymarc_exception(py, "NoFieldsFound"),
        BadSubfieldCode { .. } => PyIndexError::new_err(err.to_string()),
        Io(_, msg) => PyOSError::new_err(msg.clone()),
        // Errors only strict parsing or the other formats report.
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// A core error from an API call (not a reader) as a plain ValueError with its message.
pub fn value_error(err: &Error) -> PyErr {
    PyValueError::new_err(err.to_string())
}
