//! Opening an input (a file, or stdin for `-`): its format, from `--from` or from its first
//! bytes, and a reader over all of it that counts the bytes read.

use crate::failure::Failure;
use crate::format::{sniff, InputFormat, Sniffed};
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes of leading whitespace after which we give up looking for a format mark.
const SNIFF_LIMIT: usize = 64 * 1024;

/// Where an input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    /// `-` is stdin; anything else a file.
    pub fn from_arg(path: &Path) -> Source {
        if path.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::File(path.to_path_buf())
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".into(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// A reader that counts the bytes passing through it.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The whole byte stream of an input, from its first byte.
pub type ByteStream = Counted<Box<dyn Read + Send>>;

/// An opened input.
pub struct Opened {
    pub name: String,
    pub format: InputFormat,
    pub reader: ByteStream,
    /// Bytes read from `reader` so far.
    pub bytes_read: Arc<AtomicU64>,
    /// The file's size, when it is a regular file.
    pub size: Option<u64>,
}

/// Open `source`; its format is `forced`, or recognised from its first bytes.
pub fn open(source: &Source, forced: Option<InputFormat>) -> Result<Opened, Failure> {
    open_checked(source, forced, false)
}

/// Open `source` as ISO 2709 (for commands that copy records' bytes): input that is
/// recognisably MARCXML or MARC-in-JSON is an error; anything else is read as ISO 2709 and
/// its framing checked.
pub fn open_iso2709(source: &Source) -> Result<Opened, Failure> {
    open_checked(source, None, true)
}

fn open_checked(
    source: &Source,
    forced: Option<InputFormat>,
    iso_only: bool,
) -> Result<Opened, Failure> {
    let name = source.name();
    let (mut raw, size): (Box<dyn Read + Send>, Option<u64>) = match source {
        Source::Stdin => (Box::new(io::stdin()), None),
        Source::File(path) => {
            let file = File::open(path).map_err(|e| Failure::io(&name, "cannot open", &e))?;
            let meta = file
                .metadata()
                .map_err(|e| Failure::io(&name, "cannot open", &e))?;
            if meta.is_dir() {
                return Err(Failure::data(format!("{name}: is a directory")));
            }
            let size = meta.is_file().then_some(meta.len());
            (Box::new(file), size)
        }
    };
    // Read just enough to recognise the format, then put those bytes back in front.
    let mut prefix = Vec::new();
    let format = match forced {
        Some(f) => f,
        None => loop {
            match sniff(&prefix) {
                Sniffed::Format(InputFormat::Iso2709) => break InputFormat::Iso2709,
                Sniffed::Format(f) if iso_only => {
                    return Err(Failure::data(format!(
                        "{name}: this is {f}, not ISO 2709 (convert it first)"
                    )))
                }
                Sniffed::Format(f) => break f,
                Sniffed::Unknown if iso_only => break InputFormat::Iso2709,
                Sniffed::Unknown => return Err(unknown_format(&name, &prefix)),
                Sniffed::Undecided if prefix.len() >= SNIFF_LIMIT => break InputFormat::Iso2709,
                Sniffed::Undecided => {
                    let mut chunk = [0u8; 512];
                    let n = read_retrying(&mut raw, &mut chunk)
                        .map_err(|e| Failure::io(&name, "read error", &e))?;
                    if n == 0 {
                        // Empty, or only whitespace: an ISO 2709 file of no records, or a
                        // framing error the reader reports with its offset.
                        break InputFormat::Iso2709;
                    }
                    prefix.extend_from_slice(&chunk[..n]);
                }
            }
        },
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let whole: Box<dyn Read + Send> = Box::new(Cursor::new(prefix).chain(raw));
    Ok(Opened {
        name,
        format,
        reader: Counted {
            inner: whole,
            count: bytes_read.clone(),
        },
        bytes_read,
        size,
    })
}

fn read_retrying(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn unknown_format(name: &str, prefix: &[u8]) -> Failure {
    if prefix.starts_with(b"PAR1") {
        return Failure::data(format!(
            "{name}: a Parquet file: fastmarc reads Parquet only as a file named *.parquet, \
             with 'fastmarc convert FILE.parquet OUT'"
        ));
    }
    let shown: String = prefix
        .iter()
        .take(16)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    Failure::data(format!(
        "{name}: record 1, byte offset 0: cannot tell the format: the input starts with \
         \"{shown}\", not ISO 2709 (five digits), MARCXML (<), MARC-in-JSON ([ or {{) or .mrk text (=); \
         name it with --from"
    ))
}

/// Whether two paths name the same existing file (so an output would overwrite an input).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
