//! One module per subcommand.

mod cat;
mod completions;
mod convert;
mod count;
mod dump;
mod help;
mod manpage;
mod parquet;
mod split;
mod stats;
mod validate;

use crate::args::{Command, FromEncoding, ReadArgs, WindowArgs};
use crate::failure::Failure;
use crate::prepare::Prepare;
use crate::records::{ReadSettings, Window};
use crate::Ctx;
use fastmarc::iso2709::{Decoding, ParseOptions, ReaderOptions, Recovery, Utf8Errors};

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
        Command::Help(a) => help::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Manpage(a) => manpage::run(a),
    }
}

/// Strict parsing, where a bad record ends the stream; or with `permissive`, parsing as
/// lenient as pymarc's (odd indicators and subfield codes taken as they are, so every record
/// pymarc reads is kept), text that is not valid UTF-8 replaced by U+FFFD rather than the
/// record lost, and resynchronising after a record that cannot be read at all.
fn read_settings(read: ReadArgs, permissive: bool) -> ReadSettings {
    let mut reader = if permissive {
        ReaderOptions {
            parse: ParseOptions {
                strict: false,
                utf8_errors: Utf8Errors::Replace,
                ..ParseOptions::default()
            },
            recovery: Recovery::Resync,
        }
    } else {
        ReaderOptions::strict()
    };
    reader.parse.decoding = decoding(read.from_encoding);
    let mut settings = settings(read, reader);
    settings.prepare.note_replacement = permissive;
    settings
}

/// Strict parsing that resynchronises after a bad record, for the commands that report
/// every problem (stats, validate).
fn checking_settings(read: ReadArgs) -> ReadSettings {
    let mut reader = ReaderOptions {
        recovery: Recovery::Resync,
        ..ReaderOptions::strict()
    };
    reader.parse.decoding = decoding(read.from_encoding);
    settings(read, reader)
}

fn decoding(from: Option<FromEncoding>) -> Decoding {
    match from {
        None => Decoding::Auto,
        Some(FromEncoding::Utf8) => Decoding::Utf8,
        Some(FromEncoding::Marc8) => Decoding::Marc8,
        Some(FromEncoding::Latin1) => Decoding::Raw,
    }
}

fn window(args: WindowArgs) -> Window {
    Window {
        offset: args.offset,
        limit: args.limit,
    }
}

fn settings(read: ReadArgs, reader: ReaderOptions) -> ReadSettings {
    ReadSettings {
        from: read.from,
        threads: read.threads.map(|n| n.get()),
        reader,
        prepare: Prepare {
            latin1: read.from_encoding == Some(FromEncoding::Latin1),
            normalize: read.normalize,
            note_replacement: false,
        },
        window: window(read.window),
    }
}
