//! ISO 2709 records as their original bytes, framing checked but not parsed, for the
//! commands that copy records without re-encoding them (split, cat).

use crate::failure::{located, Failure};
use crate::input::{open_iso2709, ByteStream, Opened, Source};
use crate::progress::Progress;
use crate::records::Window;
use crate::Ctx;
use fastmarc::iso2709::{Reader, ReaderOptions, Recovery};
use fastmarc::{Error, ErrorKind};

/// An ISO 2709 input read record by record as bytes.
pub struct RawInput {
    pub name: String,
    reader: Reader<ByteStream>,
    progress: Progress,
    permissive: bool,
}

impl RawInput {
    /// Open `source`; with `permissive`, broken framing is skipped up to the next record
    /// terminator instead of ending the input.
    pub fn open(source: &Source, permissive: bool, label: &str) -> Result<RawInput, Failure> {
        Ok(RawInput::from_opened(
            open_iso2709(source)?,
            permissive,
            label,
        ))
    }

    /// Read an input already opened as ISO 2709.
    pub fn from_opened(opened: Opened, permissive: bool, label: &str) -> RawInput {
        let recovery = if permissive {
            Recovery::Resync
        } else {
            Recovery::Stop
        };
        let opts = ReaderOptions {
            recovery,
            ..ReaderOptions::strict()
        };
        RawInput {
            name: opened.name,
            reader: Reader::with_options(opened.reader, opts),
            progress: Progress::new(label, opened.size, opened.bytes_read),
            permissive,
        }
    }

    /// Hand each record in `window` to `each` with its 0-based number: its bytes and the
    /// byte offset where it starts, or the framing error met in its place. Checks for
    /// Ctrl-C between records.
    pub fn for_each_framed(
        &mut self,
        ctx: &Ctx,
        window: Window,
        mut each: impl FnMut(u64, Result<(u64, &[u8]), Error>) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let end = window.limit.map(|l| window.offset.saturating_add(l));
        let mut number = 0u64;
        while end.is_none_or(|end| number < end) {
            let Some(result) = self.reader.next_raw() else {
                break;
            };
            ctx.check_stop()?;
            let this = number;
            number += 1;
            match result {
                Ok(bytes) if this >= window.offset => {
                    let len = bytes.len() as u64;
                    // The framer has moved past the record: it started `len` bytes back.
                    let bytes = bytes.to_vec();
                    let start = self.reader.offset() - len;
                    each(this, Ok((start, &bytes)))?;
                    self.progress.record_done();
                }
                Ok(_) => {}
                Err(e) => each(this, Err(e))?,
            }
        }
        Ok(())
    }

    /// Hand the bytes of each well-framed record in `window` to `each`; returns how many
    /// there were. Broken framing is an error, or with `permissive` a warning (the bytes up
    /// to the next record terminator are left out). Checks for Ctrl-C between records.
    pub fn for_each(
        &mut self,
        ctx: &Ctx,
        window: Window,
        mut each: impl FnMut(&[u8]) -> Result<(), Failure>,
    ) -> Result<u64, Failure> {
        let end = window.limit.map(|l| window.offset.saturating_add(l));
        let mut number = 0u64;
        let mut records = 0u64;
        while end.is_none_or(|end| number < end) {
            let Some(result) = self.reader.next_raw() else {
                break;
            };
            ctx.check_stop()?;
            number += 1;
            match result {
                Ok(_) if number <= window.offset => {}
                Ok(bytes) => {
                    each(bytes)?;
                    records += 1;
                    self.progress.record_done();
                }
                Err(e) if self.permissive && !matches!(e.kind(), ErrorKind::Io(..)) => {
                    let message = located(&self.name, &e);
                    self.progress.eprint_message(&format!(
                        "warning: {message} (skipped to the next record terminator)"
                    ));
                }
                Err(e) => return Err(Failure::data(located(&self.name, &e))),
            }
        }
        Ok(records)
    }
}
