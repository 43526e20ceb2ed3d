//! Core errors become the exceptions pymarc raises for the same input (phase 3 only: these
//! functions need the GIL, so they run after a released section returns its plain errors).
//!
//! Where pymarc's exception comes from a failing Python operation (a `.decode()`, an
//! `int()`), the same operation is re-run here on the same bytes, so type, message and
//! positions are exactly pymarc's. This is the error path only; its cost does not matter.

use crate::pyobjects::exception_class;
use fastmarc::{Error, ErrorKind};
use pyo3::exceptions::{PyIndexError, PyOSError, PyUnicodeDecodeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

fn pymarc_exception(py: Python<'_>, name: &str) -> PyErr {
    match exception_class(py, name).and_then(|c| c.call0()) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// The error Python raises decoding `bytes` with `encoding` (strict).
fn decode_error(py: Python<'_>, bytes: &[u8], encoding: &str) -> PyErr {
    match PyBytes::new(py, bytes).call_method1(intern!(py, "decode"), (encoding,)) {
        Err(e) => e,
        Ok(_) => {
            match PyUnicodeDecodeError::new(py, c"utf-8", bytes, 0..bytes.len(), c"invalid data") {
                Ok(e) => PyErr::from_value(e.into_any()),
                Err(e) => e,
            }
        }
    }
}

/// The error Python's `int()` raises for this text.
pub fn int_error(py: Python<'_>, value: Bound<'_, PyAny>) -> PyErr {
    match py.get_type::<pyo3::types::PyInt>().call1((value,)) {
        Err(e) => e,
        Ok(_) => PyValueError::new_err("invalid number"),
    }
}

/// The bytes the error is about, as the core parser found them (a field's data, a
/// subfield's value, a data field's indicator bytes): what pymarc decodes at that point.
fn text_of<'a>(err: &Error, chunk: &'a [u8], rel: usize) -> &'a [u8] {
    let end = rel
        .saturating_add(err.span_len().unwrap_or(0))
        .min(chunk.len());
    chunk.get(rel..end).unwrap_or(&[])
}

/// The exception pymarc 5.4.0 raises (or stores as `current_exception`) for this error.
/// `chunk` is the record's bytes and `record_offset` where they start in the stream (error
/// offsets are stream offsets).
pub fn to_pymarc_error(py: Python<'_>, err: &Error, chunk: &[u8], record_offset: u64) -> PyErr {
    use ErrorKind::*;
    let rel = err
        .offset()
        .map_or(0, |o| o.saturating_sub(record_offset) as usize);
    match err.kind() {
        RecordLengthNotDigits => pymarc_exception(py, "RecordLengthInvalid"),
        // pymarc reads a too-short length's bytes and then finds no terminator (or too few).
        RecordLengthInvalid(n) if chunk.len() < *n => pymarc_exception(py, "TruncatedRecord"),
        RecordLengthInvalid(_) => pymarc_exception(py, "EndOfRecordNotFound"),
        TruncatedRecord { .. } => pymarc_exception(py, "TruncatedRecord"),
        EndOfRecordNotFound => pymarc_exception(py, "EndOfRecordNotFound"),
        // pymarc decodes the first 24 bytes (or fewer) before it checks their number.
        LeaderInvalid if !chunk[..chunk.len().min(24)].is_ascii() => {
            decode_error(py, &chunk[..chunk.len().min(24)], "ascii")
        }
        LeaderInvalid if chunk.len() < 24 => pymarc_exception(py, "RecordLeaderInvalid"),
        LeaderInvalid => decode_error(py, &chunk[..24], "ascii"),
        DirectoryNotAscii => {
            let base = std::str::from_utf8(&chunk[12..17])
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .unwrap_or(chunk.len());
            let end = base.saturating_sub(1).clamp(24, chunk.len());
            decode_error(py, &chunk[24..end], "ascii")
        }
        IndicatorsInvalid { .. } => decode_error(py, text_of(err, chunk, rel), "ascii"),
        InvalidUtf8 { .. } => decode_error(py, text_of(err, chunk, rel), "utf-8"),
        InvalidMarc8 { .. } => {
            match crate::marc8::marc8_to_unicode(py, text_of(err, chunk, rel), true) {
                Err(e) => e,
                Ok(_) => PyValueError::new_err(err.to_string()),
            }
        }
        BaseAddressNotDigits => int_error(py, PyBytes::new(py, &chunk[12..17]).into_any()),
        DirectoryEntryNotDigits { .. } => {
            let entry =
                String::from_utf8_lossy(chunk.get(rel..rel + 12).unwrap_or(&[])).into_owned();
            let (len, off) = (
                entry.get(3..7).unwrap_or(""),
                entry.get(7..12).unwrap_or(""),
            );
            let bad = if len.trim().parse::<u64>().is_err() {
                len
            } else {
                off
            };
            int_error(py, PyString::new(py, bad).into_any())
        }
        BaseAddressNotFound => pymarc_exception(py, "BaseAddressNotFound"),
        // A base address inside the leader leaves pymarc an empty directory.
        BaseAddressInvalid(b) if *b <= 24 => pymarc_exception(py, "NoFieldsFound"),
        BaseAddressInvalid(_) => pymarc_exception(py, "BaseAddressInvalid"),
        DirectoryLengthInvalid(_) => pymarc_exception(py, "RecordDirectoryInvalid"),
        NoFields => pymarc_exception(py, "NoFieldsFound"),
        BadSubfieldCode { .. } => PyIndexError::new_err("string index out of range"),
        Io(_, msg) => PyOSError::new_err(msg.clone()),
        // Errors only strict parsing or the other formats report.
        _ => PyValueError::new_err(err.to_string()),
    }
}

/// A core error from an API call (not a reader) as a plain ValueError with its message.
pub fn value_error(err: &Error) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// An I/O error as Python's OSError, errno and message set (OSError picks the subclass,
/// FileNotFoundError and so on, from the errno, as Python's own I/O does).
pub fn os_error(err: &std::io::Error) -> PyErr {
    match err.raw_os_error() {
        Some(errno) => {
            let message = std::io::Error::from_raw_os_error(errno).to_string();
            // Rust appends " (os error N)"; Python's strerror is the bare text.
            let message = message
                .strip_suffix(&format!(" (os error {errno})"))
                .unwrap_or(&message)
                .to_string();
            PyOSError::new_err((errno, message))
        }
        None => PyOSError::new_err(err.to_string()),
    }
}
