//! `fastmarc validate FILE… [--format json]`: every problem, one line each with record
//! number, byte offset and field, then a summary line per file; exit status 1 if any
//! problem was found. Records are parsed strictly, and records that parse are checked for
//! what breaks other systems (see `fastmarc::check_record`). ISO 2709 reading resynchronises after
//! a problem, so the records after it are checked too.

use super::checking_settings;
use crate::args::{ReportFormat, ValidateArgs};
use crate::failure::{eprint_message, located, Failure, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK};
use crate::format::InputFormat;
use crate::input::{open, Source};
use crate::output::{stdout_error, Destination};
use crate::raw_records::RawInput;
use crate::records::{Input, ReadSettings};
use crate::Ctx;
use fastmarc::iso2709::{parse_record, Decoding};
use fastmarc::{check_iso2709, check_record, Error, Problem, Record};
use std::io::Write;

pub fn run(ctx: &Ctx, args: ValidateArgs) -> Result<i32, Failure> {
    let settings = checking_settings(args.read);
    let (mut out, _stdout) = Destination::Stdout.create()?;
    let mut status = EXIT_OK;
    for path in &args.files {
        let source = Source::from_arg(path);
        let mut report = Report {
            out: &mut out,
            format: args.format,
            name: source.name(),
            records: 0,
            problems: 0,
        };
        match validate_one(ctx, &source, settings, &mut report).and_then(|()| report.summary()) {
            Ok(0) => {}
            Ok(_) => status = EXIT_FAILURE,
            Err(f) if f.status == EXIT_INTERRUPTED => {
                out.flush().map_err(stdout_error)?;
                return Err(f);
            }
            Err(f) => {
                out.flush().map_err(stdout_error)?;
                if let Some(message) = &f.message {
                    eprint_message(message);
                }
                if f.status == EXIT_OK {
                    // stdout has gone away (a closed pipe): nothing more can be reported.
                    return Err(f);
                }
                status = EXIT_FAILURE;
            }
        }
    }
    out.flush().map_err(stdout_error)?;
    Ok(status)
}

/// Problems and the summary of one input, as text lines or JSON Lines.
struct Report<'a> {
    out: &'a mut dyn Write,
    format: ReportFormat,
    name: String,
    records: u64,
    problems: u64,
}

impl Report<'_> {
    /// One problem of record `number` (0-based), at `offset` in the input when known.
    fn problem(
        &mut self,
        number: u64,
        offset: Option<u64>,
        field: Option<&str>,
        what: &str,
    ) -> Result<(), Failure> {
        self.problems += 1;
        let line = match self.format {
            ReportFormat::Text => {
                let mut line = format!("{}: record {}", self.name, number + 1);
                if let Some(o) = offset {
                    line.push_str(&format!(", byte offset {o}"));
                }
                if let Some(f) = field {
                    line.push_str(&format!(", field {f}"));
                }
                line.push_str(&format!(": {what}"));
                line
            }
            ReportFormat::Json => format!(
                "{{\"file\":{},\"record\":{},\"offset\":{},\"field\":{},\"problem\":{}}}",
                json_string(&self.name),
                number + 1,
                offset.map_or("null".into(), |o| o.to_string()),
                field.map_or("null".into(), json_string),
                json_string(what)
            ),
        };
        writeln!(self.out, "{line}").map_err(stdout_error)
    }

    /// A record that could not be read at all.
    fn error(
        &mut self,
        number: u64,
        e: &Error,
        recoverable: bool,
        format: InputFormat,
    ) -> Result<(), Failure> {
        let mut what = e.kind().to_string();
        if !recoverable {
            what.push_str(&format!(
                " (a {format} document cannot be checked past this point)"
            ));
        }
        if self.format == ReportFormat::Text {
            // The core's own wording of where: record, offset.
            let mut line = located(&self.name, e);
            if !recoverable {
                line.push_str(&format!(
                    " (a {format} document cannot be checked past this point)"
                ));
            }
            self.problems += 1;
            return writeln!(self.out, "{line}").map_err(stdout_error);
        }
        self.problem(e.record().unwrap_or(number), e.offset(), None, &what)
    }

    /// The problems found in record `number`, which starts at `start` in the input; a
    /// problem without an offset of its own is reported at the record's start.
    fn problems_of(
        &mut self,
        number: u64,
        start: Option<u64>,
        found: Vec<Problem>,
    ) -> Result<(), Failure> {
        for p in found {
            let offset = start.map(|s| s + p.offset.unwrap_or(0));
            self.problem(number, offset, Some(&p.field), &p.what)?;
        }
        Ok(())
    }

    /// The summary line; returns the number of problems.
    fn summary(&mut self) -> Result<u64, Failure> {
        let line = match self.format {
            ReportFormat::Text => {
                let verdict = match self.problems {
                    0 => "no problems".to_string(),
                    1 => "1 problem".to_string(),
                    n => format!("{n} problems"),
                };
                format!(
                    "{}: {} record{} checked, {verdict}",
                    self.name,
                    self.records,
                    if self.records == 1 { "" } else { "s" }
                )
            }
            ReportFormat::Json => format!(
                "{{\"file\":{},\"records\":{},\"problems\":{}}}",
                json_string(&self.name),
                self.records,
                self.problems
            ),
        };
        writeln!(self.out, "{line}").map_err(stdout_error)?;
        Ok(self.problems)
    }
}

/// A JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Check one input, writing its problems to the report.
fn validate_one(
    ctx: &Ctx,
    source: &Source,
    settings: ReadSettings,
    report: &mut Report,
) -> Result<(), Failure> {
    let opened = open(source, settings.from)?;
    report.name = opened.name.clone();
    if opened.format == InputFormat::Iso2709 {
        let input = RawInput::from_opened(opened, true, "validate");
        return validate_iso2709(ctx, input, settings, report);
    }
    let mut input = Input::from_opened(opened, settings, "validate")?;
    let (recoverable, format) = (input.recoverable, input.format);
    while let Some((at, result)) = input.next_result() {
        ctx.check_stop()?;
        report.records += 1;
        input.progress.record_done();
        match result {
            // Where the record starts: the checks of a parsed record cannot say more.
            Ok(rec) => report.problems_of(at.number, Some(at.offset), check_record(&rec))?,
            Err(e) => report.error(at.number, &e, recoverable, format)?,
        }
    }
    Ok(())
}

/// ISO 2709, record by record: framing, a strict parse, then the checks on its bytes.
fn validate_iso2709(
    ctx: &Ctx,
    mut input: RawInput,
    settings: ReadSettings,
    report: &mut Report,
) -> Result<(), Failure> {
    // Bytes as they are: decoding problems are the checks' to report, with offsets.
    let mut parse = settings.reader.parse;
    parse.decoding = Decoding::Raw;
    let mut rec = Record::new();
    input.for_each_framed(ctx, settings.window, |number, framed| {
        report.records += 1;
        match framed {
            Err(e) => report.error(number, &e, true, InputFormat::Iso2709),
            Ok((start, bytes)) => match parse_record(bytes, &parse, &mut rec) {
                Err(e) => report.error(
                    number,
                    &e.located(number, start),
                    true,
                    InputFormat::Iso2709,
                ),
                Ok(()) => report.problems_of(number, Some(start), check_iso2709(bytes)),
            },
        }
    })
}
