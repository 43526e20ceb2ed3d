//! Records from an opened input, whatever its format, and the loop the record-by-record
//! commands share: good records go to the command, bad ones end it or, when permissive,
//! are reported and skipped. A command whose work per record is heavy (serialising it)
//! opens the input mapped: that work is then done on the parser threads.

use crate::failure::{located, Failure};
use crate::format::InputFormat;
use crate::input::{open, ByteStream, Opened, Source};
use crate::prepare::Prepare;
use crate::progress::Progress;
use crate::Ctx;
use fastmarc::internal::contain;
use fastmarc::iso2709::{Reader, ReaderOptions, Recovery};
use fastmarc::json::JsonReader;
use fastmarc::mrk::MrkReader;
use fastmarc::parallel::{Located, ParallelMap, ParallelOptions, ParallelReader, Polled};
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
    pub prepare: Prepare,
    pub window: Window,
}

/// Which records a command sees: `limit` records after the first `offset` (counted as
/// they come, bad ones included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub offset: u64,
    pub limit: Option<u64>,
}

/// What [`Input::open_mapped`]'s function made of a record, or the message of the panic it
/// met making it.
pub type Made<T> = Result<T, String>;

/// Where a record is in its input: its number (from 0, bad records counted) and the byte
/// offset where it starts (for a record that could not be read, where the error is).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct At {
    pub number: u64,
    pub offset: u64,
}

impl At {
    /// `FILE: record N, byte offset O: what`, the form of every message about a record.
    pub fn say(&self, name: &str, what: &str) -> String {
        format!(
            "{name}: record {}, byte offset {}: {what}",
            self.number + 1,
            self.offset
        )
    }
}

/// One record as an input gives it: the record (or what was made of it) or the error in
/// its place, where it starts, and a warning about the record as read.
pub struct Got<T> {
    pub result: fastmarc::Result<T>,
    pub offset: u64,
    pub note: Option<String>,
}

impl<T> Got<T> {
    fn new(result: fastmarc::Result<T>, offset: u64) -> Got<T> {
        Got {
            result,
            offset,
            note: None,
        }
    }
}

/// What an input gives for each record it could read: the record, or what was made of it.
pub trait Delivered {
    type Value;
    fn value(self) -> Made<Self::Value>;
}

impl Delivered for Record {
    type Value = Record;
    fn value(self) -> Made<Record> {
        Ok(self)
    }
}

impl<T> Delivered for Made<T> {
    type Value = T;
    fn value(self) -> Made<T> {
        self
    }
}

type Records<T> = Box<dyn Iterator<Item = Got<T>>>;

/// An input being read record by record, each record as a `T`: the record itself, or (from
/// [`Input::open_mapped`]) what a function made of it.
pub struct Input<T = Record> {
    pub name: String,
    pub format: InputFormat,
    records: Records<T>,
    /// Whether reading can go on after a bad record (ISO 2709 resynchronises, .mrk goes on
    /// at the next record; a MARCXML or JSON reader cannot find its way after an error).
    pub recoverable: bool,
    pub progress: Progress,
    bytes_read: Arc<AtomicU64>,
    window: Window,
    /// Results taken from `records` so far, the window's skipped ones included.
    seen: u64,
}

impl Input {
    pub fn open(source: &Source, settings: ReadSettings, label: &str) -> Result<Input, Failure> {
        Input::from_opened(open(source, settings.from)?, settings, label)
    }

    /// The records of an input already opened.
    pub fn from_opened(
        opened: Opened,
        settings: ReadSettings,
        label: &str,
    ) -> Result<Input, Failure> {
        let (reader, about) = opened.split();
        let prepare = settings.prepare;
        let records: Records<Record> = match about.format {
            InputFormat::Iso2709 if settings.threads != Some(1) => {
                let reader = ParallelReader::new(reader, settings.reader, settings.threads)
                    .map_err(|e| Failure::data(format!("{}: {e}", about.name)))?;
                Box::new(LocatedRecords::new(reader).map(move |mut got| {
                    if let Ok(rec) = &mut got.result {
                        got.note = prepare.apply(rec);
                    }
                    got
                }))
            }
            _ => read_here(about.format, reader, settings, move |rec| {
                let note = prepare.apply(rec);
                (rec.clone(), note)
            }),
        };
        Ok(Input::over(about, records, settings, label))
    }
}

