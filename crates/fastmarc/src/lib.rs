#![warn(missing_docs)]
//! fastmarc: fast, exact MARC 21.
//!
//! - [`Record`], [`Leader`], [`Field`]: the model. A record is one text buffer plus spans.
//! - [`iso2709`]: reading (strict, pymarc-like or resynchronising) and writing the
//!   transmission format.
//! - [`marc8`]: MARC-8 to Unicode.
//! - [`xml`], [`json`], [`mrk`]: MARCXML, MARC-in-JSON and MarcEdit's .mrk text both ways.
//! - [`parallel`]: parsing on a rayon pool, and an ordered pipeline for files.
//! - [`spec`]: MARCspec paths into records, and conditions to select records by.
//! - `arrow` (feature `arrow`): Arrow record batches and Parquet files.
//!
//! ```
//! use fastmarc::{iso2709::SliceReader, Field, Record, Subfield, Tag};
//!
//! let mut rec = Record::new();
//! rec.push(&Field::control(Tag::new("001")?, "ocm0001"));
//! rec.push(&Field::data(Tag::new("245")?, '1', '0', vec![Subfield::new('a', "A title")]));
//! let bytes = fastmarc::iso2709::record_to_bytes(&rec)?;
//! let back = SliceReader::new(&bytes).next().unwrap()?;
//! assert_eq!(back.title().as_deref(), Some("A title"));
//! # Ok::<(), fastmarc::Error>(())
//! ```

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod check;
pub mod diagnostic;
pub mod error;
pub mod field;
pub mod iso2709;
pub mod json;
pub mod leader;
pub mod marc8;
pub mod mrk;
pub mod parallel;
pub mod record;
pub mod spec;
pub mod text;
pub mod xml;

pub use diagnostic::Diagnostic;
pub use error::{Error, ErrorKind, Result};
pub use field::{Field, Subfield, Tag};
pub use leader::Leader;
pub use record::{FieldRef, Record, SubfieldRef, TextEncoding};
