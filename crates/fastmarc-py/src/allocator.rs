//! The extension's allocator for its own Rust allocations (records, buffers, Arrow data).
//!
//! mimalloc: records are parsed on pool threads and freed by the Python thread that drops
//! them; glibc's malloc makes such a free take the allocating thread's arena lock, and that
//! contention can make `MARCReader(path, threads=2)` slower than one thread. mimalloc frees
//! across threads without a lock. Python's own objects still use Python's allocator.
//! (Without the `mimalloc` feature, for valgrind, the system allocator is used.)

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the mimalloc the `mimalloc` crate builds (v3's `mi_option_t`;
/// libmimalloc-sys names only the stable options).
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds between mimalloc's returns of freed memory to the system.
#[cfg(feature = "mimalloc")]
const PURGE_DELAY_MS: std::os::raw::c_long = 10_000;

/// Keep freed memory for reuse for ten seconds, jemalloc's default decay, instead of
/// mimalloc's one. mimalloc returns everything freed since its last return once the delay
/// has passed, so memory freed a moment before goes too: a program that builds a table,
/// spends a few dozen milliseconds in Python and builds the next (a Dask worker between
/// partitions, a loop over files) got much of the next one as fresh pages from the kernel,
/// a page fault every 4 KiB, thousands a partition. `MIMALLOC_PURGE_DELAY`, when set,
/// still decides.
pub fn keep_freed_memory() {
    #[cfg(feature = "mimalloc")]
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores the value, read where mimalloc purges; any
        // thread may call it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// mimalloc's purge delay in force, in milliseconds (`None` without mimalloc): what
/// [`keep_freed_memory`] set, or what `MIMALLOC_PURGE_DELAY` says.
#[pyo3::pyfunction]
// `c_long` is `i64` here, but 32 bits on Windows.
#[allow(clippy::useless_conversion)]
pub fn purge_delay_ms() -> Option<i64> {
    #[cfg(feature = "mimalloc")]
    {
        // SAFETY: reads an option; any thread may at any time.
        Some(i64::from(unsafe {
            libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY)
        }))
    }
    #[cfg(not(feature = "mimalloc"))]
    None
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::useless_conversion)]
    fn the_option_set_is_mimallocs_purge_delay() {
        // Before `keep_freed_memory`, the option holds mimalloc's default purge delay,
        // 1000 ms, which no option near it in `mi_option_t` has.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), Some(1000));
            keep_freed_memory();
            assert_eq!(purge_delay_ms(), Some(i64::from(PURGE_DELAY_MS)));
        }
    }
}
