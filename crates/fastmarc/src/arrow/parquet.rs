//! Parquet files of record batches (zstd by default), and records read back from them.

use super::nested::nested_schema;
use super::records::{check_nested, BatchRecords};
use crate::error::{Error, ErrorKind, Result};
use crate::record::Record;
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;
use std::fs::File;
use std::io::Write;
use std::path::Path;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidValue(format!("{what}: {e}")))
}

/// Compression of a Parquet file's pages.
pub fn compression(name: &str) -> Result<Compression> {
    match name.to_ascii_lowercase().as_str() {
        "zstd" => Ok(Compression::ZSTD(ZstdLevel::default())),
        "none" | "uncompressed" => Ok(Compression::UNCOMPRESSED),
        other => Err(failed(
            "compression",
            format!("{other:?} is not available (zstd or none)"),
        )),
    }
}

/// Rows in a row group at most. Readers work a row group at a time, one per thread:
/// arrow-rs's default, 1,048,576 rows, made a million-record catalogue one row group
/// (1.6 GB once read into Arrow), which DuckDB scanned on one thread however many it had.
/// DuckDB's own writer uses 122,880.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// The nested schema's leaf columns, as Parquet names them.
const RECORD_NUMBER: &str = "record_number";
const OFFSET: &str = "offset";
const LEADER: &str = "leader";
const CONTROL_VALUE: &str = "control_fields.list.item.value";
const SUBFIELD_VALUE: &str = "data_fields.list.item.subfields.list.item.value";

fn column(dotted: &str) -> ColumnPath {
    ColumnPath::new(dotted.split('.').map(String::from).collect())
}

/// Encodings for what the nested schema's columns hold; the rest keep Parquet's defaults
/// (dictionaries for tags, indicators and codes).
/// - Record numbers and offsets rise record by record: deltas, not a dictionary of values
///   that never repeat.
/// - Leaders and values are too varied for a dictionary to pay: it filled up early in each
///   column chunk and fell back to plain pages, after hashing every value into it. zstd
///   still finds their repeats.
/// - Only record numbers and offsets get statistics, which let a reader skip the row
///   groups outside a range of records. A row group's minimum and maximum tag, code,
///   indicator, leader or value is the same wide span in every group and filters
///   nothing; comparing every string to them took a tenth of a file's writing.
fn nested_columns(mut props: WriterPropertiesBuilder) -> WriterPropertiesBuilder {
    props = props.set_statistics_enabled(EnabledStatistics::None);
    for name in [RECORD_NUMBER, OFFSET] {
        props = props
            .set_column_dictionary_enabled(column(name), false)
            .set_column_encoding(column(name), Encoding::DELTA_BINARY_PACKED)
            .set_column_statistics_enabled(column(name), EnabledStatistics::Page);
    }
    for name in [LEADER, CONTROL_VALUE, SUBFIELD_VALUE] {
        props = props.set_column_dictionary_enabled(column(name), false);
    }
    props
}

/// Writes record batches into a Parquet file. [`ParquetSink::finish`] writes the footer;
/// a file whose sink was dropped without it has none, so no reader takes it for complete.
pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
}

impl<W: Write + Send> ParquetSink<W> {
    /// A Parquet file of `schema` on `dest`, its pages compressed with `compression`.
    pub fn new(dest: W, schema: SchemaRef, compression: Compression) -> Result<Self> {
        let mut props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
        if *schema == *nested_schema() {
            props = nested_columns(props);
        }
        let props = props.build();
        let writer = ArrowWriter::try_new(dest, schema, Some(props))
            .map_err(|e| failed("starting a Parquet file", e))?;
        Ok(ParquetSink { writer })
    }

    /// Appends one batch (it must have the sink's schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(|e| failed("writing a Parquet file", e))
    }

    /// Write the footer; the destination is complete once this returns.
    pub fn finish(self) -> Result<W> {
        self.writer
            .into_inner()
            .map_err(|e| failed("finishing a Parquet file", e))
    }
}

/// The record batches of a Parquet file.
pub fn read_batches(path: &Path) -> Result<ParquetRecordBatchReader> {
    let file = File::open(path).map_err(Error::from)?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| failed(&format!("reading {}", path.display()), e))
}

/// The records of a Parquet file in the nested schema, in order.
pub struct ParquetRecords {
    batches: ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    row: usize,
}

impl ParquetRecords {
    /// Open a file; one not in the nested schema is an error here, before any record.
    pub fn open(path: &Path) -> Result<ParquetRecords> {
        let batches = read_batches(path)?;
        check_nested(&batches.schema())?;
        Ok(ParquetRecords {
            batches,
            batch: None,
            row: 0,
        })
    }
}

impl Iterator for ParquetRecords {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            if let Some(batch) = &self.batch {
                if self.row < batch.num_rows() {
                    self.row += 1;
                    return Some(BatchRecords::new(batch).and_then(|b| b.record(self.row - 1)));
                }
            }
            match self.batches.next()? {
                Ok(batch) => {
                    self.batch = Some(batch);
                    self.row = 0;
                }
                Err(e) => return Some(Err(failed("reading a Parquet file", e))),
            }
        }
    }
}
