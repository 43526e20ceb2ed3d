//! `fastmarc split FILE --records N [--prefix P]`: `P0001.mrc`, `P0002.mrc`, … of N records
//! each, every record's bytes copied unchanged.

use crate::args::SplitArgs;
use crate::failure::{Failure, EXIT_OK};
use crate::input::Source;
use crate::output::Destination;
use crate::raw_records::RawInput;
use crate::Ctx;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(ctx: &Ctx, args: SplitArgs) -> Result<i32, Failure> {
    let source = Source::from_arg(&args.file);
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| default_prefix(&source));
    let per_file = args.records.get();
    let mut input = RawInput::open(&source, args.permissive.permissive, "split")?;
    let mut part: Option<(Destination, Box<dyn Write>)> = None;
    let mut in_part = 0usize;
    let mut parts = 0u64;
    let result = input.for_each(ctx, |bytes| {
        if part.is_none() {
            parts += 1;
            let dest = Destination::File(PathBuf::from(format!("{prefix}{parts:04}.mrc")));
            let out = dest.create()?;
            part = Some((dest, out));
        }
        if let Some((dest, out)) = &mut part {
            out.write_all(bytes)
                .map_err(|e| Failure::io(&dest.name(), "write error", &e))?;
        }
        in_part += 1;
        if in_part == per_file {
            in_part = 0;
            close(part.take())?;
        }
        Ok(())
    });
    let closed = close(part.take());
    result?;
    closed?;
    Ok(EXIT_OK)
}

fn close(part: Option<(Destination, Box<dyn Write>)>) -> Result<(), Failure> {
    match part {
        Some((dest, mut out)) => out
            .flush()
            .map_err(|e| Failure::io(&dest.name(), "write error", &e)),
        None => Ok(()),
    }
}

/// The input's file name without its extension and a `-`, in the current directory.
fn default_prefix(source: &Source) -> String {
    let stem = match source {
        Source::Stdin => None,
        Source::File(p) => Path::new(p).file_stem().map(|s| s.to_string_lossy()),
    };
    format!("{}-", stem.as_deref().unwrap_or("stdin"))
}
