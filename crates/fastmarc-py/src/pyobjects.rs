//! Python classes the bindings create or raise, looked up once per interpreter.

use pyo3::ffi;
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

/// An instance of `cls`, `Subfield` or `Indicators`, holding `a` and `b`: what calling the
/// class makes, without running the namedtuple's `__new__`, a Python function whose call
/// cost more than the rest of making a field's subfields. Two strings can be part of no
/// cycle, so the tuple is left out of the cycle collector, as the collector itself leaves
/// such a tuple after the first collection it sees. A class whose instances are laid out
/// otherwise than a tuple's is called.
pub fn string_pair<'py>(
    cls: &Bound<'py, PyType>,
    a: Bound<'py, PyString>,
    b: Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = cls.py();
    let tp = cls.as_type_ptr();
    // SAFETY: `tp` is a live type object (we hold a reference and the GIL), and so is
    // tuple's; reading their sizes, allocators and base classes touches nothing else.
    let alloc = unsafe {
        let tuple = &raw mut ffi::PyTuple_Type;
        let tuple_layout = ffi::PyType_IsSubtype(tp, tuple) != 0
            && (*tp).tp_basicsize == (*tuple).tp_basicsize
            && (*tp).tp_itemsize == (*tuple).tp_itemsize;
        (*tp).tp_alloc.filter(|_| tuple_layout)
    };
    let Some(alloc) = alloc else {
        return cls.call1((a, b));
    };
    // SAFETY: instances of `tp` are tuples with no fields of their own (checked above):
    // `tp_alloc` gives one of two empty slots, zeroed, which take the two references we
    // own, as tuple's own constructor for subclasses fills them.
    unsafe {
        let obj = alloc(tp, 2);
        if obj.is_null() {
            return Err(PyErr::fetch(py));
        }
        ffi::PyTuple_SET_ITEM(obj, 0, a.into_ptr());
        ffi::PyTuple_SET_ITEM(obj, 1, b.into_ptr());
        if ffi::PyObject_GC_IsTracked(obj) == 1 {
            ffi::PyObject_GC_UnTrack(obj.cast());
        }
        Ok(Bound::from_owned_ptr(py, obj))
    }
}

/// A one-character string: for a character below U+0100, the one CPython keeps (no
/// allocation, no decoding).
pub fn char_string(py: Python<'_>, c: char) -> Bound<'_, PyString> {
    // SAFETY: every `char` is a code point PyUnicode_FromOrdinal accepts; it returns a new
    // reference to a str, or null with an exception set (out of memory).
    let made = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyUnicode_FromOrdinal(c as i32)) };
    match made {
        Ok(s) => s
            .cast_into::<PyString>()
            .expect("PyUnicode_FromOrdinal makes a str"),
        Err(_) => PyString::new(py, c.encode_utf8(&mut [0u8; 4])),
    }
}

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
