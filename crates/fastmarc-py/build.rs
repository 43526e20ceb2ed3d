//! Makes PyO3's interpreter cfgs (`Py_GIL_DISABLED`, `Py_3_*`, …) visible to this crate, so
//! that `gil_cell.rs` can refuse to build for a free-threaded CPython.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
