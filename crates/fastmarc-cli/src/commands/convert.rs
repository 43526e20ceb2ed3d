//! `fastmarc convert IN OUT`: ISO 2709, MARCXML and MARC-in-JSON to any of them or to MARC
//! text. Text is always written as Unicode (MARC-8 is decoded on reading), so leader/09
//! says `a` in every output. Records are serialised where they are parsed, on every parser
//! thread; this thread only writes them out in order.

use super::read_settings;
use crate::args::ConvertArgs;
use crate::failure::{Failure, EXIT_OK};
use crate::format::{output_format_for_path, OutputFormat};
use crate::input::{same_file, Source};
use crate::output::{serialise, Destination, RecordWriter};
use crate::records::{for_each_record, Input};
use crate::Ctx;
use fastmarc::{ErrorKind, TextEncoding};

pub fn run(ctx: &Ctx, args: ConvertArgs) -> Result<i32, Failure> {
    if super::parquet::is_parquet(&args.output) {
        return super::parquet::write(ctx, args);
    }
    if super::parquet::is_parquet(&args.input) {
        return super::parquet::read(ctx, args);
    }
    let dest = Destination::from_arg(&args.output);
    let format = match (args.to, &dest) {
        (Some(f), _) => f,
        (None, Destination::Stdout) => OutputFormat::Iso2709,
        (None, Destination::File(p)) => output_format_for_path(p).ok_or_else(|| {
            Failure::usage(format!(
                "{}: cannot tell the output format from the file name; name it with --to \
                 (iso2709, xml, json or text)",
                dest.name()
            ))
        })?,
    };
    let source = Source::from_arg(&args.input);
    if let (Source::File(i), Destination::File(o)) = (&source, &dest) {
        if same_file(i, o) {
            return Err(Failure::usage(format!(
                "{}: the output is the input file; it would be overwritten",
                dest.name()
            )));
        }
    }
    let permissive = args.permissive.permissive;
    // Open the input first: if it cannot be read, no output file is created.
    let settings = read_settings(args.read, permissive);
    let mut input = Input::open_mapped(&source, settings, "convert", move |rec| {
        if rec.encoding() == TextEncoding::Unicode {
            rec.leader_mut().set_character_coding_scheme(b'a');
        }
        serialise(format, rec)
    })?;
    let out_name = dest.name();
    let mut writer = RecordWriter::new(format, dest.create()?);
    let result =
        for_each_record(
            ctx,
            &mut input,
            permissive,
            |input, number, serialised| match serialised
                .and_then(|record| writer.write_serialised(&record))
            {
                Ok(()) => Ok(()),
                Err(e) if matches!(e.kind, ErrorKind::Io(..)) => Err(Failure::write(&out_name, &e)),
                Err(e) => {
                    let message = format!(
                        "{}: record {}: cannot be written as {format}: {}",
                        input.name,
                        number + 1,
                        e.kind
                    );
                    if permissive {
                        input.warn(&format!("{message} (record skipped)"));
                        Ok(())
                    } else {
                        Err(Failure::data(message))
                    }
                }
            },
        );
    // Close the document even after an error, so what was converted is well-formed.
    let finished = writer.finish().map_err(|e| Failure::write(&out_name, &e));
    result?;
    finished?;
    Ok(EXIT_OK)
}
