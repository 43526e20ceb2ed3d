//! `fastmarc count [FILE…]`: the number of records (stdin without a file); with several files `N<TAB>FILE` lines
//! and a total. A file that cannot be read is reported and left out of the lines; the
//! others are still counted, and the exit status is 1.

use super::read_settings;
use crate::args::CountArgs;
use crate::failure::{eprint_message, Failure, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK};
use crate::input::Source;
use crate::output::{stdout_error, Destination};
use crate::records::{for_each_record, Input};
use crate::select::Select;
use crate::Ctx;
use std::io::Write;

pub fn run(ctx: &Ctx, args: CountArgs) -> Result<i32, Failure> {
    let settings = read_settings(args.read, args.permissive.permissive);
    let select = Select::parse(&args.select)?;
    let several = args.files.len() > 1;
    let mut status = EXIT_OK;
    let mut total = 0u64;
    let (mut out, _stdout) = Destination::Stdout.create()?;
    for path in &args.files {
        let source = Source::from_arg(path);
        let mut kept = 0u64;
        let counted = Input::open(&source, settings, "count").and_then(|mut input| {
            for_each_record(ctx, &mut input, args.permissive.permissive, |_, _, rec| {
                kept += u64::from(select.keeps(&rec));
                Ok(())
            })
        });
        match counted {
            Ok(_) => {
                total += kept;
                if several {
                    writeln!(out, "{kept}\t{}", source.name())
                } else {
                    writeln!(out, "{kept}")
                }
                .and_then(|_| out.flush())
                .map_err(stdout_error)?;
            }
            Err(failure) if failure.status == EXIT_INTERRUPTED => return Err(failure),
            Err(failure) => {
                if let Some(message) = failure.message {
                    eprint_message(&message);
                }
                status = EXIT_FAILURE;
            }
        }
    }
    if several {
        writeln!(out, "{total}\ttotal").map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)?;
    Ok(status)
}