impl<T: Send + 'static> Input<Made<T>> {
    /// Each record handed to the command as `make` of it. Parsing ISO 2709 on several
    /// threads, `make` runs on the parser threads, so its work scales with them (handing
    /// every record to this thread instead costs it every cache line of the record); else
    /// on this thread as each record is read. A panic in `make` counts as a bad record.
    pub fn open_mapped(
        source: &Source,
        settings: ReadSettings,
        label: &str,
        make: impl Fn(&mut Record) -> T + Send + Sync + 'static,
    ) -> Result<Input<Made<T>>, Failure> {
        let opened = open(source, settings.from)?;
        let (reader, about) = opened.split();
        let prepare = settings.prepare;
        // The note is kept even when `make` panics: it is about the record as read.
        let make = move |rec: &mut Record| {
            let mut note = None;
            let made = contain(|| {
                note = prepare.apply(rec);
                make(rec)
            });
            (made, note)
        };
        let records: Records<Made<T>> = match about.format {
            InputFormat::Iso2709 if settings.threads != Some(1) => {
                let opts = ParallelOptions::new(settings.reader, settings.threads);
                Box::new(
                    ParallelMap::positioned(reader, opts, move |r, at| match r {
                        Ok(rec) => {
                            let (made, note) = make(rec);
                            Got {
                                result: Ok(made),
                                offset: at.offset,
                                note,
                            }
                        }
                        Err(e) => Got::new(Err(e), at.offset),
                    })
                    .map_err(|e| Failure::data(format!("{}: {e}", about.name)))?,
                )
            }
            _ => read_here(about.format, reader, settings, make),
        };
        Ok(Input::over(about, records, settings, label))
    }
}

/// The records of a [`ParallelReader`] with where each starts.
struct LocatedRecords {
    reader: ParallelReader,
    batch: std::vec::IntoIter<Located>,
}

impl LocatedRecords {
    fn new(reader: ParallelReader) -> LocatedRecords {
        LocatedRecords {
            reader,
            batch: Vec::new().into_iter(),
        }
    }
}

impl Iterator for LocatedRecords {
    type Item = Got<Record>;

    fn next(&mut self) -> Option<Got<Record>> {
        loop {
            if let Some(located) = self.batch.next() {
                let offset = located.offset;
                return Some(Got::new(located.into_result(), offset));
            }
            match self.reader.poll() {
                Polled::Batch(batch) => self.batch = batch.into_iter(),
                // A reader over a `Read` never waits for pushed input.
                Polled::NeedsInput | Polled::End => return None,
            }
        }
    }
}

/// A reader that parses into a caller's record and says where the record started.
trait RecordReader {
    fn read_into(&mut self, rec: &mut Record) -> fastmarc::Result<bool>;
    fn record_offset(&self) -> u64;
}

macro_rules! record_reader {
    ($bound:path: $($reader:ident),*) => {$(
        impl<R: $bound> RecordReader for $reader<R> {
            fn read_into(&mut self, rec: &mut Record) -> fastmarc::Result<bool> {
                self.read_record(rec)
            }
            fn record_offset(&self) -> u64 {
                $reader::record_offset(self)
            }
        }
    )*};
}
record_reader!(std::io::Read: Reader);
record_reader!(std::io::BufRead: XmlReader, JsonReader, MrkReader);

/// The records of an input read on this thread, each parsed into one reused record and
/// handed to `make` (which also says what to warn about). An I/O error ends the input.
fn read_here<T: 'static>(
    format: InputFormat,
    reader: impl std::io::Read + 'static,
    settings: ReadSettings,
    mut make: impl FnMut(&mut Record) -> (T, Option<String>) + 'static,
) -> Records<T> {
    let buffered = |reader| BufReader::with_capacity(1 << 16, reader);
    let mut source: Box<dyn RecordReader> = match format {
        // It reads into a buffer of its own.
        InputFormat::Iso2709 => Box::new(Reader::with_options(reader, settings.reader)),
        InputFormat::Xml => Box::new(XmlReader::new(buffered(reader))),
        InputFormat::Json => Box::new(JsonReader::new(buffered(reader))),
        InputFormat::Mrk => Box::new(MrkReader::new(buffered(reader))),
    };
    let mut rec = Record::new();
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        match source.read_into(&mut rec) {
            Ok(false) => None,
            Ok(true) => {
                let (value, note) = make(&mut rec);
                Some(Got {
                    result: Ok(value),
                    offset: source.record_offset(),
                    note,
                })
            }
            Err(e) => {
                done = matches!(e.kind(), ErrorKind::Io(..));
                let offset = e.offset().unwrap_or_else(|| source.record_offset());
                Some(Got::new(Err(e), offset))
            }
        }
    }))
}

/// An opened input apart from its reader.
struct About {
    name: String,
    format: InputFormat,
    bytes_read: Arc<AtomicU64>,
    size: Option<u64>,
}

impl Opened {
    fn split(self) -> (ByteStream, About) {
        let Opened {
            name,
            format,
            reader,
            bytes_read,
            size,
        } = self;
        let about = About {
            name,
            format,
            bytes_read,
            size,
        };
        (reader, about)
    }
}

impl<T> Input<T> {
    fn over(about: About, records: Records<T>, settings: ReadSettings, label: &str) -> Input<T> {
        let About {
            name,
            format,
            bytes_read,
            size,
        } = about;
        let progress = Progress::new(label, size, bytes_read.clone());
        Input {
            recoverable: match format {
                InputFormat::Iso2709 => settings.reader.recovery == Recovery::Resync,
                InputFormat::Mrk => true,
                InputFormat::Xml | InputFormat::Json => false,
            },
            name,
            format,
            records,
            progress,
            bytes_read,
            window: settings.window,
            seen: 0,
        }
    }

