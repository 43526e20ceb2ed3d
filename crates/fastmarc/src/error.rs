//! Errors carry where they happened: the record's number in the stream (0-based) and the
//! byte offset of the problem from the start of the stream, so a user can find it with `dd`.

use std::fmt;
use std::sync::Arc;

/// What went wrong, precisely enough for bindings to map it to their own exception types.
/// New kinds may be added in any release: match with a `_` arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The first five bytes are not all ASCII digits.
    RecordLengthNotDigits,
    /// The record length is below the 24-byte leader plus terminators, or otherwise impossible.
    RecordLengthInvalid(usize),
    /// The stream ended inside a record: `expected` bytes were announced, `found` were there.
    TruncatedRecord {
        /// The record length the leader announced.
        expected: usize,
        /// The bytes the stream still had.
        found: usize,
    },
    /// The last byte of a record (by its length) is not the record terminator 0x1D.
    EndOfRecordNotFound,
    /// The leader is not 24 ASCII bytes.
    LeaderInvalid,
    /// Leader positions 12-16 are not digits.
    BaseAddressNotDigits,
    /// The base address is zero (no directory).
    BaseAddressNotFound,
    /// The base address points at or past the end of the record.
    BaseAddressInvalid(usize),
    /// The directory is not a whole number of 12-byte entries.
    DirectoryLengthInvalid(usize),
    /// A directory entry contains a non-ASCII byte.
    DirectoryNotAscii,
    /// A directory entry's length or offset is not digits.
    DirectoryEntryNotDigits {
        /// The entry's position in the directory, from 0.
        entry: usize,
    },
    /// A directory entry points outside the record's data.
    DirectoryEntryOutOfBounds {
        /// The entry's position in the directory, from 0.
        entry: usize,
    },
    /// The directory is not followed by a field terminator.
    DirectoryTerminatorMissing,
    /// A field does not end with the field terminator 0x1E.
    FieldTerminatorMissing {
        /// The field's tag.
        tag: String,
    },
    /// A record terminator (0x1D) inside a field's data: the record was spliced or
    /// mis-framed.
    RecordTerminatorInField {
        /// The field's tag.
        tag: String,
    },
    /// A subfield code is missing or not an ASCII graphic character.
    BadSubfieldCode {
        /// The field's tag.
        tag: String,
    },
    /// A data field's indicators are not two ASCII characters.
    IndicatorsInvalid {
        /// The field's tag.
        tag: String,
    },
    /// The record has no fields.
    NoFields,
    /// A field's text is not valid UTF-8 although leader/09 says `a`.
    InvalidUtf8 {
        /// The field's tag.
        tag: String,
    },
    /// A field's MARC-8 text cannot be decoded.
    InvalidMarc8 {
        /// The field's tag.
        tag: String,
    },
    /// A record or field too long for ISO 2709 (99,999 / 9,999 bytes).
    TooLongToWrite {
        /// `"record"` or `"field"`.
        what: &'static str,
        /// Its length in bytes.
        length: usize,
    },
    /// A tag that is not three ASCII alphanumerics, or other invalid value set through the API.
    InvalidValue(String),
    /// Malformed MARCXML.
    Xml(String),
    /// Malformed MARC-in-JSON.
    Json(String),
    /// Malformed MarcEdit mnemonic text (.mrk); the message names the line.
    Mrk(String),
    /// An I/O error from the underlying reader or writer.
    Io(std::io::ErrorKind, String),
}

/// An error with the position where it happened: what went wrong ([`Error::kind`]), the
/// record's number in its stream ([`Error::record`]) and the byte offset of the problem
/// ([`Error::offset`]). One pointer wide, so every `Result` that may hold one stays small.
/// An I/O error stays reachable through [`std::error::Error::source`].
#[derive(Clone)]
pub struct Error(Box<ErrorFields>);

/// What an [`Error`] holds, read through its accessors.
#[derive(Clone)]
struct ErrorFields {
    /// What went wrong.
    kind: ErrorKind,
    /// 0-based number of the record in its stream, when known.
    record: Option<u64>,
    /// Byte offset from the start of the stream, when known.
    offset: Option<u64>,
    /// How many bytes from `offset` the problem covers, when known.
    len: Option<usize>,
    /// The error this one wraps (an I/O error).
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// `Result` with fastmarc's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error whose position is not known (yet).
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(ErrorFields {
            kind,
            record: None,
            offset: None,
            len: None,
            source: None,
        }))
    }

    /// An error in record number `record` (from 0) at byte `offset` of the stream.
    pub fn at(kind: ErrorKind, record: u64, offset: u64) -> Self {
        let mut e = Error::new(kind);
        e.0.record = Some(record);
        e.0.offset = Some(offset);
        e
    }

    /// An error at byte `offset` of a record or buffer, its record not known yet.
    pub(crate) fn at_offset(kind: ErrorKind, offset: u64) -> Self {
        Error::new(kind).with_offset(offset)
    }

    /// The same error at byte `offset`.
    pub(crate) fn with_offset(mut self, offset: u64) -> Self {
        self.0.offset = Some(offset);
        self
    }

    /// The same error in record `record`, unless its record is known already.
    pub(crate) fn in_record(mut self, record: u64) -> Self {
        self.0.record.get_or_insert(record);
        self
    }

    /// Fill in the position if it is not known yet (inner parsers know offsets within a record;
    /// the stream reader knows where the record starts).
    pub fn located(mut self, record: u64, record_start: u64) -> Self {
        self.0.record.get_or_insert(record);
        self.0.offset = Some(record_start + self.0.offset.unwrap_or(0));
        self
    }

    /// Say how many bytes from the offset the problem covers.
    pub fn spanning(mut self, len: usize) -> Self {
        self.0.len = Some(len);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// What went wrong, without the position.
    pub fn into_kind(self) -> ErrorKind {
        self.0.kind
    }

    /// The 0-based number of the record in its stream, when known.
    pub fn record(&self) -> Option<u64> {
        self.0.record
    }

    /// The byte offset of the problem from the start of the stream, when known.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// How many bytes from [`Error::offset`] the problem covers, where the parser knows: the
    /// text it could not decode (a control field's data, a subfield's value, the bytes
    /// before a data field's first delimiter), for callers that report or decode it
    /// themselves.
    pub fn span_len(&self) -> Option<usize> {
        self.0.len
    }

    /// Errors after which a length-framed stream cannot be trusted any more.
    pub fn is_framing(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::RecordLengthNotDigits
                | ErrorKind::RecordLengthInvalid(_)
                | ErrorKind::TruncatedRecord { .. }
                | ErrorKind::EndOfRecordNotFound
                | ErrorKind::Io(..)
        )
    }
}

