//! `fastmarc cat FILE… [-o OUT]`: ISO 2709 files joined byte for byte, each record's
//! framing checked on the way.

use crate::args::CatArgs;
use crate::failure::{Failure, EXIT_OK};
use crate::input::{same_file, Source};
use crate::output::Destination;
use crate::raw_records::RawInput;
use crate::Ctx;
use std::io::Write;

pub fn run(ctx: &Ctx, args: CatArgs) -> Result<i32, Failure> {
    let dest = Destination::from_arg(&args.output);
    let sources: Vec<Source> = args.files.iter().map(|p| Source::from_arg(p)).collect();
    if let Destination::File(o) = &dest {
        for source in &sources {
            if let Source::File(i) = source {
                if same_file(i, o) {
                    return Err(Failure::usage(format!(
                        "{}: the output is one of the input files; it would be overwritten",
                        dest.name()
                    )));
                }
            }
        }
    }
    let out_name = dest.name();
    let window = super::window(args.window);
    let (mut out, pending) = dest.create()?;
    let mut result = Ok(0);
    for source in &sources {
        result = RawInput::open(source, args.permissive.permissive, "cat").and_then(|mut input| {
            input.for_each(ctx, window, |bytes| {
                out.write_all(bytes)
                    .map_err(|e| Failure::io(&out_name, "write error", &e))
            })
        });
        if result.is_err() {
            break;
        }
    }
    let flushed = out
        .flush()
        .map_err(|e| Failure::io(&out_name, "write error", &e));
    drop(out);
    result?;
    flushed?;
    pending.commit()?;
    Ok(EXIT_OK)
}
