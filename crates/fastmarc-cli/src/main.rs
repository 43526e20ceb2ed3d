//! The `fastmarc` binary: see the `fastmarc_cli` library.

/// mimalloc, as in the Python package: what parser threads allocate (records, serialised
/// records) is freed on the main thread, and glibc's malloc makes each such free take the
/// allocating thread's arena lock. Measured on `convert` to ISO 2709 with two threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    fastmarc_cli::allocator::configure_process();
    fastmarc_cli::install_interrupt_handler();
    let status = fastmarc_cli::run(std::env::args_os().collect());
    std::process::exit(status);
}
