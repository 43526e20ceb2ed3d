//! Python classes the bindings create or raise, looked up once per interpreter.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

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
