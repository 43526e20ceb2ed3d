//! Parquet files of record batches (zstd by default), and records read back from them.

mod read;

pub use read::{read_batches, ParquetRecords};

use super::nested::nested_schema;
use crate::error::{Error, ErrorKind, Result};
use crate::parallel::thread_count;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn,
    ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterPropertiesBuilder};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use std::io::Write;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidValue(format!("{what}: {e}")))
}

/// A failure writing the file: an I/O error (a full disk) stays one, so that callers can
/// tell it from a fault in the data.
fn write_failed(what: &str, e: parquet::errors::ParquetError) -> Error {
    if let parquet::errors::ParquetError::External(inner) = &e {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return Error::new(ErrorKind::Io(io.kind(), format!("{what}: {io}")));
        }
    }
    failed(what, e)
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

/// Writes record batches into a Parquet file. With more than one thread (`None`: one per
/// core), from the 32,768th record on each column is encoded on a thread of its own, and
/// the next row group starts while the last one's columns are finished: encoding costs
/// three times what parsing does, and on one thread it left the other cores idle. The
/// file is the same whatever `threads` is.
///
/// [`ParquetSink::finish`] writes the footer; a file whose sink was dropped without it has
/// none, so no reader takes it for complete.
pub struct ParquetSink<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    encoders: Encoders,
    threads: usize,
    /// Rows written so far.
    rows: usize,
    /// Row groups begun so far, and of those, the ones whose columns are not yet in the
    /// file: the one filling, and with threads the one before it, still being finished.
    begun: usize,
    pending: usize,
    /// Rows in the row group filling.
    filling_rows: usize,
}

impl<W: Write + Send> ParquetSink<W> {
    /// A Parquet file of `schema` on `dest`, its pages compressed with `compression`.
    pub fn new(
        dest: W,
        schema: SchemaRef,
        compression: Compression,
        threads: Option<usize>,
    ) -> Result<Self> {
        let mut props = WriterProperties::builder().set_compression(compression);
        if *schema == *nested_schema() {
            props = nested_columns(props);
        }
        let props = props.build();
        let (file, factory) = ArrowWriter::try_new(dest, schema.clone(), Some(props))
            .and_then(ArrowWriter::into_serialized_writer)
            .map_err(|e| write_failed("starting a Parquet file", e))?;
        Ok(ParquetSink {
            file,
            factory,
            schema,
            encoders: Encoders::Here(Vec::new()),
            threads: thread_count(threads),
            rows: 0,
            begun: 0,
            pending: 0,
            filling_rows: 0,
        })
    }

    /// Appends one batch (it must have the sink's schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut batch = batch.clone();
        while batch.num_rows() > 0 {
            if self.pending == 0 || self.filling_rows == ROW_GROUP_ROWS {
                self.begin_group()?;
            }
            if self.rows >= ROWS_BEFORE_THREADS && self.threads > 1 {
                self.encoders.spawn()?;
            }
            let take = batch.num_rows().min(ROW_GROUP_ROWS - self.filling_rows);
            self.encoders.write(&self.schema, &batch.slice(0, take))?;
            self.filling_rows += take;
            self.rows += take;
            batch = batch.slice(take, batch.num_rows() - take);
        }
        Ok(())
    }

    fn begin_group(&mut self) -> Result<()> {
        let writers = self
            .factory
            .create_column_writers(self.begun)
            .map_err(|e| failed("writing a Parquet file", e))?;
        match &mut self.encoders {
            Encoders::Here(_) => {
                if self.pending > 0 {
                    self.append_oldest()?;
                }
                self.encoders = Encoders::Here(writers);
            }
            Encoders::Threads(columns) => {
                for (column, writer) in columns.iter_mut().zip(writers) {
                    if self.pending > 0 {
                        column.end()?;
                    }
                    column.send(Job::Begin(Box::new(writer)))?;
                }
                // The group before the one just ended has had a whole row group's time.
                if self.pending > 1 {
                    self.append_oldest()?;
                }
            }
        }
        self.begun += 1;
        self.pending += 1;
        self.filling_rows = 0;
        Ok(())
    }

    /// Waits for the oldest pending row group's columns and writes them to the file.
    fn append_oldest(&mut self) -> Result<()> {
        let chunks: Vec<ArrowColumnChunk> = match &mut self.encoders {
            Encoders::Here(writers) => std::mem::take(writers)
                .into_iter()
                .map(|w| w.close().map_err(encode_failed))
                .collect::<Result<_>>()?,
            Encoders::Threads(columns) => {
                columns.iter().map(Column::chunk).collect::<Result<_>>()?
            }
        };
        self.pending -= 1;
        let appended = (|| {
            let mut row_group = self.file.next_row_group()?;
            for chunk in chunks {
                chunk.append_to_row_group(&mut row_group)?;
            }
            row_group.close().map(drop)
        })();
        appended.map_err(|e| write_failed("writing a Parquet file", e))
    }

    /// Write the footer; the destination is complete once this returns.
    pub fn finish(mut self) -> Result<W> {
        if let (Encoders::Threads(columns), true) = (&mut self.encoders, self.pending > 0) {
            for column in columns {
                column.end()?;
            }
        }
        while self.pending > 0 {
            self.append_oldest()?;
        }
        self.file
            .into_inner()
            .map_err(|e| write_failed("finishing a Parquet file", e))
    }
}

