//! `SharedCore`: a parsed record shared by its `Record` object and the `Field` objects made
//! from it, counted with the GIL held.
//!
//! A loop over a record's fields makes a field object for each and drops it a moment later;
//! each one holds the parsed record it points into. With an `Arc` per field that is an
//! atomic increment and an atomic decrement per field, a measurable share of such a loop.
//! Holders here are made, shared and dropped only inside pyclass state, with the GIL held,
//! so they count in a plain `Cell`, as Python counts references. The `Arc` inside is
//! touched once, when the last holder goes: the record then goes back to the reader thread
//! that parsed it (its `Home`), to be parsed into again.

use std::cell::Cell;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

use fastmarc::Record as CoreRecord;
use pyo3::prelude::*;

use crate::reader::Home;

pub struct SharedCore(NonNull<Inner>);

struct Inner {
    holders: Cell<usize>,
    core: Arc<CoreRecord>,
    home: Option<Home>,
}

// SAFETY: the count is plain memory. A holder is made and shared only with a `Python` token
// (`new`, `share`), and lives only in the state of `Record` and `Field` objects (inside
// their `GilCell`) or in locals of functions that hold a token; that state is dropped by
// CPython's deallocator or by those functions, with the GIL held. The crate is built only
// for GIL-enabled CPython (see `crate::gil_cell`), so one thread at a time counts, and the
// GIL's hand-over orders those accesses. What may reach another thread with the GIL let go
// is a `&CoreRecord` (or a clone of the `Arc`), which is `Sync` and never touches the count.
unsafe impl Send for SharedCore {}
unsafe impl Sync for SharedCore {}

impl SharedCore {
    /// The first holder of `core`, parsed on the reader thread `home` (if any).
    pub fn new(_py: Python<'_>, core: Arc<CoreRecord>, home: Option<Home>) -> SharedCore {
        let inner = Box::new(Inner {
            holders: Cell::new(1),
            core,
            home,
        });
        SharedCore(NonNull::from(Box::leak(inner)))
    }

    /// Another holder of the same record.
    #[inline]
    pub fn share(&self, _py: Python<'_>) -> SharedCore {
        let inner = self.inner();
        inner.holders.set(inner.holders.get() + 1);
        SharedCore(self.0)
    }

    /// The record itself, for work that outlives the GIL (writing it with the GIL let go).
    pub fn arc(&self) -> &Arc<CoreRecord> {
        &self.inner().core
    }

    #[inline]
    fn inner(&self) -> &Inner {
        // SAFETY: `Inner` lives until its last holder is dropped, and `self` is one.
        unsafe { self.0.as_ref() }
    }
}

impl Deref for SharedCore {
    type Target = CoreRecord;

    #[inline]
    fn deref(&self) -> &CoreRecord {
        &self.inner().core
    }
}

impl Drop for SharedCore {
    fn drop(&mut self) {
        let inner = self.inner();
        let left = inner.holders.get() - 1;
        if left > 0 {
            inner.holders.set(left);
            return;
        }
        // SAFETY: this was the last holder: nothing else points to `Inner` any more.
        let inner = unsafe { Box::from_raw(self.0.as_ptr()) };
        if let Some(home) = inner.home {
            home.give_back(inner.core);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_let_go_of_with_its_last_holder() {
        Python::initialize();
        Python::attach(|py| {
            let core = Arc::new(CoreRecord::new());
            let first = SharedCore::new(py, core.clone(), None);
            let shared: Vec<SharedCore> = (0..3).map(|_| first.share(py)).collect();
            // Holders count among themselves: one reference to the record for all of them.
            assert_eq!(Arc::strong_count(&core), 2);
            assert!(Arc::ptr_eq(first.arc(), &core));
            assert_eq!(shared[2].len(), core.len());
            drop(first);
            assert_eq!(Arc::strong_count(&core), 2);
            drop(shared);
            assert_eq!(Arc::strong_count(&core), 1);
        });
    }
}
