//! Where output goes (a file, or stdout for `-`) and writing records to it in any output
//! format. A file is written under a temporary name in its folder and renamed when the
//! command succeeds, so an interrupted or failed run never leaves a file that looks
//! complete: what was written before the failure is kept as `OUT.partial`.

use crate::failure::{plain_io, Failure};
use crate::format::OutputFormat;
use fastmarc::iso2709::{record_to_bytes, Writer as IsoWriter};
use fastmarc::json::{write_record_json, JsonLayout, JsonLinesWriter, JsonWriter};
use fastmarc::marc8::record_to_marc8;
use fastmarc::mrk::{write_record_mrk, MrkWriter};
use fastmarc::xml::{
    find_unwritable_xml, write_record_xml_as, XmlLayout, XmlWriteOptions, XmlWriter,
};
use fastmarc::Record;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where an output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    /// `-` is stdout; anything else a file.
    pub fn from_arg(path: &Path) -> Destination {
        if path.as_os_str() == "-" {
            Destination::Stdout
        } else {
            Destination::File(path.to_path_buf())
        }
    }

    pub fn name(&self) -> String {
        match self {
            Destination::Stdout => "<stdout>".into(),
            Destination::File(p) => p.display().to_string(),
        }
    }

    /// Take stdout, or create the file under a temporary name; buffered. The file gets its
    /// name when [`Pending::commit`] is called.
    pub fn create(&self) -> Result<(Box<dyn Write>, Pending), Failure> {
        Ok(match self {
            Destination::Stdout => (
                Box::new(BufWriter::with_capacity(1 << 16, io::stdout())),
                Pending { file: None },
            ),
            Destination::File(path) => {
                let (file, pending) = Pending::create(path)
                    .map_err(|e| Failure::io(&self.name(), "cannot create", &e))?;
                (Box::new(BufWriter::with_capacity(1 << 16, file)), pending)
            }
        })
    }
}

/// A file being written so that it takes its name only once complete: under a temporary
/// name beside the file it replaces, then renamed over it. A name that is a symbolic link
/// is followed, so the file linked to is replaced and the link kept. A name that is not a
/// regular file (a device such as `/dev/null`, a FIFO) is written in place: renaming over
/// it would replace the device with a plain file.
#[derive(Debug)]
pub struct Replacement {
    /// (temporary name, final name); `None` when written in place.
    names: Option<(PathBuf, PathBuf)>,
}

impl Replacement {
    /// Open `path` for writing as described above.
    ///
    /// A file that could not be written in place (read-only) is not replaced either, and
    /// the new file takes the permissions of the one it replaces.
    pub fn create(path: &Path) -> io::Result<(File, Replacement)> {
        let (target, replaced) = match std::fs::canonicalize(path) {
            Ok(real) if !std::fs::metadata(&real)?.is_file() => {
                let file = std::fs::OpenOptions::new().write(true).open(&real)?;
                return Ok((file, Replacement { names: None }));
            }
            Ok(real) => {
                // Opened, not truncated: only to be refused as writing in place would be.
                std::fs::OpenOptions::new().write(true).open(&real)?;
                let permissions = std::fs::metadata(&real)?.permissions();
                (real, Some(permissions))
            }
            // Not there yet (or a link to nothing, which the file then replaces).
            Err(_) => (path.to_path_buf(), None),
        };
        let temp = temporary_name(&target);
        let file = File::create(&temp)?;
        // From here a failure removes the temporary file (see `Drop`).
        let replacement = Replacement {
            names: Some((temp, target)),
        };
        if let Some(permissions) = replaced {
            file.set_permissions(permissions)?;
        }
        Ok((file, replacement))
    }

    /// The temporary and final names, for a caller that handles them itself (the command's
    /// [`Pending`], which keeps a failed output as `OUT.partial`).
    fn into_names(mut self) -> Option<(PathBuf, PathBuf)> {
        self.names.take()
    }

    /// Give the finished file its name (its writer flushed and dropped first).
    pub fn commit(mut self) -> io::Result<()> {
        match self.names.take() {
            Some((temp, path)) => std::fs::rename(&temp, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&temp);
            }),
            None => Ok(()),
        }
    }
}

