//! The extension's allocator for its own Rust allocations (records, buffers, Arrow data):
//! mimalloc, set up as the standalone binary's (`fastmarc_cli::allocator`). Python's own
//! objects still use Python's allocator. (Without the `mimalloc` feature, for valgrind, the
//! system allocator is used.)

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options for this process, at import.
pub fn configure() {
    #[cfg(feature = "mimalloc")]
    fastmarc_cli::allocator::configure();
}

/// The options [`configure`] sets, as in force (`None` without mimalloc): the purge delay
/// in milliseconds and whether mimalloc asks for transparent huge pages.
#[pyo3::pyfunction]
pub fn allocator_options() -> Option<(i64, bool)> {
    #[cfg(feature = "mimalloc")]
    return Some(fastmarc_cli::allocator::options());
    #[cfg(not(feature = "mimalloc"))]
    None
}
