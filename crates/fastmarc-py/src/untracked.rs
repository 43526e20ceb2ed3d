//! Keeping records and fields read from a file out of CPython's cycle collector.
//!
//! PyO3 makes every pyclass a garbage-collected type, so each object is linked into the
//! collector's lists and visited at every collection. A file's worth of records and their
//! fields is hundreds of thousands of objects, and visiting them all at every full
//! collection became a large share of the time spent reading fields. Yet `Record` and
//! `Field` show the collector none of the objects they hold (they define no
//! `__traverse__`): tracked or not, a cycle through one is never found, and what they hold
//! stays alive as long as they do. So the ones made from a parsed record are taken out of
//! the collector for good, as CPython does for tuples and dicts of atomic values. (Python
//! subclasses, whose `__dict__` the collector does see, are never taken out.) The marker
//! kept in each also says whether the object is still as parsed.

use pyo3::ffi;
use pyo3::prelude::*;

/// Kept in an object made from a parsed record and taken out of the cycle collector: true
/// while nothing has been stored in it since (false for an object made otherwise).
#[derive(Debug, Default)]
pub struct Untracked(bool);

impl Untracked {
    /// Untrack `obj`, an exact `Record` or `Field` (no `__dict__`), and return the marker
    /// its Rust value keeps.
    pub fn untrack(obj: &Bound<'_, PyAny>) -> Untracked {
        let ptr = obj.as_ptr();
        // SAFETY: `ptr` is a live object of a GC type (every pyclass is), and we hold the GIL.
        // Untracking an object that is tracked is always allowed.
        unsafe {
            if ffi::PyObject_GC_IsTracked(ptr) == 1 {
                ffi::PyObject_GC_UnTrack(ptr.cast());
            }
        }
        Untracked(true)
    }

    /// Whether the object is as parsed: nothing has been stored in it since.
    pub fn is_pristine(&self) -> bool {
        self.0
    }

    /// Note that something is being stored in the object (it stays untracked: the
    /// collector would not see what is stored either way).
    pub fn touch(&mut self) {
        self.0 = false;
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
