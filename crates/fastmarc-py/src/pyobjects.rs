//! Python classes the bindings create or raise, looked up once per interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};

macro_rules! cached_class {
    ($fn_name:ident, $module:literal, $name:literal) => {
        pub fn $fn_name(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
            static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
            CELL.import(py, $module, $name)
        }
    };
}

cached_class!(subfield_class, "fastmarc._types", "Subfield");
cached_class!(indicators_class, "fastmarc._types", "Indicators");
cached_class!(leader_class, "fastmarc.leader", "Leader");
cached_class!(raw_field_class, "fastmarc.field", "RawField");

/// An exception class from `fastmarc.exceptions` by name (error paths only).
pub fn exception_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("fastmarc.exceptions")?.getattr(name)
}

/// A tag as a Python string. All-digit tags are made once per interpreter, interned: the
/// fields of a record share them (as pymarc's do), so handing one out costs no allocation,
/// and a dict keyed by tags finds their hashes already computed.
pub fn tag_string<'py>(py: Python<'py>, tag: &str) -> Bound<'py, PyString> {
    static DIGIT_TAGS: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
    match tag.as_bytes() {
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
            let n = (a - b'0') as usize * 100 + (b - b'0') as usize * 10 + (c - b'0') as usize;
            let tags = DIGIT_TAGS.get_or_init(py, || {
                (0..1000)
                    .map(|n| PyString::intern(py, &format!("{n:03}")).unbind())
                    .collect()
            });
            tags[n].bind(py).clone()
        }
        _ => PyString::new(py, tag),
    }
}
