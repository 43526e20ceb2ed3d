//! `fastmarc dump FILE [--tag T…] [--print-offsets]`: records in MARC text form (as pymarc
//! prints a record), a blank line between records; with `--tag`, the leader and only the
//! fields whose tags match. Records are rendered where they are parsed, on every parser
//! thread.

use super::read_settings;
use crate::args::{DumpArgs, TagPattern};
use crate::failure::{eprint_message, located, Failure, EXIT_OK};
use crate::input::Source;
use crate::output::{stdout_error, Destination};
use crate::raw_records::RawInput;
use crate::records::{for_each_record, At, Input, ReadSettings};
use crate::select::Select;
use crate::Ctx;
use fastmarc::iso2709::parse_record;
use fastmarc::{ErrorKind, Record};
use std::io::Write;

pub fn run(ctx: &Ctx, args: DumpArgs) -> Result<i32, Failure> {
    let permissive = args.permissive.permissive;
    let source = Source::from_arg(&args.file);
    let settings = read_settings(args.read, permissive);
    let tags = args.tags;
    let select = Select::parse(&args.select)?;
    if args.print_offsets {
        return dump_with_offsets(ctx, &source, settings, &tags, &select, permissive);
    }
    let mut input = Input::open_mapped(&source, settings, "dump", move |rec| {
        if !select.keeps(rec) {
            return None;
        }
        let mut text = String::with_capacity(rec.text_len() + 32 * rec.len());
        render(rec, &tags, &mut text);
        Some(text)
    })?;
    let (mut out, _stdout) = Destination::Stdout.create()?;
    let mut first = true;
    let result = for_each_record(ctx, &mut input, permissive, |_, _, text| {
        let Some(text) = text else { return Ok(()) };
        if !first {
            out.write_all(b"\n").map_err(stdout_error)?;
        }
        first = false;
        out.write_all(text.as_bytes()).map_err(stdout_error)
    });
    let flushed = out.flush().map_err(stdout_error);
    result?;
    flushed?;
    Ok(EXIT_OK)
}

/// Dump ISO 2709 record by record on this thread, each record after a
/// `# record N, byte offset O` line (where its leader starts in the input).
fn dump_with_offsets(
    ctx: &Ctx,
    source: &Source,
    settings: ReadSettings,
    tags: &[TagPattern],
    select: &Select,
    permissive: bool,
) -> Result<i32, Failure> {
    let mut input = RawInput::open(source, permissive, "dump")?;
    let name = input.name.clone();
    let (mut out, _stdout) = Destination::Stdout.create()?;
    let mut rec = Record::new();
    let mut text = String::new();
    let mut first = true;
    let result = input.for_each_framed(ctx, settings.window, |number, framed| {
        let parsed = framed.and_then(|(start, bytes)| {
            parse_record(bytes, &settings.reader.parse, &mut rec)
                .map(|()| start)
                .map_err(|e| e.located(number, start))
        });
        match parsed {
            Ok(start) => {
                if let Some(note) = settings.prepare.apply(&mut rec) {
                    let at = At {
                        number,
                        offset: start,
                    };
                    eprint_message(&format!("warning: {}", at.say(&name, &note)));
                }
                if !select.keeps(&rec) {
                    return Ok(());
                }
                text.clear();
                if !first {
                    text.push('\n');
                }
                first = false;
                text.push_str(&format!("# record {}, byte offset {start}\n", number + 1));
                render(&rec, tags, &mut text);
                out.write_all(text.as_bytes()).map_err(stdout_error)
            }
            Err(e) if permissive && !matches!(e.kind(), ErrorKind::Io(..)) => {
                eprint_message(&format!("warning: {} (record skipped)", located(&name, &e)));
                Ok(())
            }
            Err(e) => Err(Failure::data(located(&name, &e))),
        }
    });
    let flushed = out.flush().map_err(stdout_error);
    result?;
    flushed?;
    Ok(EXIT_OK)
}

/// The record's text form, or with `tags` given, its leader and the fields that match.
fn render(rec: &Record, tags: &[TagPattern], out: &mut String) {
    if tags.is_empty() {
        out.push_str(&rec.to_string());
        return;
    }
    out.push_str("=LDR  ");
    out.push_str(rec.leader().as_str());
    out.push('\n');
    for f in rec.fields() {
        if tags.iter().any(|t| t.matches(f.tag().as_bytes())) {
            out.push_str(&f.to_string());
            out.push('\n');
        }
    }
}
