//! What lenient parsing noticed in a record it still read: the problems pymarc 5.4.0 logs,
//! warns about or prints while it decodes a record. The parser only collects them (no I/O,
//! no Python); whoever hands the record to a user reports them, the bindings as pymarc does.

use crate::marc8::Marc8Warning;
use crate::Tag;

/// One problem in a record that was read anyway, in the order the parser met it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnostic {
    /// A data field with no indicators before its first subfield (read as two blanks).
    /// Holds the field's bytes, terminator left out.
    MissingIndicators(Vec<u8>),
    /// A data field with one indicator (the second read as a blank); the field's bytes.
    OneIndicator(Vec<u8>),
    /// A data field with more than two indicators (the rest dropped); the field's bytes.
    ExtraIndicators(Vec<u8>),
    /// A subfield whose code is not ASCII, replaced by an ASCII stand-in. Holds the
    /// subfield's bytes after the delimiter (code and value).
    BadSubfieldCode(Vec<u8>),
    /// A MARC-8 character with no Unicode mapping, read as a space.
    Marc8Unmapped(Marc8Warning),
    /// A record whose leader/09 says MARC-8 (blank) but whose data field (the first such,
    /// by tag) holds UTF-8: decoded as MARC-8 all the same, so its non-ASCII text is
    /// garbled. Reported once per record; the record's leader lies, and reading it as
    /// UTF-8 is the cure.
    Utf8UnderMarc8(Tag),
}
