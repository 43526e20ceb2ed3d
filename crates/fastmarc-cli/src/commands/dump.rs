//! `fastmarc dump FILE [--tag T…]`: records in MARC text form (as pymarc prints a record),
//! a blank line between records; with `--tag`, the leader and only those fields. Records
//! are rendered where they are parsed, on every parser thread.

use super::read_settings;
use crate::args::DumpArgs;
use crate::failure::{Failure, EXIT_OK};
use crate::input::Source;
use crate::output::{stdout_error, Destination};
use crate::records::{for_each_record, Input};
use crate::Ctx;
use fastmarc::text::field_to_text;
use fastmarc::Record;
use std::io::Write;

pub fn run(ctx: &Ctx, args: DumpArgs) -> Result<i32, Failure> {
    let permissive = args.permissive.permissive;
    let source = Source::from_arg(&args.file);
    let settings = read_settings(args.read, permissive);
    let tags = args.tags;
    let mut input = Input::open_mapped(&source, settings, "dump", move |rec| {
        let mut text = String::with_capacity(rec.text_len() + 32 * rec.len());
        render(rec, &tags, &mut text);
        text
    })?;
    let mut out = Destination::Stdout.create()?;
    let mut first = true;
    let result = for_each_record(ctx, &mut input, permissive, |_, _, text| {
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

/// The record's text form, or with `tags` given, its leader and the fields with those tags.
fn render(rec: &Record, tags: &[String], out: &mut String) {
    if tags.is_empty() {
        out.push_str(&rec.to_string());
        return;
    }
    out.push_str("=LDR  ");
    out.push_str(rec.leader().as_str());
    out.push('\n');
    for f in rec.fields() {
        if tags.iter().any(|t| t.as_bytes() == f.tag().as_bytes()) {
            out.push_str(&field_to_text(&f));
            out.push('\n');
        }
    }
}
