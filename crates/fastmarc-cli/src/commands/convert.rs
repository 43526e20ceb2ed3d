//! `fastmarc convert IN [OUT]`: ISO 2709, MARCXML, MARC-in-JSON and .mrk text to any of them
//! or to MARC text. Text is written as Unicode (MARC-8 is decoded on reading), so leader/09
//! says `a`, unless ISO 2709 is asked for in MARC-8. Records are edited and serialised where
//! they are parsed, on every parser thread; this thread only writes them out in order.

use super::read_settings;
use crate::args::{ConvertArgs, LeaderEdit, Normalize, TagPattern, ToEncoding};
use crate::failure::{eprint_message, Failure, EXIT_FAILURE, EXIT_OK};
use crate::format::InputFormat;
use crate::format::{output_format_for_path, OutputFormat};
use crate::input::{same_file, Source};
use crate::output::{serialise, Destination, RecordWriter, WriteSettings};
use crate::records::{for_each_record, Input, Tally};
use crate::select::Select;
use crate::Ctx;
use fastmarc::xml::XmlLayout;
use fastmarc::{Diagnostic, ErrorKind, Record, TextEncoding};

/// The first option given that a conversion to or from Parquet does not apply, as a
/// message saying so: an option silently left out would give another file than asked for.
fn not_applied(args: &ConvertArgs, from_parquet: bool, to_parquet: bool) -> Option<String> {
    let read = &args.read;
    let shared = [
        (read.normalize != Normalize::None, "--normalize"),
        (read.window.offset != 0, "--offset"),
        (read.window.limit.is_some(), "--limit"),
    ];
    if to_parquet {
        if from_parquet {
            return Some("both files are Parquet: convert one to ISO 2709 first".into());
        }
        // ISO 2709 goes into Arrow batches as read: no record is selected or edited.
        let not_for_parquet = [
            (args.to.is_some(), "--to"),
            (args.pretty, "--pretty"),
            (args.to_encoding != ToEncoding::Utf8, "--to-encoding"),
            (!args.set_leader.is_empty(), "--set-leader"),
            (!args.select.is_empty(), "--select"),
            (!args.delete_tags.is_empty(), "--delete-tag"),
            (
                read.from.is_some_and(|f| f != InputFormat::Iso2709),
                "--from (Parquet is written from ISO 2709)",
            ),
        ];
        return shared
            .iter()
            .chain(&not_for_parquet)
            .find(|(given, _)| *given)
            .map(|(_, option)| format!("{option} does not apply to Parquet output"));
    }
    if args.fields.is_some() {
        return Some("--fields is for Parquet output (an OUT ending in .parquet)".into());
    }
    if from_parquet {
        let not_for_parquet = [
            (read.from.is_some(), "--from"),
            (read.from_encoding.is_some(), "--from-encoding"),
        ];
        return shared
            .iter()
            .chain(&not_for_parquet)
            .find(|(given, _)| *given)
            .map(|(_, option)| format!("{option} does not apply to Parquet input"));
    }
    None
}

/// What is done to each record before it is written.
pub(super) struct Edits {
    set_leader: Vec<LeaderEdit>,
    delete_tags: Vec<TagPattern>,
}

impl Edits {
    pub(super) fn apply(&self, rec: &mut Record) {
        for edit in &self.set_leader {
            for (i, &b) in edit.value.iter().enumerate() {
                rec.leader_mut().set(edit.start + i, b);
            }
        }
        if !self.delete_tags.is_empty() {
            for i in (0..rec.len()).rev() {
                let hit = rec.field(i).is_some_and(|f| {
                    let tag = f.tag();
                    self.delete_tags.iter().any(|p| p.matches(tag.as_bytes()))
                });
                if hit {
                    rec.remove(i);
                }
            }
        }
    }
}

