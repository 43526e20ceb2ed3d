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

/// pymarc's `int()` of a leader or directory number (ASCII white space around digits).
fn lenient_number(bytes: &[u8]) -> Option<usize> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// The field of `chunk` (a whole record) whose bytes, as pymarc slices them from the
/// directory, hold byte `at`: its range (terminator left out) and whether its tag is a
/// control tag.
fn field_around(chunk: &[u8], at: usize) -> Option<(std::ops::Range<usize>, bool)> {
    let base = lenient_number(chunk.get(12..17)?)?;
    let directory = chunk.get(24..base.checked_sub(1)?)?;
    directory.chunks_exact(12).find_map(|entry| {
        let len = lenient_number(&entry[3..7])?;
        let start = base + lenient_number(&entry[7..12])?;
        let end = (start + len).saturating_sub(1).min(chunk.len());
        let control = entry[..2] == *b"00" && entry[2].is_ascii_digit();
        (start <= at && at < end.max(start + 1)).then_some((start..end.max(start), control))
    })
}

/// The bytes pymarc decodes for the text at `start`: a control field's whole data, or a
/// subfield's value up to the next delimiter within its field (the field as the directory
/// gives it); without a directory to go by, up to the next delimiter or terminator.
fn text_at(chunk: &[u8], start: usize) -> &[u8] {
    if let Some((field, control)) = field_around(chunk, start) {
        let rest = &chunk[start.min(field.end)..field.end];
        if control {
            return &chunk[field];
        }
        let end = rest.iter().position(|&b| b == 0x1f).unwrap_or(rest.len());
        return &rest[..end];
    }
    let rest = chunk.get(start..).unwrap_or(&[]);
    let end = rest
        .iter()
        .position(|b| matches!(b, 0x1d..=0x1f))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The exception pymarc 5.4.0 raises (or stores as `current_exception`) for this error.
/// `chunk` is the record's bytes and `record_offset` where they start in the stream (error
/// offsets are stream offsets).
pub fn to_pymarc_error(py: Python<'_>, err: &Error, chunk: &[u8], record_offset: u64) -> PyErr {
    use ErrorKind::*;
    let rel = err
        .offset
        .map_or(0, |o| o.saturating_sub(record_offset) as usize);
    match &err.kind {
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
        IndicatorsInvalid { .. } => decode_error(py, text_at(chunk, rel), "ascii"),
        InvalidUtf8 { .. } => decode_error(py, text_at(chunk, rel), "utf-8"),
        InvalidMarc8 { .. } => {
            match crate::marc8::marc8_to_unicode(py, text_at(chunk, rel), true) {
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
