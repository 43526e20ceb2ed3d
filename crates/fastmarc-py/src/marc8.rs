//! MARC-8 decoding for Python: `marc8_to_unicode`, and `marc8_translate` for pymarc's
//! stateful `MARC8ToUnicode`.

use fastmarc::marc8::{Marc8Decoder, Marc8Warning};
use pyo3::exceptions::PyUnicodeDecodeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

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
    for w in &warnings {
        crate::diagnostics::marc8_warning(py, w, quiet)?;
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

/// The code table of the MARC-8 character set with final byte `final_byte`, in the shape of
/// pymarc's `marc8_mapping.CHARSET_xx`: `{code: (unicode code point, is_combining)}`.
#[pyfunction]
pub fn marc8_code_table(py: Python<'_>, final_byte: u8) -> PyResult<Bound<'_, PyDict>> {
    use fastmarc::internal::marc8_tables::{self as tables, CHAR_MASK, COMBINING, UNMAPPED};
    let table = PyDict::new(py);
    let add = |code: u32, entry: u32| {
        let combining = u8::from(entry & COMBINING != 0);
        table.set_item(code, (entry & CHAR_MASK, combining))
    };
    for (code, &entry) in tables::single_byte(final_byte).iter().enumerate() {
        if entry != UNMAPPED {
            add(code as u32, entry)?;
        }
    }
    if final_byte == tables::EACC {
        for (code, entry) in tables::eacc_codes() {
            add(code, entry)?;
        }
    }
    Ok(table)
}

/// pymarc's `marc8_mapping.ODD_MAP`: the three-byte codes outside the code tables that the
/// decoder accepts, `{code: unicode code point}`. The core answers only for a given code,
/// so every three-byte code is asked once.
#[pyfunction]
pub fn marc8_odd_map(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let found: Vec<(u32, u32)> = py.detach(|| {
        (0..=0xFF_FFFFu32)
            .filter_map(|code| {
                fastmarc::internal::marc8_tables::odd(code).map(|c| (code, c as u32))
            })
            .collect()
    });
    let map = PyDict::new(py);
    for (code, point) in found {
        map.set_item(code, point)?;
    }
    Ok(map)
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