pub fn run(ctx: &Ctx, args: ConvertArgs) -> Result<i32, Failure> {
    let out_arg = args.output_path();
    let dest = Destination::from_arg(&out_arg);
    let source = Source::from_arg(&args.input);
    if let (Source::File(i), Destination::File(o)) = (&source, &dest) {
        if same_file(i, o) {
            return Err(Failure::usage(format!(
                "{}: the output is the input file; it would be overwritten",
                dest.name()
            )));
        }
    }
    let (from_parquet, to_parquet) = (
        super::parquet::is_parquet(&args.input),
        super::parquet::is_parquet(&out_arg),
    );
    if let Some(option) = not_applied(&args, from_parquet, to_parquet) {
        return Err(Failure::usage(option));
    }
    if to_parquet {
        return super::parquet::write(ctx, args);
    }
    let format = match (args.to, &dest) {
        (Some(f), _) => f,
        (None, Destination::Stdout) => OutputFormat::Iso2709,
        (None, Destination::File(p)) => output_format_for_path(p).ok_or_else(|| {
            Failure::usage(format!(
                "{}: cannot tell the output format from the file name; name it with --to \
                 (iso2709, xml, json, jsonl, mrk or text)",
                dest.name()
            ))
        })?,
    };
    let marc8 = args.to_encoding == ToEncoding::Marc8;
    if marc8 && format != OutputFormat::Iso2709 {
        return Err(Failure::usage(format!(
            "--to-encoding marc8 is for ISO 2709 output; {format} is always Unicode"
        )));
    }
    let permissive = args.permissive.permissive;
    let write = WriteSettings {
        format,
        marc8,
        xml_layout: if args.pretty {
            XmlLayout::Indented
        } else {
            XmlLayout::RecordPerLine
        },
        strict: !permissive,
    };
    let edits = Edits {
        set_leader: args.set_leader,
        delete_tags: args.delete_tags,
    };
    let select = Select::parse(&args.select)?;
    if from_parquet {
        let threads = args.read.threads.map(|n| n.get());
        return super::parquet::read(ctx, &args.input, threads, &dest, &write, &edits, &select);
    }
    // Open the input first: if it cannot be read, no output file is created.
    // Asked for MARC-8 by name, the user has already been told the leader's answer.
    let trust_leader = args.read.from_encoding.is_none();
    let mut settings = read_settings(args.read, permissive);
    // Its warning below needs the parser's note.
    settings.reader.parse.detect_utf8_under_marc8 = true;
    let mut input = Input::open_mapped(
        &source,
        settings,
        "convert",
        move |rec| -> Result<_, String> {
            if !select.keeps(rec) {
                return Ok(None);
            }
            let utf8_under_marc8 = rec.diagnostics().iter().find_map(|d| match d {
                Diagnostic::Utf8UnderMarc8(tag) if trust_leader => Some(*tag),
                _ => None,
            });
            if rec.encoding() == TextEncoding::Unicode {
                rec.leader_mut().set_character_coding_scheme(b'a');
            }
            edits.apply(rec);
            let mut serialised = serialise(&write, rec)?;
            if let Some(tag) = utf8_under_marc8 {
                serialised.warnings.push(format!(
                    "leader/09 is blank (MARC-8) but field {tag} holds UTF-8; it was decoded as \
                 MARC-8 (read the file with --from-encoding utf8)"
                ));
            }
            Ok(Some(serialised))
        },
    )?;
    let out_name = dest.name();
    let (out, pending) = dest.create()?;
    let mut writer = RecordWriter::new(&write, out);
    let mut unwritable = 0u64;
    let mut left_out = 0u64;
    let result = for_each_record(ctx, &mut input, permissive, |input, at, serialised| {
        let located = |what: &str| at.say(&input.name, what);
        let record = match serialised {
            Ok(Some(record)) => record,
            Ok(None) => {
                left_out += 1;
                return Ok(());
            }
            Err(why) => {
                let message = located(&format!("cannot be written as {format}: {why}"));
                if !permissive {
                    return Err(Failure::data(message));
                }
                input.warn(&format!("{message} (record skipped)"));
                unwritable += 1;
                return Ok(());
            }
        };
        for warning in &record.warnings {
            input.warn(&located(warning));
        }
        writer
            .write_serialised(&record.bytes)
            .map_err(|e| match e.kind() {
                ErrorKind::Io(..) => Failure::write(&out_name, &e),
                _ => Failure::data(located(&e.kind().to_string())),
            })
    });
    // Close the document even after an error, so what was converted is well-formed.
    let finished = writer.finish().map_err(|e| Failure::write(&out_name, &e));
    let partial = pending.partial_name();
    let outcome = result.and_then(|tally| finished.map(|()| tally));
    let tally = match outcome {
        Ok(tally) => tally,
        Err(mut failure) => {
            if let (Some(message), Some(partial)) = (&mut failure.message, partial) {
                message.push_str(&format!(
                    " ({} not written; what was converted before is in {})",
                    out_name,
                    partial.display()
                ));
            }
            return Err(failure);
        }
    };
    pending.commit()?;
    summarise(&input, tally, unwritable, left_out, permissive)
}

/// With --permissive, what happened: records read, written, skipped (bad, or more than
/// the output format can hold) and not selected; and failure if nothing at all could be
/// read.
fn summarise<T>(
    input: &Input<T>,
    tally: Tally,
    unwritable: u64,
    left_out: u64,
    permissive: bool,
) -> Result<i32, Failure> {
    if !permissive {
        return Ok(EXIT_OK);
    }
    let read = tally.records + tally.skipped;
    let written = tally.records - unwritable - left_out;
    let skipped = tally.skipped + unwritable;
    let mut line = format!(
        "{}: {read} record{} read, {written} written, {skipped} skipped",
        input.name,
        if read == 1 { "" } else { "s" }
    );
    if left_out > 0 {
        line.push_str(&format!(", {left_out} not selected"));
    }
    eprint_message(&line);
    if tally.records == 0 && tally.skipped > 0 {
        eprint_message(&format!("{}: no record could be read", input.name));
        return Ok(EXIT_FAILURE);
    }
    Ok(EXIT_OK)
}
