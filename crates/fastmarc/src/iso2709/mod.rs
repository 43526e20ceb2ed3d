//! ISO 2709, the MARC transmission format: framing, parsing, reading and writing.

mod buffer;
pub mod frame;
pub mod parse;
mod positions;
pub mod read;
pub mod write;

pub use buffer::ReadBuffer;
pub use frame::{find_record_start, scan_record_boundaries, Boundaries, RecordStart};
pub use parse::{parse_record, Decoding, ParseOptions, Utf8Errors};
pub use read::{parse_framed, Framed, Framer, Reader, ReaderOptions, Recovery, SliceReader, Step};
pub use write::{
    record_to_bytes, write_field_bodies, write_record_to_vec, write_record_with_leader,
    FieldBodies, Writer, MAX_FIELD_LEN, MAX_RECORD_LEN,
};
