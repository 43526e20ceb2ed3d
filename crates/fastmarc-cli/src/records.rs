//! Records from an opened input, whatever its format, and the loop the record-by-record
//! commands share: good records go to the command, bad ones end it or, when permissive,
//! are reported and skipped.

use crate::contain::contain;
use crate::failure::{located, Failure};
use crate::format::InputFormat;
use crate::input::{open, Opened, Source};
use crate::progress::Progress;
use crate::Ctx;
use fastmarc::iso2709::{Reader, ReaderOptions, Recovery};
use fastmarc::json::JsonReader;
use fastmarc::parallel::ParallelReader;
use fastmarc::xml::XmlReader;
use fastmarc::{ErrorKind, Record};
use std::io::BufReader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How records are read.
#[derive(Debug, Clone, Copy)]
pub struct ReadSettings {
    pub from: Option<InputFormat>,
    /// Parser threads for ISO 2709 (`None`: every core; 1: parse on this thread).
    pub threads: Option<usize>,
    pub reader: ReaderOptions,
}

/// An input being read record by record.
pub struct Input {
    pub name: String,
    pub format: InputFormat,
    records: Box<dyn Iterator<Item = fastmarc::Result<Record>>>,
    /// Whether reading can go on after a bad record (ISO 2709 resynchronises; a MARCXML or
    /// JSON reader cannot find its way after an error).
    pub recoverable: bool,
    pub progress: Progress,
    bytes_read: Arc<AtomicU64>,
}

impl Input {
    pub fn open(source: &Source, settings: ReadSettings, label: &str) -> Result<Input, Failure> {
        let Opened {
            name,
            format,
            reader,
            bytes_read,
            size,
        } = open(source, settings.from)?;
        let records: Box<dyn Iterator<Item = fastmarc::Result<Record>>> = match format {
            InputFormat::Iso2709 if settings.threads == Some(1) => {
                Box::new(Reader::with_options(reader, settings.reader))
            }
            InputFormat::Iso2709 => Box::new(
                ParallelReader::new(reader, settings.reader, settings.threads)
                    .map_err(|e| Failure::data(format!("{name}: {e}")))?,
            ),
            InputFormat::Xml => Box::new(XmlReader::new(BufReader::with_capacity(1 << 16, reader))),
            InputFormat::Json => {
                Box::new(JsonReader::new(BufReader::with_capacity(1 << 16, reader)))
            }
        };
        let progress = Progress::new(label, size, bytes_read.clone());
        Ok(Input {
            recoverable: format == InputFormat::Iso2709
                && settings.reader.recovery == Recovery::Resync,
            name,
            format,
            records,
            progress,
            bytes_read,
        })
    }

    /// The next record or error, `None` at the end.
    pub fn next_result(&mut self) -> Option<fastmarc::Result<Record>> {
        self.records.next()
    }

    /// Bytes read from the input so far (all of it once the records are exhausted).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Print a warning to stderr.
    pub fn warn(&self, message: &str) {
        self.progress.eprint_message(&format!("warning: {message}"));
    }
}

/// What [`for_each_record`] saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub records: u64,
    pub skipped: u64,
}

/// Hand every good record of `input` to `each` with its 0-based number in the input. A bad
/// record ends reading with an error; with `permissive`, one that reading can get past is
/// reported as a warning and skipped instead. A record on which `each` panics (a bug) counts
/// as bad, so `each` must leave nothing half done when it panics. Checks for Ctrl-C between
/// records.
pub fn for_each_record(
    ctx: &Ctx,
    input: &mut Input,
    permissive: bool,
    mut each: impl FnMut(&Input, u64, Record) -> Result<(), Failure>,
) -> Result<Tally, Failure> {
    let mut tally = Tally::default();
    let mut number = 0u64;
    while let Some(result) = input.next_result() {
        ctx.check_stop()?;
        match result {
            Ok(rec) => match contain(|| each(input, number, rec)) {
                Ok(done) => {
                    done?;
                    tally.records += 1;
                    input.progress.record_done();
                }
                // A bug met on one record: that record is bad, the others may still be good.
                Err(panic) => {
                    let message = format!(
                        "{}: record {}: internal error: {panic} (this is a bug in fastmarc; \
                         please report it)",
                        input.name,
                        number + 1
                    );
                    if !permissive {
                        return Err(Failure::data(message));
                    }
                    input.warn(&format!("{message} (record skipped)"));
                    tally.skipped += 1;
                }
            },
            Err(e) => {
                let io = matches!(e.kind, ErrorKind::Io(..));
                if permissive && input.recoverable && !io {
                    input.warn(&format!("{} (record skipped)", located(&input.name, &e)));
                    tally.skipped += 1;
                } else {
                    let mut message = located(&input.name, &e);
                    if permissive && !io {
                        message.push_str(&format!(
                            " (a {} reader cannot go on after an error)",
                            input.format
                        ));
                    }
                    return Err(Failure::data(message));
                }
            }
        }
        number += 1;
    }
    Ok(tally)
}
