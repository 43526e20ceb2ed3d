//! CPython's object memory with its pages provided up front, on Linux.
//!
//! What fastmarc makes when a program first touches a record (its fields and subfields,
//! the dicts of `as_dict()`) is new memory: CPython's small-object allocator takes it from
//! the system an arena (1 MiB) at a time, and the kernel then provides each 4 KiB page at
//! its first write, one page fault each. Those faults cost about as much as making the
//! objects. Asking for an arena's pages in one call when it is made (`MADV_POPULATE_WRITE`,
//! Linux 5.14) costs half as much. The interpreter's arena allocator is wrapped, not
//! replaced; a kernel without the advice refuses it, and pages come at first write as
//! before. The advice changes no byte of memory.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use pyo3::ffi;

/// The arena allocator the interpreter had before.
struct Wrapped(ffi::PyObjectArenaAllocator);

// SAFETY: the allocator's context pointer is only handed back to its own functions, which
// CPython calls with the GIL held; this module never dereferences it.
unsafe impl Send for Wrapped {}
unsafe impl Sync for Wrapped {}

static WRAPPED: OnceLock<Wrapped> = OnceLock::new();

/// Where the arena made last begins, and its size (0: none, or given back), for the tests
/// to look at.
static NEWEST: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

extern "C" fn alloc(_ctx: *mut c_void, size: usize) -> *mut c_void {
    let inner = &WRAPPED
        .get()
        .expect("set before this allocator is installed")
        .0;
    let Some(wrapped_alloc) = inner.alloc else {
        return std::ptr::null_mut();
    };
    let arena = wrapped_alloc(inner.ctx, size);
    if !arena.is_null() {
        // SAFETY: `arena` is `size` bytes of memory just mapped for the new arena; the
        // advice only provides its pages (an error, such as an unaligned or unknown
        // request, leaves them to come at first write).
        unsafe { libc::madvise(arena, size, libc::MADV_POPULATE_WRITE) };
        NEWEST[0].store(arena as usize, Ordering::Relaxed);
        NEWEST[1].store(size, Ordering::Relaxed);
    }
    arena
}

extern "C" fn free(_ctx: *mut c_void, ptr: *mut c_void, size: usize) {
    if NEWEST[0].load(Ordering::Relaxed) == ptr as usize {
        NEWEST[1].store(0, Ordering::Relaxed);
    }
    let inner = &WRAPPED
        .get()
        .expect("set before this allocator is installed")
        .0;
    if let Some(wrapped_free) = inner.free {
        wrapped_free(inner.ctx, ptr, size);
    }
}

/// Wrap the interpreter's arena allocator (once per process).
pub fn install(_py: pyo3::Python<'_>) {
    let mut current = ffi::PyObjectArenaAllocator {
        ctx: std::ptr::null_mut(),
        alloc: None,
        free: None,
    };
    // SAFETY: the GIL is held (the token); CPython fills in the struct.
    unsafe { ffi::PyObject_GetArenaAllocator(&mut current) };
    if WRAPPED.set(Wrapped(current)).is_err() {
        return;
    }
    let mut ours = ffi::PyObjectArenaAllocator {
        ctx: std::ptr::null_mut(),
        alloc: Some(alloc),
        free: Some(free),
    };
    // SAFETY: the GIL is held; arenas made before are freed through the wrapped allocator
    // that made them.
    unsafe { ffi::PyObject_SetArenaAllocator(&mut ours) };
}

/// The arena made last through [`install`]'s allocator, as (address, size), unless it has
/// been given back.
#[pyo3::pyfunction]
pub fn newest_arena() -> Option<(usize, usize)> {
    let size = NEWEST[1].load(Ordering::Relaxed);
    (size > 0).then(|| (NEWEST[0].load(Ordering::Relaxed), size))
}
