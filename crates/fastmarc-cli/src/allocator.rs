//! The settings fastmarc's processes give mimalloc, the allocator of the standalone binary
//! and of the Python extension: records and buffers built on parser threads are freed by
//! another thread, which glibc's malloc makes contend for the allocating thread's arena.

/// `mi_option_purge_delay` in the mimalloc the `mimalloc` crate builds (v3's `mi_option_t`;
/// libmimalloc-sys names only the stable options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// `mi_option_allow_thp` in the same `mi_option_t`.
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Milliseconds between mimalloc's returns of freed memory to the system.
const PURGE_DELAY_MS: std::os::raw::c_long = 10_000;

/// Set mimalloc's options for this process: the binary does first thing, the Python
/// extension at import. A variable of mimalloc's own (`MIMALLOC_PURGE_DELAY`,
/// `MIMALLOC_ALLOW_THP`), when set, still decides.
///
/// - Keep freed memory for reuse for ten seconds, jemalloc's default decay, instead of
///   mimalloc's one. mimalloc returns everything freed since its last return once the
///   delay has passed, so memory freed a moment before goes too: a program that builds a
///   table, spends a few dozen milliseconds in Python and builds the next (a Dask worker
///   between partitions, a loop over files) got much of the next one as fresh pages from
///   the kernel, a page fault every 4 KiB, thousands a partition.
/// - Ask for no transparent huge pages. mimalloc marks its memory `MADV_HUGEPAGE`, and on
///   kernels set to defragment for such memory (`defrag=madvise`, a common default) the
///   first touch of each 2 MiB waits for the kernel to compact memory: building a table of
///   a gigabyte of records took four times as long, nearly all of it system time. Set
///   after mimalloc started, the option only stops that advice for memory mapped from now
///   on; it does not switch huge pages off for the rest of the process, as mimalloc does
///   when `MIMALLOC_ALLOW_THP=0` is set before it starts.
pub fn configure() {
    for (option, variable, value) in [
        (
            MI_OPTION_PURGE_DELAY,
            "MIMALLOC_PURGE_DELAY",
            PURGE_DELAY_MS,
        ),
        (MI_OPTION_ALLOW_THP, "MIMALLOC_ALLOW_THP", 0),
    ] {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mi_option_set only stores the value, read where mimalloc purges or
            // maps memory; any thread may call it at any time.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

/// [`configure`] for a process that is all fastmarc, the standalone binary. The Rust
/// runtime allocates before `main`, so mimalloc has already mapped memory marked for huge
/// pages; switching them off for the process, as mimalloc does itself when
/// `MIMALLOC_ALLOW_THP=0` is set, covers that memory too.
pub fn configure_process() {
    configure();
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: sets a flag of this process's memory map; no memory is touched.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

/// The options [`configure`] sets, as in force: the purge delay in milliseconds, and
/// whether mimalloc asks for transparent huge pages.
pub fn options() -> (i64, bool) {
    // SAFETY: reads options; any thread may at any time.
    let (delay, thp) = unsafe {
        (
            libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY),
            libmimalloc_sys::mi_option_get(MI_OPTION_ALLOW_THP),
        )
    };
    // `c_long` is `i64` here, but 32 bits on Windows.
    #[allow(clippy::useless_conversion)]
    (i64::from(delay), thp != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // `c_long` is `i64` here, but 32 bits on Windows.
    #[allow(clippy::useless_conversion)]
    fn the_options_set_are_mimallocs_purge_delay_and_huge_pages() {
        // Before `configure`, the options hold mimalloc's defaults, 1000 ms and 1 (allowed),
        // which no option near either in `mi_option_t` has.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
            && std::env::var_os("MIMALLOC_ALLOW_THP").is_none()
        {
            assert_eq!(options(), (1000, true));
            configure();
            assert_eq!(options(), (PURGE_DELAY_MS.into(), false));
        }
    }
}
