//! One module per subcommand.

mod cat;
mod completions;
mod convert;
mod count;
mod dump;
mod manpage;
mod parquet;
mod split;
mod stats;
mod validate;

use crate::args::{Command, ReadArgs};
use crate::failure::Failure;
use crate::records::ReadSettings;
use crate::Ctx;
use fastmarc::iso2709::{ParseOptions, ReaderOptions, Recovery};

/// Run a subcommand; `Ok` carries the exit status.
pub fn run(ctx: &Ctx, command: Command) -> Result<i32, Failure> {
    match command {
        Command::Count(a) => count::run(ctx, a),
        Command::Stats(a) => stats::run(ctx, a),
        Command::Convert(a) => convert::run(ctx, a),
        Command::Dump(a) => dump::run(ctx, a),
        Command::Validate(a) => validate::run(ctx, a),
        Command::Split(a) => split::run(ctx, a),
        Command::Cat(a) => cat::run(ctx, a),
        Command::Completions(a) => completions::run(a),
        Command::Manpage(a) => manpage::run(a),
    }
}

/// Strict parsing, where a bad record ends the stream; or with `permissive`, parsing as
/// lenient as pymarc's (odd indicators and subfield codes taken as they are, so every record
/// pymarc reads is kept) and resynchronising after a record that cannot be read at all.
fn read_settings(read: ReadArgs, permissive: bool) -> ReadSettings {
    ReadSettings {
        from: read.from,
        threads: read.threads.map(|n| n.get()),
        reader: if permissive {
            ReaderOptions {
                parse: ParseOptions {
                    strict: false,
                    ..ParseOptions::default()
                },
                recovery: Recovery::Resync,
            }
        } else {
            ReaderOptions::strict()
        },
    }
}

/// Strict parsing that resynchronises after a bad record, for the commands that report
/// every problem (stats, validate).
fn checking_settings(read: ReadArgs) -> ReadSettings {
    ReadSettings {
        from: read.from,
        threads: read.threads.map(|n| n.get()),
        reader: ReaderOptions {
            recovery: Recovery::Resync,
            ..ReaderOptions::strict()
        },
    }
}
