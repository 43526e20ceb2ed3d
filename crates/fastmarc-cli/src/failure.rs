//! Exit statuses, and the error that ends a command: what to print and which status to
//! exit with. Messages name the file, the record (1-based) and the byte offset.

use std::io;

/// Everything went well.
pub const EXIT_OK: i32 = 0;
/// Problems found (validate), bad data, or an I/O error.
pub const EXIT_FAILURE: i32 = 1;
/// The command line is wrong.
pub const EXIT_USAGE: i32 = 2;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Why a command stopped early.
#[derive(Debug)]
pub struct Failure {
    pub status: i32,
    /// Printed to stderr after `fastmarc: `; `None` for a quiet stop.
    pub message: Option<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            status: EXIT_USAGE,
            message: Some(message.into()),
        }
    }

    /// Bad input data or another problem that ends the command with status 1.
    pub fn data(message: impl Into<String>) -> Self {
        Failure {
            status: EXIT_FAILURE,
            message: Some(message.into()),
        }
    }

    pub fn interrupted() -> Self {
        Failure {
            status: EXIT_INTERRUPTED,
            message: Some("interrupted".into()),
        }
    }

    /// An I/O error on `name` while doing `what` ("cannot open", "write error"...).
    /// A closed pipe on the output (`fastmarc dump x | head`) is a quiet, normal end.
    pub fn io(name: &str, what: &str, e: &io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return Failure {
                status: EXIT_OK,
                message: None,
            };
        }
        Failure::data(format!("{name}: {what}: {}", plain_io(e)))
    }

    /// An error from the core library while writing records to `name`.
    pub fn write(name: &str, e: &fastmarc::Error) -> Self {
        match e.kind() {
            fastmarc::ErrorKind::Io(kind, message) => {
                Failure::io(name, "write error", &io::Error::new(*kind, message.clone()))
            }
            kind => Failure::data(format!("{name}: write error: {kind}")),
        }
    }
}

/// An I/O error in plain words: what happened, without the system's error number.
pub fn plain_io(e: &io::Error) -> String {
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::AlreadyExists => "already exists".into(),
        K::IsADirectory => "is a directory".into(),
        K::NotADirectory => "a part of the path is not a directory".into(),
        K::StorageFull => "no space left on the device".into(),
        K::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => without_error_number(&e.to_string()),
    }
}

/// `text` without a trailing ` (os error N)`.
pub fn without_error_number(text: &str) -> String {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text.to_string(),
    }
}

/// Print `fastmarc: <message>` to stderr. A failing stderr is ignored: there is nowhere
/// left to report it, and it must not become a panic.
pub fn eprint_message(message: &str) {
    use std::io::Write;
    let _ = writeln!(io::stderr().lock(), "fastmarc: {message}");
}

/// `<file>: record N, byte offset O: <what>` for an error from the core library (its record
/// number is 0-based; people count from 1).
pub fn located(name: &str, e: &fastmarc::Error) -> String {
    let mut s = format!("{name}: ");
    if let Some(r) = e.record() {
        s.push_str(&format!("record {}, ", r + 1));
    }
    if let Some(o) = e.offset() {
        s.push_str(&format!("byte offset {o}, "));
    }
    if s.ends_with(", ") {
        s.truncate(s.len() - 2);
        s.push_str(": ");
    }
    match e.kind() {
        fastmarc::ErrorKind::Io(kind, message) => s.push_str(&format!(
            "read error: {}",
            plain_io(&io::Error::new(*kind, without_error_number(message)))
        )),
        kind => s.push_str(&kind.to_string()),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastmarc::{Error, ErrorKind};

    #[test]
    fn located_counts_records_from_one() {
        let e = Error::at(ErrorKind::EndOfRecordNotFound, 2, 345);
        assert_eq!(
            located("x.mrc", &e),
            "x.mrc: record 3, byte offset 345: record does not end with the record terminator"
        );
        let e = Error::new(ErrorKind::NoFields);
        assert_eq!(located("x.mrc", &e), "x.mrc: record has no fields");
    }

    #[test]
    fn io_errors_are_in_plain_words() {
        let e = io::Error::from_raw_os_error(2);
        let f = Failure::io("x.mrc", "cannot open", &e);
        assert_eq!(
            f.message.unwrap(),
            "x.mrc: cannot open: no such file or directory"
        );
        let e = io::Error::other("Something odd (os error 99)");
        assert_eq!(plain_io(&e), "Something odd");
    }

    #[test]
    fn broken_pipe_is_quiet() {
        let e = io::Error::from(io::ErrorKind::BrokenPipe);
        let f = Failure::io("-", "write error", &e);
        assert_eq!(f.status, EXIT_OK);
        assert!(f.message.is_none());
    }
}
