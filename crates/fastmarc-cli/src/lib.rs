//! The `fastmarc` command: count, stats, convert, dump, validate, split and cat for MARC 21
//! files in ISO 2709, MARCXML and MARC-in-JSON.
//!
//! [`run`] is the whole program (the binary and the Python package's `fastmarc` script both
//! call it): it parses the arguments, runs the subcommand, prints diagnostics to stderr as
//! `fastmarc: <file>: record N, byte offset O: <what>` and returns the exit status:
//! 0 success, 1 bad data or problems found, 2 usage error, 130 interrupted.

pub mod allocator;
mod args;
mod commands;
mod failure;
mod format;
mod input;
mod interrupt;
mod output;
pub use input::same_file;
pub use output::Replacement;
mod prepare;
mod progress;
mod raw_records;
mod records;
mod select;

pub use failure::{EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE};
pub use interrupt::install_interrupt_handler;

use clap::Parser;
use failure::Failure;
use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};

/// What every command gets: the flag Ctrl-C sets.
pub(crate) struct Ctx<'a> {
    stop: &'a AtomicBool,
}

impl Ctx<'_> {
    /// Stop here if Ctrl-C was pressed.
    pub(crate) fn check_stop(&self) -> Result<(), Failure> {
        if self.stop.load(Ordering::Relaxed) {
            Err(Failure::interrupted())
        } else {
            Ok(())
        }
    }
}

/// Run the command line `args` (program name first) and return the exit status. Ctrl-C is
/// seen only if [`install_interrupt_handler`] was called.
pub fn run(args: Vec<OsString>) -> i32 {
    run_with_stop_flag(args, interrupt::global_flag())
}

/// [`run`], stopping with status 130 soon after `stop` becomes true (checked between
/// records). For hosts with their own Ctrl-C handling.
pub fn run_with_stop_flag(args: Vec<OsString>, stop: &AtomicBool) -> i32 {
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let ctx = Ctx { stop };
    // A bug must not end in a panic report (or a Python traceback): report it as an error.
    match fastmarc::internal::contain(|| commands::run(&ctx, cli.command)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            if let Some(message) = failure.message {
                failure::eprint_message(&message);
            }
            failure.status
        }
        Err(panic) => {
            failure::eprint_message(&format!(
                "internal error: {panic} (this is a bug in fastmarc; please report it)"
            ));
            EXIT_FAILURE
        }
    }
}
