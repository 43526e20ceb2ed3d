//! MarcEdit's .mrk text for Python: the core's reader and writer, records crossing as ISO
//! 2709 bytes (which `fastmarc.Record(data=...)` and `Record.as_marc()` already speak).

use fastmarc::iso2709::{record_to_bytes, Decoding, ParseOptions, ReaderOptions, SliceReader};
use fastmarc::mrk::{write_record_mrk, MrkReader};
use fastmarc::TextEncoding;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// The records of .mrk text, each as UTF-8 ISO 2709 bytes, or (a malformed record) the
/// message of its error: `"record N, line L: what"`. Parsed with the GIL released.
#[pyfunction]
pub fn mrk_to_marc<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyList>> {
    let results: Vec<Result<Vec<u8>, String>> = py.detach(|| {
        MrkReader::new(data)
            .map(|r| {
                r.and_then(|rec| record_to_bytes(&rec)).map_err(|e| {
                    let mut message = String::new();
                    if let Some(n) = e.record() {
                        message.push_str(&format!("record {}: ", n + 1));
                    }
                    message.push_str(&e.kind().to_string());
                    message
                })
            })
            .collect()
    });
    let out = PyList::empty(py);
    for r in results {
        match r {
            Ok(bytes) => out.append(PyBytes::new(py, &bytes))?,
            Err(message) => out.append(message)?,
        }
    }
    Ok(out)
}

/// One ISO 2709 record as .mrk text, ended by a blank line. MARC-8 text is decoded (and
/// leader/09 becomes 'a'), as every Unicode output does.
#[pyfunction]
pub fn marc_to_mrk(py: Python<'_>, marc: &[u8]) -> PyResult<String> {
    let opts = ReaderOptions {
        parse: ParseOptions {
            decoding: Decoding::Auto,
            strict: false,
            ..ParseOptions::default()
        },
        ..ReaderOptions::resyncing()
    };
    let result = py.detach(|| {
        let mut rec = SliceReader::with_options(marc, opts)
            .next()
            .ok_or_else(|| "no record in the bytes".to_string())?
            .map_err(|e| e.to_string())?;
        if rec.encoding() == TextEncoding::Unicode {
            rec.leader_mut().set_character_coding_scheme(b'a');
        }
        let mut out = String::with_capacity(marc.len() + 64);
        write_record_mrk(&rec, &mut out);
        Ok::<String, String>(out)
    });
    result.map_err(PyValueError::new_err)
}
