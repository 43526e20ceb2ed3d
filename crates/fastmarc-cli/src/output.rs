//! Where output goes (a file, or stdout for `-`) and writing records to it in any output
//! format.

use crate::failure::Failure;
use crate::format::OutputFormat;
use fastmarc::iso2709::{record_to_bytes, Writer as IsoWriter};
use fastmarc::json::{write_record_json, JsonLayout, JsonWriter};
use fastmarc::xml::{record_to_xml_with, XmlWriteOptions, XmlWriter};
use fastmarc::Record;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

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

    /// Create (or truncate) the file, or take stdout; buffered.
    pub fn create(&self) -> Result<Box<dyn Write>, Failure> {
        Ok(match self {
            Destination::Stdout => Box::new(BufWriter::with_capacity(1 << 16, io::stdout())),
            Destination::File(p) => {
                let file =
                    File::create(p).map_err(|e| Failure::io(&self.name(), "cannot create", &e))?;
                Box::new(BufWriter::with_capacity(1 << 16, file))
            }
        })
    }
}

/// A write error on stdout (quiet when the reader of a pipe has gone away).
pub fn stdout_error(e: io::Error) -> Failure {
    Failure::io("<stdout>", "write error", &e)
}

/// One record in `format`, for [`RecordWriter::write_serialised`]: made on any thread, so
/// that serialising, most of the work of a conversion, runs on the parser threads. An error
/// means the record cannot be written in this format (too long for ISO 2709, say).
pub fn serialise(format: OutputFormat, rec: &Record) -> fastmarc::Result<Vec<u8>> {
    Ok(match format {
        OutputFormat::Iso2709 => record_to_bytes(rec)?,
        OutputFormat::Xml => record_to_xml_with(rec, XmlWriteOptions::default()).into_bytes(),
        OutputFormat::Json => {
            let mut out = String::with_capacity(rec.text_len() + 64 + rec.len() * 48);
            write_record_json(rec, JsonLayout::Compact, &mut out);
            out.into_bytes()
        }
        OutputFormat::Text => rec.to_string().into_bytes(),
    })
}

/// Writes records in one output format.
pub enum RecordWriter {
    Iso(IsoWriter<Box<dyn Write>>),
    Xml(XmlWriter<Box<dyn Write>>),
    Json(JsonWriter<Box<dyn Write>>),
    /// MARC text: records separated by a blank line.
    Text {
        out: Box<dyn Write>,
        written: u64,
    },
}

impl RecordWriter {
    pub fn new(format: OutputFormat, out: Box<dyn Write>) -> RecordWriter {
        match format {
            OutputFormat::Iso2709 => RecordWriter::Iso(IsoWriter::new(out)),
            OutputFormat::Xml => RecordWriter::Xml(XmlWriter::new(out)),
            OutputFormat::Json => RecordWriter::Json(JsonWriter::new(out)),
            OutputFormat::Text => RecordWriter::Text { out, written: 0 },
        }
    }

    /// Write one record serialised by [`serialise`] in this writer's format.
    pub fn write_serialised(&mut self, record: &[u8]) -> fastmarc::Result<()> {
        match self {
            RecordWriter::Iso(w) => w.write_serialised(record),
            RecordWriter::Xml(w) => w.write_serialised(record),
            RecordWriter::Json(w) => w.write_serialised(record),
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
            RecordWriter::Xml(w) => w.finish()?.flush()?,
            RecordWriter::Json(w) => w.finish()?.flush()?,
            RecordWriter::Text { mut out, .. } => out.flush()?,
        }
        Ok(())
    }
}
