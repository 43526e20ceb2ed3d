//! One module per subcommand.

mod cat;
mod convert;
mod count;
mod dump;
mod split;
mod stats;
mod validate;

use crate::args::{Command, ReadArgs};
use crate::failure::Failure;
use crate::records::ReadSettings;
use crate::Ctx;
use fastmarc::iso2709::ReaderOptions;

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
    }
}

/// Strict parsing; a bad record ends the stream unless `permissive`, which resynchronises
/// after it so that every good record is still read.
fn read_settings(read: ReadArgs, permissive: bool) -> ReadSettings {
    ReadSettings {
        from: read.from,
        threads: read.threads.map(|n| n.get()),
        reader: if permissive {
            ReaderOptions::permissive()
        } else {
            ReaderOptions::strict()
        },
    }
}
