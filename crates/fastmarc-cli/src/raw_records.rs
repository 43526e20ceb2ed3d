//! ISO 2709 records as their original bytes, framing checked but not parsed, for the
//! commands that copy records without re-encoding them (split, cat).

use crate::failure::{located, Failure};
use crate::input::{open_iso2709, ByteStream, Source};
use crate::progress::Progress;
use crate::Ctx;
use fastmarc::iso2709::{Reader, ReaderOptions, Recovery};
use fastmarc::ErrorKind;

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
        let opened = open_iso2709(source)?;
        let recovery = if permissive {
            Recovery::Resync
        } else {
            Recovery::Stop
        };
        let opts = ReaderOptions {
            recovery,
            ..ReaderOptions::strict()
        };
        Ok(RawInput {
            name: opened.name,
            reader: Reader::with_options(opened.reader, opts),
            progress: Progress::new(label, opened.size, opened.bytes_read),
            permissive,
        })
    }

    /// Hand each well-framed record's bytes to `each`; returns how many there were. Broken
    /// framing is an error, or with `permissive` a warning (the bytes up to the next record
    /// terminator are left out). Checks for Ctrl-C between records.
    pub fn for_each(
        &mut self,
        ctx: &Ctx,
        mut each: impl FnMut(&[u8]) -> Result<(), Failure>,
    ) -> Result<u64, Failure> {
        let mut records = 0u64;
        while let Some(result) = self.reader.next_raw() {
            ctx.check_stop()?;
            match result {
                Ok(bytes) => {
                    each(bytes)?;
                    records += 1;
                    self.progress.record_done();
                }
                Err(e) if self.permissive && !matches!(e.kind, ErrorKind::Io(..)) => {
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
