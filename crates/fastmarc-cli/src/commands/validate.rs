//! `fastmarc validate FILE…`: every structural problem, one line each with record number
//! and byte offset, then a summary line per file; exit status 1 if any problem was found.
//! Parsing is strict and ISO 2709 reading resynchronises after a problem, so the records
//! after it are checked too.

use super::checking_settings;
use crate::args::ValidateArgs;
use crate::failure::{eprint_message, located, Failure, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK};
use crate::input::Source;
use crate::output::{stdout_error, Destination};
use crate::records::Input;
use crate::Ctx;
use std::io::Write;

pub fn run(ctx: &Ctx, args: ValidateArgs) -> Result<i32, Failure> {
    let settings = checking_settings(args.read);
    let mut out = Destination::Stdout.create()?;
    let mut status = EXIT_OK;
    for path in &args.files {
        let source = Source::from_arg(path);
        match validate_one(ctx, &source, settings, &mut out) {
            Ok(0) => {}
            Ok(_) => status = EXIT_FAILURE,
            Err(f) if f.status == EXIT_INTERRUPTED => {
                out.flush().map_err(stdout_error)?;
                return Err(f);
            }
            Err(f) => {
                out.flush().map_err(stdout_error)?;
                if let Some(message) = &f.message {
                    eprint_message(message);
                }
                if f.status == EXIT_OK {
                    // stdout has gone away (a closed pipe): nothing more can be reported.
                    return Err(f);
                }
                status = EXIT_FAILURE;
            }
        }
    }
    out.flush().map_err(stdout_error)?;
    Ok(status)
}

/// Check one input, writing its problems and summary to `out`; returns the number of
/// problems.
fn validate_one(
    ctx: &Ctx,
    source: &Source,
    settings: crate::records::ReadSettings,
    out: &mut dyn Write,
) -> Result<u64, Failure> {
    let mut input = Input::open(source, settings, "validate")?;
    let mut records = 0u64;
    let mut problems = 0u64;
    while let Some(result) = input.next_result() {
        ctx.check_stop()?;
        records += 1;
        input.progress.record_done();
        if let Err(e) = result {
            problems += 1;
            let mut line = located(&input.name, &e);
            if !input.recoverable {
                line.push_str(&format!(
                    " (a {} document cannot be checked past this point)",
                    input.format
                ));
            }
            writeln!(out, "{line}").map_err(stdout_error)?;
        }
    }
    let verdict = match problems {
        0 => "no problems".to_string(),
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    writeln!(
        out,
        "{}: {records} record{} checked, {verdict}",
        input.name,
        if records == 1 { "" } else { "s" }
    )
    .map_err(stdout_error)?;
    Ok(problems)
}