fn encode_failed(e: impl std::fmt::Display) -> Error {
    failed("encoding a Parquet row group", e)
}

/// Where row groups are encoded: a writer per leaf column, here or each on its own thread.
enum Encoders {
    Here(Vec<ArrowColumnWriter>),
    Threads(Vec<Column>),
}

/// Rows written before the columns get threads of their own. Each thread's first
/// megabytes are fresh pages from the kernel, which cost a file of 20,000 well-compressed
/// records more than the threads saved.
const ROWS_BEFORE_THREADS: usize = 32 * 1024;

impl Encoders {
    /// Moves the columns onto threads, the row group filling with them (if not there yet).
    fn spawn(&mut self) -> Result<()> {
        if let Encoders::Here(writers) = self {
            let mut columns = Vec::with_capacity(writers.len());
            for writer in std::mem::take(writers) {
                let column = Column::spawn()?;
                column.send(Job::Begin(Box::new(writer)))?;
                columns.push(column);
            }
            *self = Encoders::Threads(columns);
        }
        Ok(())
    }

    fn write(&mut self, schema: &SchemaRef, batch: &RecordBatch) -> Result<()> {
        let mut leaf = 0;
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            for values in compute_leaves(field, column).map_err(encode_failed)? {
                match self {
                    Encoders::Here(writers) => {
                        writers[leaf].write(&values).map_err(encode_failed)?
                    }
                    Encoders::Threads(columns) => columns[leaf].push(values)?,
                }
                leaf += 1;
            }
        }
        Ok(())
    }
}

/// What a column's thread is asked to do, in order.
enum Job {
    /// Encode the next row group's column with this writer.
    Begin(Box<ArrowColumnWriter>),
    Leaves(Vec<ArrowLeafColumn>),
    /// The row group is complete: hand back its column chunk.
    End,
}

/// Jobs a column's thread has not taken yet, at most: enough to keep it busy while the
/// caller parses, few enough to keep memory flat.
const QUEUED_JOBS: usize = 4;

/// Batches' leaves handed to a column's thread at once. Woken for every batch, the threads
/// took a tenth longer over a large file; more than 8 at once gained nothing and held more.
const LEAVES_PER_JOB: usize = 8;

/// One leaf column, encoded on a thread of its own, row group after row group.
struct Column {
    jobs: SyncSender<Job>,
    /// Leaves not yet handed over.
    leaves: Vec<ArrowLeafColumn>,
    chunks: Receiver<Result<ArrowColumnChunk>>,
    thread: Option<JoinHandle<()>>,
}

impl Column {
    fn spawn() -> Result<Column> {
        let (jobs, received) = sync_channel::<Job>(QUEUED_JOBS);
        let (done, chunks) = channel();
        let thread = std::thread::Builder::new()
            .name("fastmarc-parquet".into())
            .spawn(move || {
                let mut writer: Option<Result<ArrowColumnWriter>> = None;
                for job in received {
                    match job {
                        Job::Begin(w) => writer = Some(Ok(*w)),
                        Job::Leaves(leaves) => {
                            if let Some(Ok(w)) = &mut writer {
                                if let Err(e) = leaves.iter().try_for_each(|l| w.write(l)) {
                                    writer = Some(Err(encode_failed(e)));
                                }
                            }
                        }
                        Job::End => {
                            let chunk = match writer.take() {
                                Some(Ok(w)) => w.close().map_err(encode_failed),
                                Some(Err(e)) => Err(e),
                                None => Err(encode_failed("a row group ended before it began")),
                            };
                            if done.send(chunk).is_err() {
                                return;
                            }
                        }
                    }
                }
            })
            .map_err(|e| failed("starting a Parquet encoding thread", e))?;
        Ok(Column {
            jobs,
            leaves: Vec::new(),
            chunks,
            thread: Some(thread),
        })
    }

    fn push(&mut self, leaf: ArrowLeafColumn) -> Result<()> {
        self.leaves.push(leaf);
        if self.leaves.len() < LEAVES_PER_JOB {
            return Ok(());
        }
        let leaves = std::mem::take(&mut self.leaves);
        self.send(Job::Leaves(leaves))
    }

    /// The row group is complete.
    fn end(&mut self) -> Result<()> {
        if !self.leaves.is_empty() {
            let leaves = std::mem::take(&mut self.leaves);
            self.send(Job::Leaves(leaves))?;
        }
        self.send(Job::End)
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs
            .send(job)
            .map_err(|_| encode_failed("a column's thread has ended"))
    }

    /// The column chunk of the oldest row group not yet taken.
    fn chunk(&self) -> Result<ArrowColumnChunk> {
        self.chunks
            .recv()
            .unwrap_or_else(|_| Err(encode_failed("a column's thread ended without its chunk")))
    }
}

impl Drop for Column {
    fn drop(&mut self) {
        // Closing the job queue ends the thread once it has done what it was given.
        let (closed, _) = sync_channel(0);
        drop(std::mem::replace(&mut self.jobs, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
