//! What fastmarc's own command, Python bindings and fuzz targets use beyond the public API:
//! framing machinery, pymarc-specific helpers, test hooks. Hidden from the documentation and
//! outside any stability promise; anything here may change in any release.

pub use crate::contain::contain;
pub use crate::iso2709::buffer::ReadBuffer;
pub use crate::iso2709::frame::{resync_point, scan_record_boundaries, Boundaries};
pub use crate::iso2709::read::{parse_framed, Framed, Framer, Step};
pub use crate::iso2709::write::{write_field_bodies, FieldBodies};
pub use crate::json::json_records_windowed;
pub use crate::parallel::{thread_count, LiveThreads};
pub use crate::record::extract_isbn;
pub use crate::text::{is_py_space, py_strip};

/// The MARC-8 code tables, for the Python module that exposes pymarc's table names.
pub mod marc8_tables {
    pub use crate::marc8::tables::*;
}
