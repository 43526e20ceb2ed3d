//! `marc8_to_unicode` for Python.

use pyo3::exceptions::PyUnicodeDecodeError;
use pyo3::prelude::*;

/// Decode MARC-8 bytes to a str, as pymarc's `marc8_to_unicode`.
#[pyfunction]
#[pyo3(signature = (marc8, hide_utf8_warnings = false))]
pub fn marc8_to_unicode(
    py: Python<'_>,
    marc8: &[u8],
    hide_utf8_warnings: bool,
) -> PyResult<String> {
    let mut out = String::with_capacity(marc8.len());
    let mut warnings = Vec::new();
    let result = fastmarc::marc8::decode_marc8_into(marc8, &mut out, &mut warnings);
    if !hide_utf8_warnings {
        for w in &warnings {
            eprintln!("{w}");
        }
    }
    match result {
        Ok(()) => Ok(out),
        Err(_) => Err(PyErr::from_value(
            PyUnicodeDecodeError::new(
                py,
                c"marc8_to_unicode",
                marc8,
                0..marc8.len(),
                c"invalid multibyte character encoding",
            )?
            .into_any(),
        )),
    }
}
