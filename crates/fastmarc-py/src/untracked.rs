//! Keeping lazy records and fields out of CPython's cycle collector until they need it.
//!
//! PyO3 makes every pyclass a garbage-collected type, so each object is linked into the
//! collector's lists and traversed at every collection. A file's worth of records and their
//! fields is hundreds of thousands of objects, and traversing them all at every collection
//! became a large share of the time spent reading fields. A record or field fresh from the parser holds no Python
//! object that could be part of a cycle (only strings, `None`, and Rust data), so it starts
//! untracked, as CPython itself does for tuples and dicts of atomic values. The moment it may
//! hold a container (a materialised list, an object set by the user), it is tracked again.

use pyo3::ffi;
use pyo3::prelude::*;

/// The address of the Python object that owns this value while that object is untracked;
/// zero once it is tracked (the normal state of every object PyO3 creates).
#[derive(Debug, Default)]
pub struct Untracked(usize);

impl Untracked {
    /// Untrack `obj`, which must hold no reference to a container, and return the marker its
    /// Rust value keeps so that [`Untracked::retrack`] can undo it.
    pub fn untrack(obj: &Bound<'_, PyAny>) -> Untracked {
        let ptr = obj.as_ptr();
        // SAFETY: `ptr` is a live object of a GC type (every pyclass is), and we hold the GIL.
        // Untracking an object that is tracked is always allowed.
        unsafe {
            if ffi::PyObject_GC_IsTracked(ptr) == 1 {
                ffi::PyObject_GC_UnTrack(ptr.cast());
            }
        }
        Untracked(ptr as usize)
    }

    /// Whether the owning object is still untracked: nothing has been stored in it since.
    pub fn is_untracked(&self) -> bool {
        self.0 != 0
    }

    /// Track the owning object again. Call before (or right after) storing a Python object
    /// that may be a container. Needs the GIL (any `&mut` access to a pyclass value has it).
    pub fn retrack(&mut self) {
        if self.0 != 0 {
            let ptr = self.0 as *mut ffi::PyObject;
            self.0 = 0;
            // SAFETY: the marker lives inside the object at `ptr`, so the object is alive
            // while we can reach the marker; it is untracked (we untracked it and nothing else
            // tracks our objects), and the caller holds the GIL.
            unsafe {
                if ffi::PyObject_GC_IsTracked(ptr) == 0 {
                    ffi::PyObject_GC_Track(ptr.cast());
                }
            }
        }
    }
}

/// `obj`, a dict or list just filled with objects that cannot hold a cycle (strings, and our
/// own objects, whose references the collector does not follow), taken out of the cycle
/// collector as CPython does with a dict of strings: every collection would walk it
/// otherwise. A dict given a container later is tracked again by CPython; a list given one
/// only misses being collected as part of a cycle.
pub fn untracked<T>(obj: Bound<'_, T>) -> Bound<'_, T> {
    Untracked::untrack(obj.as_any());
    obj
}
