//! `GilCell`: the mutable state of a `frozen` pyclass, borrow-checked without atomics.
//!
//! PyO3 checks borrows of a non-frozen pyclass with an atomic flag: a `lock cmpxchg` on
//! every `&self`/`&mut self` method call and every `.borrow()`, a large share of the time
//! in loops that touch many small objects (a record's fields). `Field` and `Record` are
//! `frozen` instead, so PyO3 keeps no flag, and hold their state in this cell, which counts
//! borrows in a plain `Cell`: the GIL already keeps other threads out.
//!
//! The rules are `RefCell`'s, and PyO3's: any number of shared borrows, or one mutable
//! borrow. A borrow that breaks them is a Python `RuntimeError` with PyO3's words, never a
//! panic, so code that re-enters an object behaves as it did under PyO3's own check.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::PyClass;
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

// The counters below are plain memory, safe only while the GIL serialises the threads that
// touch them. A free-threaded CPython has no GIL: refuse to build for it.
#[cfg(Py_GIL_DISABLED)]
compile_error!(
    "fastmarc's GilCell relies on the GIL; free-threaded CPython (3.13t, 3.14t) is not supported"
);

/// Shared borrows in force (> 0), a mutable borrow (`MUT`), or none (0).
type Count = isize;
const MUT: Count = -1;

pub struct GilCell<T> {
    count: Cell<Count>,
    value: UnsafeCell<T>,
}

// SAFETY: every way to the counter and the value goes through `borrow`/`borrow_mut`, which
// take a `Python` token, or through the guards they return, which are neither `Send` nor
// `Sync` and so are dropped on the thread that made them, before it can let the GIL go
// (a `Python` token cannot enter `py.detach`). This crate is built only for GIL-enabled
// CPython (the `compile_error!` above), so one thread at a time reads and writes the
// counter, and the GIL's hand-over orders those accesses. A `&T` from a shared borrow may
// reach another thread (inside `py.detach`, say) while other threads share it too: hence
// `T: Sync`; the value moves between threads with its object: hence `T: Send`.
unsafe impl<T: Send + Sync> Sync for GilCell<T> {}

impl<T> GilCell<T> {
    pub const fn new(value: T) -> Self {
        GilCell {
            count: Cell::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// A shared borrow; a `RuntimeError` while the value is mutably borrowed.
    #[inline]
    pub fn borrow<'a>(&'a self, _py: Python<'a>) -> PyResult<Ref<'a, T>> {
        let n = self.count.get();
        if n < 0 {
            return Err(PyRuntimeError::new_err("Already mutably borrowed"));
        }
        self.count.set(n + 1);
        Ok(Ref {
            cell: self,
            _not_send: PhantomData,
        })
    }

    /// The mutable borrow; a `RuntimeError` while the value is borrowed at all.
    #[inline]
    pub fn borrow_mut<'a>(&'a self, _py: Python<'a>) -> PyResult<RefMut<'a, T>> {
        if self.count.get() != 0 {
            return Err(PyRuntimeError::new_err("Already borrowed"));
        }
        self.count.set(MUT);
        Ok(RefMut {
            cell: self,
            _not_send: PhantomData,
        })
    }

    /// Put `value` in and hand back the old one, to be dropped by the caller once the
    /// borrow is over: dropping Python objects may run Python code that uses this object.
    pub fn replace(&self, py: Python<'_>, value: T) -> PyResult<T> {
        Ok(std::mem::replace(&mut *self.borrow_mut(py)?, value))
    }
}

/// A `frozen` pyclass whose whole state is one [`GilCell`] (`Field`, `Record`): what
/// `crate::subclass` needs to make and fill objects of it and of its Python subclasses.
pub trait CellClass:
    PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Sync + Into<pyo3::PyClassInitializer<Self>>
{
    type State;
    fn cell(&self) -> &GilCell<Self::State>;
    fn from_state(state: Self::State) -> Self;
}

/// A shared borrow of a [`GilCell`]'s value. The raw-pointer marker keeps it on its thread.
pub struct Ref<'a, T> {
    cell: &'a GilCell<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the count shows a shared borrow in force, so no `RefMut` exists.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T> Drop for Ref<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.cell.count.set(self.cell.count.get() - 1);
    }
}

/// The mutable borrow of a [`GilCell`]'s value.
pub struct RefMut<'a, T> {
    cell: &'a GilCell<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Deref for RefMut<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the count shows this is the only borrow in force.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T> DerefMut for RefMut<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`; `&mut self` makes this the only reference through it.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T> Drop for RefMut<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.cell.count.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_follow_refcell_rules() {
        Python::initialize();
        Python::attach(|py| {
            let cell = GilCell::new(1);
            {
                let a = cell.borrow(py).unwrap();
                let b = cell.borrow(py).unwrap();
                assert_eq!(*a + *b, 2);
                let err = cell.borrow_mut(py).err().unwrap();
                assert!(err.is_instance_of::<PyRuntimeError>(py));
                assert_eq!(err.value(py).to_string(), "Already borrowed");
            }
            {
                let mut m = cell.borrow_mut(py).unwrap();
                *m = 5;
                let err = cell.borrow(py).err().unwrap();
                assert_eq!(err.value(py).to_string(), "Already mutably borrowed");
                assert!(cell.borrow_mut(py).is_err());
            }
            assert_eq!(*cell.borrow(py).unwrap(), 5);
            assert!(cell.borrow_mut(py).is_ok());
        });
    }
}
