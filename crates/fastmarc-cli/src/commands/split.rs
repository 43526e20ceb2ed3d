//! `fastmarc split FILE --records N [--prefix P] [--force]`: `P0001.mrc`, `P0002.mrc`, … of
//! N records each, every record's bytes copied unchanged. Existing parts are not
//! overwritten without --force.

use crate::args::SplitArgs;
use crate::failure::{Failure, EXIT_OK};
use crate::input::Source;
use crate::output::{Destination, Pending};
use crate::raw_records::RawInput;
use crate::Ctx;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A part being written.
struct Part {
    dest: Destination,
    out: Box<dyn Write>,
    pending: Pending,
}

pub fn run(ctx: &Ctx, args: SplitArgs) -> Result<i32, Failure> {
    let source = Source::from_arg(&args.file);
    let prefix = args
        .prefix
        .clone()
        .unwrap_or_else(|| default_prefix(&source));
    let per_file = args.records.get();
    let part_path = |n: u64| PathBuf::from(format!("{prefix}{n:04}.mrc"));
    // Refuse before reading anything when the first part is there already.
    check_free(&part_path(1), args.force)?;
    let mut input = RawInput::open(&source, args.permissive.permissive, "split")?;
    let window = super::window(args.window);
    let mut part: Option<Part> = None;
    let mut in_part = 0usize;
    let mut parts = 0u64;
    let result = input.for_each(ctx, window, |bytes| {
        if part.is_none() {
            parts += 1;
            let path = part_path(parts);
            check_free(&path, args.force)?;
            let dest = Destination::File(path);
            let (out, pending) = dest.create()?;
            part = Some(Part { dest, out, pending });
        }
        if let Some(p) = &mut part {
            p.out
                .write_all(bytes)
                .map_err(|e| Failure::io(&p.dest.name(), "write error", &e))?;
        }
        in_part += 1;
        if in_part == per_file {
            in_part = 0;
            close(part.take())?;
        }
        Ok(())
    });
    if result.is_err() {
        // The part being written when reading failed is kept as PART.partial.
        drop(part.take());
    }
    let closed = close(part.take());
    result?;
    closed?;
    Ok(EXIT_OK)
}

fn check_free(path: &Path, force: bool) -> Result<(), Failure> {
    if !force && path.exists() {
        return Err(Failure::data(format!(
            "{}: exists already; --force to overwrite it",
            path.display()
        )));
    }
    Ok(())
}

fn close(part: Option<Part>) -> Result<(), Failure> {
    match part {
        Some(Part {
            dest,
            mut out,
            pending,
        }) => {
            out.flush()
                .map_err(|e| Failure::io(&dest.name(), "write error", &e))?;
            drop(out);
            pending.commit()
        }
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