    /// The next record (or what was made of it) or error in the window, with where it is
    /// in the input; `None` at the end of the input or of the window. A warning about the
    /// record as read is printed here.
    pub fn next_result(&mut self) -> Option<(At, fastmarc::Result<T>)> {
        loop {
            if let Some(limit) = self.window.limit {
                if self.seen >= self.window.offset.saturating_add(limit) {
                    return None;
                }
            }
            let got = self.records.next()?;
            let at = At {
                number: self.seen,
                offset: got.offset,
            };
            self.seen += 1;
            // Errors before the window still count: reading cannot tell what it skipped.
            if at.number >= self.window.offset || got.result.is_err() {
                if let Some(note) = &got.note {
                    self.warn(&at.say(&self.name, note));
                }
                return Some((at, got.result));
            }
        }
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

/// Hand every good record of `input` to `each` with where it is in the input. A bad
/// record ends reading with an error; with `permissive`, one that reading can get past is
/// reported as a warning and skipped instead. A record on which `each` panics (a bug) counts
/// as bad, so `each` must leave nothing half done when it panics. Checks for Ctrl-C between
/// records.
pub fn for_each_record<T: Delivered>(
    ctx: &Ctx,
    input: &mut Input<T>,
    permissive: bool,
    mut each: impl FnMut(&Input<T>, At, T::Value) -> Result<(), Failure>,
) -> Result<Tally, Failure> {
    let mut tally = Tally::default();
    while let Some((at, result)) = input.next_result() {
        ctx.check_stop()?;
        match result {
            Ok(got) => match got.value().and_then(|v| contain(|| each(input, at, v))) {
                Ok(done) => {
                    done?;
                    tally.records += 1;
                    input.progress.record_done();
                }
                // A bug met on one record: that record is bad, the others may still be good.
                Err(panic) => {
                    let message = at.say(
                        &input.name,
                        &format!(
                            "internal error: {panic} (this is a bug in fastmarc; please \
                             report it)"
                        ),
                    );
                    if !permissive {
                        return Err(Failure::data(message));
                    }
                    input.warn(&format!("{message} (record skipped)"));
                    tally.skipped += 1;
                }
            },
            Err(e) => {
                let io = matches!(e.kind(), ErrorKind::Io(..));
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
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastmarc::iso2709::record_to_bytes;
    use fastmarc::{Field, Tag};
    use std::sync::atomic::AtomicBool;

    /// A file of `n` records whose 001 is their number.
    fn numbered_file(dir: &std::path::Path, n: usize) -> Source {
        let mut bytes = Vec::new();
        for i in 0..n {
            let mut rec = Record::new();
            rec.push(&Field::control(Tag::new("001").unwrap(), i.to_string()));
            bytes.extend(record_to_bytes(&rec).unwrap());
        }
        let path = dir.join("numbered.mrc");
        std::fs::write(&path, bytes).unwrap();
        Source::File(path)
    }

    fn number(rec: &Record) -> usize {
        rec.get("001")
            .and_then(|f| f.data())
            .unwrap()
            .parse()
            .unwrap()
    }

    /// `make` takes each record's number, and panics on record 700: on whichever thread
    /// parsed it, the record is bad and only that record is lost.
    #[test]
    fn a_panic_in_a_mapped_input_is_one_bad_record_on_any_thread() {
        let dir = tempfile::TempDir::new().unwrap();
        let source = numbered_file(dir.path(), 2000);
        let stop = AtomicBool::new(false);
        let ctx = Ctx { stop: &stop };
        for threads in [1, 2, 4] {
            for permissive in [true, false] {
                let settings = ReadSettings {
                    from: None,
                    threads: Some(threads),
                    prepare: Prepare::default(),
                    window: Window::default(),
                    reader: ReaderOptions::strict(),
                };
                let mut input = Input::open_mapped(&source, settings, "test", |rec| {
                    let n = number(rec);
                    assert!(n != 700, "make panics");
                    n
                })
                .unwrap();
                let mut seen = Vec::new();
                let result = for_each_record(&ctx, &mut input, permissive, |_, at, n| {
                    assert_eq!(at.number as usize, n, "numbered in file order");
                    seen.push(n);
                    Ok(())
                });
                let expected: Vec<usize> = if permissive {
                    (0..2000).filter(|&n| n != 700).collect()
                } else {
                    (0..700).collect()
                };
                assert_eq!(seen, expected, "{threads} threads, permissive {permissive}");
                match result {
                    Ok(tally) => {
                        assert!(permissive);
                        assert_eq!((tally.records, tally.skipped), (1999, 1));
                    }
                    Err(failure) => {
                        assert!(!permissive);
                        let message = failure.message.unwrap_or_default();
                        assert!(
                            message.contains("record 701, byte offset ")
                                && message.contains(": internal error: make panics"),
                            "{message}"
                        );
                    }
                }
            }
        }
    }
}