impl Drop for Replacement {
    /// Not committed: remove what was written, leaving the file it was to replace as it was.
    fn drop(&mut self) {
        if let Some((temp, _)) = self.names.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Output files being written, as (temporary name, final name): what [`abandon_pending`]
/// keeps when the process exits without unwinding.
static PENDING: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

fn pending_files() -> std::sync::MutexGuard<'static, Vec<(PathBuf, PathBuf)>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keep what every output being written holds as `OUT.partial`, for an exit that skips
/// their cleanup (Ctrl-C while a read is blocked, which never reaches the next check).
pub(crate) fn abandon_pending() {
    for (temp, path) in pending_files().drain(..) {
        if std::fs::rename(&temp, partial_name(&path)).is_err() {
            let _ = std::fs::remove_file(&temp);
        }
    }
}

/// `OUT.partial`, where what was written goes if the command fails.
fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}

/// `.NAME.PID.part` beside `path`: hidden, and unmistakably unfinished.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.{}.part", std::process::id()))
}

/// An output file being written under a temporary name.
#[must_use = "an output file is only named when committed"]
pub struct Pending {
    /// (temporary name, final name); `None` for stdout.
    file: Option<(PathBuf, PathBuf)>,
}

impl Pending {
    /// `path` opened as a [`Replacement`]; if the command fails, what was written is kept
    /// as `OUT.partial`.
    pub fn create(path: &Path) -> io::Result<(File, Pending)> {
        let (file, replacing) = Replacement::create(path)?;
        let names = replacing.into_names();
        if let Some(names) = &names {
            pending_files().push(names.clone());
        }
        Ok((file, Pending { file: names }))
    }

    /// Give the finished file its name (the writer must be flushed and dropped first).
    pub fn commit(mut self) -> Result<(), Failure> {
        if let Some((temp, path)) = self.file.take() {
            forget_pending(&temp);
            let name = path.display().to_string();
            let replacement = Replacement {
                names: Some((temp, path)),
            };
            replacement.commit().map_err(|e| {
                Failure::data(format!(
                    "{name}: cannot be given its name: {}",
                    plain_io(&e)
                ))
            })?;
        }
        Ok(())
    }

    /// Where what was written so far goes if the command fails: `OUT.partial`.
    pub fn partial_name(&self) -> Option<PathBuf> {
        self.file.as_ref().map(|(_, path)| partial_name(path))
    }
}

fn forget_pending(temp: &Path) {
    pending_files().retain(|(t, _)| t != temp);
}

impl Drop for Pending {
    /// Not committed: the command failed. Keep what was written as `OUT.partial`.
    fn drop(&mut self) {
        if let Some((temp, _)) = &self.file {
            forget_pending(temp);
            let kept = self
                .partial_name()
                .is_some_and(|partial| std::fs::rename(temp, partial).is_ok());
            if !kept {
                let _ = std::fs::remove_file(temp);
            }
        }
    }
}

/// A write error on stdout (quiet when the reader of a pipe has gone away).
pub fn stdout_error(e: io::Error) -> Failure {
    Failure::io("<stdout>", "write error", &e)
}

/// How records are written.
#[derive(Debug, Clone, Copy)]
pub struct WriteSettings {
    pub format: OutputFormat,
    /// ISO 2709 in MARC-8 (leader/09 blank) rather than UTF-8.
    pub marc8: bool,
    pub xml_layout: XmlLayout,
    /// A character MARCXML cannot carry is an error (else replaced, with a warning).
    pub strict: bool,
}

/// One record serialised, and what the user should know about it.
pub struct Serialised {
    pub bytes: Vec<u8>,
    pub warnings: Vec<String>,
}

