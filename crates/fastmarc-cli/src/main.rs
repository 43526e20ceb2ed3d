//! The `fastmarc` binary: see the `fastmarc_cli` library.

fn main() {
    fastmarc_cli::install_interrupt_handler();
    let status = fastmarc_cli::run(std::env::args_os().collect());
    std::process::exit(status);
}
