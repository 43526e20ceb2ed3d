//! Free lists for the classes made and dropped by the hundred thousand (fields, records).
//!
//! A program that reads a file makes a `Field` object for every field it looks at and drops
//! it a moment later. Reusing the memory of dropped objects saves the allocator and the
//! collector's bookkeeping. PyO3's own `freelist` option guards its list with a mutex, so
//! that it works without a GIL too; on a GIL-enabled interpreter that is two atomic
//! read-modify-write instructions per object made and two per object dropped, which showed
//! up as a sizeable share of a loop over fields. Here the list is guarded by the GIL itself:
//! the type's `tp_alloc` and `tp_free` slots only run in a thread attached to the
//! interpreter, and the crate is only built for interpreters with a GIL (`crate::gil_cell`
//! refuses a free-threaded build).

use std::cell::UnsafeCell;
use std::os::raw::c_void;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::PyTypeInfo;

/// Dropped objects of one exact class, ready to be handed out again.
pub struct FreeList {
    /// The class whose objects this list holds; set once by [`install`].
    ty: UnsafeCell<*mut ffi::PyTypeObject>,
    objects: UnsafeCell<Vec<*mut ffi::PyObject>>,
    capacity: usize,
}

// SAFETY: the cells are only touched by `install` and the slot functions, which CPython
// calls with the GIL held; on a GIL-enabled interpreter that serialises every access.
unsafe impl Sync for FreeList {}

impl FreeList {
    pub const fn new(capacity: usize) -> FreeList {
        FreeList {
            ty: UnsafeCell::new(std::ptr::null_mut()),
            objects: UnsafeCell::new(Vec::new()),
            capacity,
        }
    }
}

/// A class that keeps a free list of its own objects.
pub trait Pooled: PyTypeInfo {
    fn free_list() -> &'static FreeList;
}

/// Make `T`'s objects come from and return to its free list. Call at module set-up, before
/// any object of `T` exists: objects made by the previous allocator are freed by the same
/// function as ours (`PyObject_GC_Del`), so the order is only a matter of tidiness.
/// Python subclasses of `T` are not affected: CPython gives every class made by a `class`
/// statement the generic allocator and deallocator of its own.
pub fn install<T: Pooled>(py: Python<'_>) {
    let ty = T::type_object_raw(py);
    let list = T::free_list();
    // SAFETY: we hold the GIL; `ty` is `T`'s heap type object, alive for the interpreter's
    // life, and its slots may be replaced before instances exist.
    unsafe {
        *list.ty.get() = ty;
        (*list.objects.get()).reserve_exact(list.capacity);
        (*ty).tp_alloc = Some(alloc::<T>);
        (*ty).tp_free = Some(free::<T>);
    }
}

unsafe extern "C" fn alloc<T: Pooled>(
    subtype: *mut ffi::PyTypeObject,
    nitems: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    let list = T::free_list();
    // SAFETY: CPython calls tp_alloc with the GIL held (see the module comment).
    unsafe {
        if nitems == 0 && std::ptr::eq(subtype, *list.ty.get()) {
            if let Some(obj) = (*list.objects.get()).pop() {
                // The memory is a dropped object of exactly this class: same size, already
                // untracked by the collector. Give it its type and a reference count again.
                // (Left untracked, as PyO3's own free list leaves it: the collector cannot
                // follow these classes' references anyway; see `crate::untracked`.)
                ffi::PyObject_Init(obj, subtype);
                return obj;
            }
            // None to reuse: new memory in the same state, untracked and not zeroed (PyO3
            // writes every byte of the object after the header, as it does over a reused
            // one). `PyType_GenericAlloc` would also clear it and track it, only for the
            // caller to untrack it again: a sizeable share of making a field object.
            return ffi::PyObject_GC_New::<ffi::PyObject>(subtype);
        }
        ffi::PyType_GenericAlloc(subtype, nitems)
    }
}

unsafe extern "C" fn free<T: Pooled>(obj: *mut c_void) {
    if obj.is_null() {
        return;
    }
    let list = T::free_list();
    // SAFETY: CPython calls tp_free with the GIL held, on an object whose deallocator has
    // run (it is untracked and its contents dropped).
    unsafe {
        let obj = obj.cast::<ffi::PyObject>();
        let objects = &mut *list.objects.get();
        if std::ptr::eq(ffi::Py_TYPE(obj), *list.ty.get()) && objects.len() < list.capacity {
            objects.push(obj);
        } else {
            ffi::PyObject_GC_Del(obj.cast());
        }
    }
}