/// Errors are equal when they say the same thing at the same place (an I/O error's kind and
/// message are in its [`ErrorKind::Io`]; the wrapped error is not compared).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (&self.0.kind, self.0.record, self.0.offset, self.0.len)
            == (&other.0.kind, other.0.record, other.0.offset, other.0.len)
    }
}

impl Eq for Error {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("record", &self.0.record)
            .field("offset", &self.0.offset)
            .field("len", &self.0.len)
            .finish()
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let mut err = Error::new(ErrorKind::Io(e.kind(), e.to_string()));
        err.0.source = Some(Arc::new(e));
        err
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            RecordLengthNotDigits => write!(f, "record length is not five ASCII digits"),
            RecordLengthInvalid(n) => write!(f, "record length {n} is invalid"),
            TruncatedRecord { expected, found } => write!(
                f,
                "truncated record: length says {expected} bytes, only {found} present"
            ),
            EndOfRecordNotFound => write!(f, "record does not end with the record terminator"),
            LeaderInvalid => write!(f, "leader is not 24 ASCII bytes"),
            BaseAddressNotDigits => write!(f, "base address (leader/12-16) is not digits"),
            BaseAddressNotFound => write!(f, "base address is zero"),
            BaseAddressInvalid(n) => write!(f, "base address {n} is past the end of the record"),
            DirectoryLengthInvalid(n) => {
                write!(f, "directory length {n} is not a multiple of 12")
            }
            DirectoryNotAscii => write!(f, "directory contains non-ASCII bytes"),
            DirectoryEntryNotDigits { entry } => {
                write!(
                    f,
                    "directory entry {entry} has a non-digit length or offset"
                )
            }
            DirectoryEntryOutOfBounds { entry } => {
                write!(f, "directory entry {entry} points outside the record")
            }
            DirectoryTerminatorMissing => write!(f, "directory is not terminated by 0x1E"),
            FieldTerminatorMissing { tag } => {
                write!(f, "field {tag} does not end with the field terminator")
            }
            RecordTerminatorInField { tag } => {
                write!(f, "field {tag} contains a record terminator")
            }
            BadSubfieldCode { tag } => write!(f, "field {tag} has a bad subfield code"),
            IndicatorsInvalid { tag } => {
                write!(f, "field {tag} does not have two ASCII indicators")
            }
            NoFields => write!(f, "record has no fields"),
            InvalidUtf8 { tag } => write!(f, "field {tag} is not valid UTF-8"),
            InvalidMarc8 { tag } => write!(f, "field {tag} is not valid MARC-8"),
            TooLongToWrite { what, length } => {
                write!(f, "{what} is {length} bytes, too long for ISO 2709")
            }
            InvalidValue(s) => write!(f, "invalid value: {s}"),
            Xml(s) => write!(f, "MARCXML: {s}"),
            Json(s) => write!(f, "MARC-in-JSON: {s}"),
            Mrk(s) => write!(f, "MARC text (.mrk): {s}"),
            Io(_, s) => write!(f, "I/O error: {s}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.kind)?;
        match (self.0.record, self.0.offset) {
            (Some(r), Some(o)) => write!(f, " (record {}, byte offset {o})", r + 1),
            (Some(r), None) => write!(f, " (record {})", r + 1),
            (None, Some(o)) => write!(f, " (byte offset {o})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn io_error_is_the_source() {
        let e = Error::from(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"))
            .located(3, 100);
        assert_eq!(
            e.kind(),
            &ErrorKind::Io(std::io::ErrorKind::BrokenPipe, "gone".into())
        );
        let source = e.source().expect("an I/O error has a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(io.to_string(), "gone");
        // Clones share the source.
        assert!(e.clone().source().is_some());
        assert!(Error::new(ErrorKind::NoFields).source().is_none());
    }

    #[test]
    fn accessors_and_display() {
        let e = Error::at(ErrorKind::LeaderInvalid, 4, 1234).spanning(7);
        assert_eq!(
            (e.record(), e.offset(), e.span_len()),
            (Some(4), Some(1234), Some(7))
        );
        assert_eq!(
            e.to_string(),
            "leader is not 24 ASCII bytes (record 5, byte offset 1234)"
        );
        assert_eq!(e.into_kind(), ErrorKind::LeaderInvalid);
    }
}
