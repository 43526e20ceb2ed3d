//! MARC as Arrow record batches (feature `arrow`) and Parquet files (feature `parquet`).
//!
//! The nested schema keeps everything a record holds, in order, one row per record:
//!
//! | column | type |
//! | --- | --- |
//! | `record_number` | `uint64`: 1-based number of the record in its source (bad records count) |
//! | `offset` | `uint64`: byte offset of the record in its source |
//! | `leader` | `string`, 24 characters (position 09 is `a`: the text is Unicode) |
//! | `control_fields` | `list<struct<tag: string, value: string, position: uint32>>` |
//! | `data_fields` | `list<struct<tag: string, ind1: string, ind2: string, subfields: list<struct<code: string, value: string>>>>` |
//!
//! MARC-8 records are decoded to Unicode. Tags, indicators and codes are plain strings:
//! Parquet dictionary-encodes them on disk anyway, and in memory polars and DuckDB take
//! plain strings without turning them into categoricals that differ from batch to batch.
//!
//! [`BatchReader`] reads ISO 2709 into batches on the parser threads, one batch per chunk
//! of input, in file order; [`BatchRecords`] turns a batch back into records, so that
//! ISO 2709 → Arrow → ISO 2709 gives back the same bytes for every well-formed UTF-8
//! record. A control field's `position` is its 0-based index among all the record's
//! fields: the two lists keep each kind in order, and the positions put control fields
//! that stood among (or after) the data fields back where they were. Batches without a
//! `position` column are taken too: their control fields go in front.
//!
//! ```
//! use fastmarc::arrow::{ArrowOptions, BatchReader, BatchRecords, Nested};
//! use fastmarc::{iso2709::record_to_bytes, Field, Record, Subfield, Tag};
//!
//! let mut rec = Record::new();
//! rec.push(&Field::control(Tag::new("001")?, "id1"));
//! rec.push(&Field::data(Tag::new("245")?, '1', '0', vec![Subfield::new('a', "A title")]));
//! let bytes = record_to_bytes(&rec)?;
//! let mut reader = BatchReader::new(std::io::Cursor::new(bytes.clone()), ArrowOptions::default(), Nested)?;
//! let batch = reader.next().unwrap()?;
//! assert_eq!(batch.num_rows(), 1);
//! let back = BatchRecords::new(&batch)?.record(0)?;
//! assert_eq!(record_to_bytes(&back)?, bytes);
//! # Ok::<(), fastmarc::Error>(())
//! ```

mod columns;
mod nested;
#[cfg(feature = "parquet")]
pub mod parquet;
mod project;
mod records;
mod stream;

pub use nested::{nested_schema, Nested, NestedRows};
pub use project::{ProjectedRows, Projection};
pub use records::{check_foreign, check_nested, detail, BatchRecords};
pub use stream::{ArrowOptions, BatchReader, Layout, Rows};
