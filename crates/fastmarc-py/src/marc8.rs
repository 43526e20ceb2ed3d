//! MARC-8 decoding for Python: `marc8_to_unicode`, and `marc8_translate` for pymarc's
//! stateful `MARC8ToUnicode`.

use fastmarc::marc8::{Marc8Decoder, Marc8Warning};
use pyo3::exceptions::PyUnicodeDecodeError;
use pyo3::prelude::*;

/// Decode with `decoder`, reporting unmapped characters on stderr as pymarc does unless
/// `quiet`; a malformed escape sequence is pymarc's `UnicodeDecodeError`.
fn decode(
    py: Python<'_>,
    decoder: &mut Marc8Decoder,
    marc8: &[u8],
    quiet: bool,
) -> PyResult<String> {
    let mut out = String::with_capacity(marc8.len());
    let mut warnings: Vec<Marc8Warning> = Vec::new();
    let result = decoder.decode_into(marc8, &mut out, &mut warnings);
    if !quiet {
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

/// Decode MARC-8 bytes to a str, as pymarc's `marc8_to_unicode`.
#[pyfunction]
#[pyo3(signature = (marc8, hide_utf8_warnings = false))]
pub fn marc8_to_unicode(
    py: Python<'_>,
    marc8: &[u8],
    hide_utf8_warnings: bool,
) -> PyResult<String> {
    decode(py, &mut Marc8Decoder::default(), marc8, hide_utf8_warnings)
}

/// Decode MARC-8 bytes starting from the sets `g0` and `g1`: the text and the sets in
/// force after it.
#[pyfunction]
#[pyo3(signature = (marc8, g0, g1, quiet = false))]
pub fn marc8_translate(
    py: Python<'_>,
    marc8: &[u8],
    g0: u8,
    g1: u8,
    quiet: bool,
) -> PyResult<(String, u8, u8)> {
    let mut decoder = Marc8Decoder { g0, g1 };
    let text = decode(py, &mut decoder, marc8, quiet)?;
    Ok((text, decoder.g0, decoder.g1))
}
