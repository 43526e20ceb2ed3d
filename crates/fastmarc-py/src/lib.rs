//! Python bindings for fastmarc, built by maturin as `fastmarc._native`.
//!
//! Thin by design: parsing, serialisation and every per-record computation live in the core
//! crate; this crate converts between core values and Python objects, lazily. The three-phase
//! rule holds everywhere the GIL is released: Python work (phase 1), then `py.detach` around
//! pure Rust that touches no Python object and builds no `PyErr` (phase 2), then conversion of
//! results and errors with the GIL held again (phase 3).

use pyo3::prelude::*;

mod allocator;
#[cfg(target_os = "linux")]
mod arenas;
mod arrow;
mod cli;
mod diagnostics;
mod errors;
mod field;
mod file_writer;
mod formats;
mod freelist;
mod gil_cell;
mod marc8;
mod marc8_encode;
mod mrk;
mod pyobjects;
mod pystr;
mod reader;
mod record;
mod shared_core;
mod subclass;
mod threads;
mod untracked;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    allocator::configure();
    #[cfg(target_os = "linux")]
    arenas::install(m.py());
    m.add_class::<field::Field>()?;
    m.add_class::<record::Record>()?;
    freelist::install::<field::Field>(m.py());
    freelist::install::<record::Record>(m.py());
    m.add_class::<reader::Reader>()?;
    m.add_class::<reader::MARCReader>()?;
    m.add_class::<file_writer::RecordFileWriter>()?;
    m.add_function(wrap_pyfunction!(marc8::marc8_to_unicode, m)?)?;
    m.add_function(wrap_pyfunction!(marc8_encode::unicode_to_marc8, m)?)?;
    m.add_function(wrap_pyfunction!(marc8_encode::marc_to_marc8, m)?)?;
    m.add_function(wrap_pyfunction!(mrk::mrk_to_marc, m)?)?;
    m.add_function(wrap_pyfunction!(mrk::marc_to_mrk, m)?)?;
    m.add_function(wrap_pyfunction!(marc8::marc8_code_table, m)?)?;
    m.add_function(wrap_pyfunction!(marc8::marc8_odd_map, m)?)?;
    m.add_function(wrap_pyfunction!(marc8::marc8_translate, m)?)?;
    m.add_function(wrap_pyfunction!(formats::record_xml, m)?)?;
    m.add_function(wrap_pyfunction!(formats::record_json, m)?)?;
    m.add_function(wrap_pyfunction!(formats::parse_xml, m)?)?;
    m.add_function(wrap_pyfunction!(formats::parse_json, m)?)?;
    m.add_function(wrap_pyfunction!(formats::parse_json_file, m)?)?;
    m.add_function(wrap_pyfunction!(allocator::allocator_options, m)?)?;
    #[cfg(target_os = "linux")]
    m.add_function(wrap_pyfunction!(arenas::newest_arena, m)?)?;
    m.add_function(wrap_pyfunction!(cli::run_cli, m)?)?;
    m.add_class::<arrow::ArrowRecords>()?;
    m.add_function(wrap_pyfunction!(arrow::arrow_table, m)?)?;
    m.add_function(wrap_pyfunction!(arrow::write_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(arrow::find_record_start, m)?)?;
    Ok(())
}
