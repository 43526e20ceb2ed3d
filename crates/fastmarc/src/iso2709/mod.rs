//! ISO 2709, the MARC transmission format: framing, parsing, reading and writing.

pub(crate) mod buffer;
pub(crate) mod frame;
pub(crate) mod parse;
mod positions;
pub(crate) mod read;
pub(crate) mod write;

pub use frame::{
    find_record_start, RecordStart, FIELD_TERMINATOR, RECORD_TERMINATOR, SUBFIELD_DELIMITER,
};
pub use parse::{parse_record, parse_record_fields, Decoding, ParseOptions, Utf8Errors};
pub use read::{Reader, ReaderOptions, Recovery, SliceReader};
pub use write::{
    record_to_bytes, write_record_to_vec, write_record_with_leader, Writer, MAX_FIELD_LEN,
    MAX_RECORD_LEN,
};
