//! Unicode to MARC-8 for Python: the core's encoder.

use fastmarc::iso2709::{record_to_bytes, ParseOptions, ReaderOptions, SliceReader};
use fastmarc::marc8::{record_to_marc8, unicode_to_marc8 as encode};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// `text` in MARC-8; characters MARC-8 lacks are written `&#xXXXX;`.
#[pyfunction]
pub fn unicode_to_marc8<'py>(py: Python<'py>, text: &str) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &encode(text))
}

/// One UTF-8 ISO 2709 record rewritten in MARC-8 (leader/09 blank), and a message for
/// each character MARC-8 lacks (written `&#xXXXX;`).
#[pyfunction]
pub fn marc_to_marc8<'py>(
    py: Python<'py>,
    marc: &[u8],
) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
    let opts = ReaderOptions {
        parse: ParseOptions {
            strict: false,
            ..ParseOptions::default()
        },
        ..ReaderOptions::resyncing()
    };
    let result = py.detach(|| {
        let rec = SliceReader::with_options(marc, opts)
            .next()
            .ok_or_else(|| "no record in the bytes".to_string())?
            .map_err(|e| e.to_string())?;
        let (marc8, missing) = record_to_marc8(&rec);
        let bytes = record_to_bytes(&marc8).map_err(|e| e.to_string())?;
        Ok::<_, String>((bytes, missing.iter().map(|m| m.to_string()).collect()))
    });
    let (bytes, warnings) = result.map_err(PyValueError::new_err)?;
    Ok((PyBytes::new(py, &bytes), warnings))
}
