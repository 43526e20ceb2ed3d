#![warn(missing_docs)]
//! fastmarc: fast, exact MARC 21.
//!
//! - [`Record`], [`Leader`], [`Field`]: the model. A record is one text buffer plus spans.
//! - [`Error`], [`ErrorKind`], [`Result`]: every failure, with the record number and byte
//!   offset where it happened; [`Diagnostic`]: what lenient parsing read past.
//! - [`Spec`], [`Condition`]: MARCspec paths into records, and conditions to select records
//!   by. [`check_iso2709`], [`check_record`]: the structural checks `fastmarc validate` runs.
//! - [`iso2709`]: reading (strict, pymarc-like or resynchronising) and writing the
//!   transmission format.
//! - [`marc8`]: MARC-8 to Unicode and back.
//! - [`xml`], [`json`], [`mrk`]: MARCXML, MARC-in-JSON and MarcEdit's .mrk text both ways.
//! - [`parallel`]: parsing on a thread pool, and an ordered pipeline for files.
//! - `arrow` (feature `arrow`): Arrow record batches and Parquet files.
//!
//! # Where things are
//!
//! The model, the error and the format-independent tools are at the crate root. Each format
//! (`iso2709`, `xml`, `json`, `mrk`, `marc8`, `arrow`) and the parallel pipeline is a public
//! module holding its readers, writers and options, since their names (`Reader`, `Writer`,
//! `ReaderOptions`) only make sense inside it. Nothing else is public: the files inside
//! those modules are private, and what only fastmarc's own command, Python bindings and
//! fuzz targets use sits in the hidden `internal` module or is marked `#[doc(hidden)]`,
//! with no promise of stability.
//!
//! # Bad input: the words
//!
//! - *Strict* or *lenient* says how one record is parsed
//!   ([`iso2709::ParseOptions::strict`]): strict checks everything ISO 2709 requires, lenient
//!   takes what pymarc takes and notes what it read past as [`Diagnostic`]s.
//! - *Recovery* says what a reader does after a bad record ([`iso2709::Recovery`]): stop,
//!   skip the record, or skip it and resynchronise after broken framing.
//!   [`iso2709::ReaderOptions::strict`] and [`iso2709::ReaderOptions::resyncing`] are the
//!   two presets.
//! - *Permissive* is not a word of this crate: it is the name of pymarc's reader option and
//!   of the `fastmarc` command's flag, which each map to a parse mode and a recovery.
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
pub mod iso2709;
pub mod json;
pub mod marc8;
pub mod mrk;
pub mod parallel;
pub mod xml;

mod check;
mod contain;
mod diagnostic;
mod error;
mod field;
mod leader;
mod record;
mod sink;
mod spec;
mod text;

#[doc(hidden)]
pub mod internal;

pub use check::{check_iso2709, check_record, Problem};
pub use diagnostic::Diagnostic;
pub use error::{Error, ErrorKind, Result};
pub use field::{Field, Subfield, Tag, TagSet};
pub use leader::Leader;
pub use record::{FieldRef, Record, SubfieldRef, TextEncoding};
pub use spec::{Condition, Spec, SpecError};
