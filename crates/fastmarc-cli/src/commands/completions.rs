//! `fastmarc completions SHELL`: a completion script for the shell, generated from the same
//! clap definitions as the command itself, so it always knows every subcommand and option.

use crate::args::{Cli, CompletionsArgs};
use crate::failure::{Failure, EXIT_OK};
use crate::output::stdout_error;
use clap::CommandFactory;
use std::io::Write;

pub fn run(args: CompletionsArgs) -> Result<i32, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "fastmarc", &mut script);
    // Written here rather than by clap_complete, which panics on a write error.
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|_| out.flush())
        .map_err(stdout_error)?;
    Ok(EXIT_OK)
}