/// One record in the output format, for [`RecordWriter::write_serialised`]: made on any
/// thread, so that serialising, most of the work of a conversion, runs on the parser
/// threads. An error says why the record cannot be written in this format (too long for
/// ISO 2709, a character MARCXML cannot carry in strict mode).
pub fn serialise(settings: &WriteSettings, rec: &Record) -> Result<Serialised, String> {
    let mut warnings = Vec::new();
    let bytes = match settings.format {
        OutputFormat::Iso2709 if settings.marc8 => {
            let (marc8, missing) = record_to_marc8(rec);
            if let Some(first) = missing.first() {
                warnings.push(if missing.len() == 1 {
                    first.to_string()
                } else {
                    format!("{first} (and {} more)", missing.len() - 1)
                });
            }
            record_to_bytes(&marc8).map_err(|e| e.kind().to_string())?
        }
        OutputFormat::Iso2709 => record_to_bytes(rec).map_err(|e| e.kind().to_string())?,
        OutputFormat::Xml => {
            let mut out = String::with_capacity(rec.text_len() + 64 + rec.len() * 48);
            let replaced = write_record_xml_as(
                rec,
                XmlWriteOptions::default(),
                settings.xml_layout,
                &mut out,
            );
            if replaced > 0 {
                let what = find_unwritable_xml(rec)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "a character cannot be written in XML".into());
                if settings.strict {
                    return Err(what);
                }
                warnings.push(format!(
                    "{what}; {replaced} such character{} written as U+FFFD",
                    if replaced == 1 { "" } else { "s" }
                ));
            }
            out.into_bytes()
        }
        OutputFormat::Json | OutputFormat::Jsonl => {
            let mut out = String::with_capacity(rec.text_len() + 64 + rec.len() * 48);
            write_record_json(rec, JsonLayout::Compact, &mut out);
            out.into_bytes()
        }
        OutputFormat::Mrk => {
            // The writer reserves what the record needs.
            let mut out = String::new();
            write_record_mrk(rec, &mut out);
            out.into_bytes()
        }
        OutputFormat::Text => rec.to_string().into_bytes(),
    };
    Ok(Serialised { bytes, warnings })
}

/// Writes records in one output format. Every text format ends with a newline.
pub enum RecordWriter {
    Iso(IsoWriter<Box<dyn Write>>),
    Xml(XmlWriter<Box<dyn Write>>),
    Json(JsonWriter<Box<dyn Write>>),
    Jsonl(JsonLinesWriter<Box<dyn Write>>),
    Mrk(MrkWriter<Box<dyn Write>>),
    /// MARC text: records separated by a blank line.
    Text {
        out: Box<dyn Write>,
        written: u64,
    },
}

impl RecordWriter {
    pub fn new(settings: &WriteSettings, out: Box<dyn Write>) -> RecordWriter {
        match settings.format {
            OutputFormat::Iso2709 => RecordWriter::Iso(IsoWriter::new(out)),
            OutputFormat::Xml => RecordWriter::Xml(XmlWriter::with_layout(
                out,
                XmlWriteOptions::default(),
                settings.xml_layout,
            )),
            OutputFormat::Json => RecordWriter::Json(JsonWriter::new(out)),
            OutputFormat::Jsonl => RecordWriter::Jsonl(JsonLinesWriter::new(out)),
            OutputFormat::Mrk => RecordWriter::Mrk(MrkWriter::new(out)),
            OutputFormat::Text => RecordWriter::Text { out, written: 0 },
        }
    }

    /// Write one record serialised by [`serialise`] with this writer's settings.
    pub fn write_serialised(&mut self, record: &[u8]) -> fastmarc::Result<()> {
        match self {
            RecordWriter::Iso(w) => w.write_serialised(record),
            RecordWriter::Xml(w) => w.write_serialised(record),
            RecordWriter::Json(w) => w.write_serialised(record),
            RecordWriter::Jsonl(w) => w.write_serialised(record),
            RecordWriter::Mrk(w) => w.write_serialised(record),
            RecordWriter::Text { out, written } => {
                if *written > 0 {
                    out.write_all(b"\n")?;
                }
                out.write_all(record)?;
                *written += 1;
                Ok(())
            }
        }
    }

    /// Complete the document (closing a MARCXML collection or a JSON array) and flush.
    pub fn finish(self) -> fastmarc::Result<()> {
        match self {
            RecordWriter::Iso(w) => w.into_inner().flush()?,
            RecordWriter::Xml(w) => {
                let layout = w.layout();
                let mut out = w.finish()?;
                if layout == XmlLayout::Pymarc {
                    out.write_all(b"\n")?;
                }
                out.flush()?
            }
            RecordWriter::Json(w) => {
                let mut out = w.finish()?;
                out.write_all(b"\n")?;
                out.flush()?
            }
            RecordWriter::Jsonl(w) => w.finish()?.flush()?,
            RecordWriter::Mrk(w) => w.finish()?.flush()?,
            RecordWriter::Text { mut out, .. } => out.flush()?,
        }
        Ok(())
    }
}
