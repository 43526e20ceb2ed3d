//! Record batches from ISO 2709, one per chunk of the input, built on the parser threads.

use crate::error::{Error, ErrorKind, Result};
use crate::iso2709::ReaderOptions;
use crate::parallel::{ChunkItem, ChunkRecords, ParallelChunks, ParallelOptions, SharedBytes};
use crate::record::Record;
use crate::TagSet;
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;

/// Column buffers for one batch, filled a record at a time on a parser thread.
pub trait Rows: Send + 'static {
    /// Add `rec`, record `number` (0-based) found at byte `offset` of its source.
    fn push(&mut self, number: u64, offset: u64, rec: &Record);
    /// Rows pushed so far.
    fn len(&self) -> usize;
    /// Whether no row has been pushed.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The batch of every row pushed.
    fn finish(self) -> std::result::Result<RecordBatch, ArrowError>;
}

/// What a batch holds: the nested schema ([`super::Nested`]) or a projection
/// ([`super::Projection`]).
pub trait Layout: Send + Sync + 'static {
    /// The builder of one batch in this layout.
    type Rows: Rows;
    /// The schema every batch of this layout has.
    fn schema(&self) -> SchemaRef;
    /// Empty buffers for a batch of about `records` records holding `bytes` bytes of
    /// ISO 2709: sized up front, so filling them never copies or faults in pages twice.
    fn rows(&self, records: usize, bytes: usize) -> Self::Rows;
    /// The tags of the fields the rows read, when not every field: the parser then skips
    /// the others ([`crate::iso2709::parse_record_fields`]).
    fn only_tags(&self) -> Option<TagSet> {
        None
    }
    /// Input bytes per batch unless [`ArrowOptions::batch_bytes`] says otherwise: what
    /// suits the size of the rows this layout builds from them.
    const BATCH_BYTES: usize;
}

/// How to read ISO 2709 into batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrowOptions {
    /// Strict (the first error ends the stream, after the batch of the records before it)
    /// or permissive (bad records are skipped and listed in [`BatchReader::skipped`]).
    pub reader: ReaderOptions,
    /// Parser threads, the consumer included; `None`: every core.
    pub threads: Option<usize>,
    /// Input bytes per batch; `None`: the layout's own ([`Layout::BATCH_BYTES`]).
    pub batch_bytes: Option<usize>,
    /// Where the input starts in its source (a part of a file read on its own): the
    /// `offset` column and errors count from there.
    pub first_offset: u64,
}

impl Default for ArrowOptions {
    fn default() -> Self {
        ArrowOptions {
            reader: ReaderOptions::strict(),
            threads: None,
            batch_bytes: None,
            first_offset: 0,
        }
    }
}

impl ArrowOptions {
    /// These options for an input of `len` bytes read in `L`'s batches: when they leave the
    /// thread count open (`threads: None`), every core, but fewer threads than the input has
    /// whole batches. Starting and joining a parser thread costs about as much as building
    /// a batch: a one-record file took five times as long on two threads as on one, and
    /// two threads paid from three batches on. A count given is kept.
    pub fn for_input<L: Layout>(self, len: u64) -> ArrowOptions {
        if self.threads.is_some() {
            return self;
        }
        let batch = self.batch_size::<L>() as u64;
        let most = usize::try_from((len / batch).saturating_sub(1)).unwrap_or(usize::MAX);
        // Counting the cores reads the process's cgroup files: not for a small input.
        let threads = match most {
            0 | 1 => 1,
            _ => crate::parallel::thread_count(None).min(most),
        };
        ArrowOptions {
            threads: Some(threads),
            ..self
        }
    }

    /// Input bytes per batch: `batch_bytes`, else the layout's own.
    fn batch_size<L: Layout>(&self) -> usize {
        self.batch_bytes.unwrap_or(L::BATCH_BYTES).max(1)
    }

    fn parallel<L: Layout>(&self) -> ParallelOptions {
        ParallelOptions {
            chunk_size: self.batch_size::<L>(),
            first_offset: self.first_offset,
            ..ParallelOptions::new(self.reader, self.threads)
        }
    }
}

/// What a parser thread made of one chunk.
struct ChunkOut {
    batch: Option<std::result::Result<RecordBatch, ArrowError>>,
    errors: Vec<Error>,
}

fn build_chunk<L: Layout>(layout: &L, chunk: &mut ChunkRecords<'_>) -> ChunkOut {
    if let Some(tags) = layout.only_tags() {
        chunk.keep_only(tags);
    }
    let (records, bytes) = chunk.size_hint();
    let mut rows = layout.rows(records, bytes);
    let mut errors = Vec::new();
    while let Some(item) = chunk.next() {
        match item {
            ChunkItem::Record {
                number,
                offset,
                record,
                ..
            } => rows.push(number, offset, record),
            ChunkItem::Failed(e) => errors.push(e),
        }
    }
    let batch = (!rows.is_empty()).then(|| rows.finish());
    ChunkOut { batch, errors }
}

fn arrow_failure(e: ArrowError) -> Error {
    Error::new(ErrorKind::InvalidValue(format!(
        "building an Arrow batch: {e}"
    )))
}

/// Record batches of a stream of ISO 2709 records, in file order. In strict mode the
/// first bad record ends the stream with its error (after a batch of the records before
/// it); in permissive mode bad records are left out, and each one is listed in
/// [`BatchReader::skipped`] with its record number and byte offset.
pub struct BatchReader {
    chunks: ParallelChunks<ChunkOut>,
    schema: SchemaRef,
    ready: VecDeque<Result<RecordBatch>>,
    skipped: Vec<Error>,
    strict: bool,
}

impl BatchReader {
    /// Batches of `layout` from any `Read`.
    pub fn new<R, L>(inner: R, opts: ArrowOptions, layout: L) -> Result<BatchReader>
    where
        R: Read + Send + 'static,
        L: Layout,
    {
        let schema = layout.schema();
        let parallel = opts.parallel::<L>();
        let layout = Arc::new(layout);
        let chunks = ParallelChunks::new(inner, parallel, move |c| build_chunk(&*layout, c))?;
        Ok(BatchReader::around(chunks, schema, &opts))
    }

    /// Batches of `layout` from bytes in memory (on as many threads as
    /// [`ArrowOptions::for_input`] gives for their length).
    pub fn from_shared<L: Layout>(
        data: SharedBytes,
        opts: ArrowOptions,
        layout: L,
    ) -> Result<BatchReader> {
        let schema = layout.schema();
        let len = (*data).as_ref().len() as u64;
        let parallel = opts.for_input::<L>(len).parallel::<L>();
        let layout = Arc::new(layout);
        let chunks =
            ParallelChunks::from_shared(data, parallel, move |c| build_chunk(&*layout, c))?;
        Ok(BatchReader::around(chunks, schema, &opts))
    }

    fn around(chunks: ParallelChunks<ChunkOut>, schema: SchemaRef, opts: &ArrowOptions) -> Self {
        BatchReader {
            chunks,
            schema,
            ready: VecDeque::new(),
            skipped: Vec::new(),
            strict: opts.reader.recovery == crate::iso2709::Recovery::Stop,
        }
    }

    /// Number of parser threads, the consumer included.
    pub fn threads(&self) -> usize {
        self.chunks.threads()
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The bad records left out so far (permissive mode), in file order.
    pub fn skipped(&self) -> &[Error] {
        &self.skipped
    }

    /// Stop reading and wait for the parser threads to end. Called on drop.
    pub fn close(&mut self) {
        self.ready.clear();
        self.chunks.close();
    }
}

impl Iterator for BatchReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(r);
            }
            let out = self.chunks.next()?;
            if let Some(batch) = out.batch {
                self.ready.push_back(batch.map_err(arrow_failure));
            }
            if self.strict {
                self.ready.extend(out.errors.into_iter().map(Err));
            } else {
                self.skipped.extend(out.errors);
            }
        }
    }
}

impl std::fmt::Debug for BatchReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchReader")
            .field("chunks", &self.chunks)
            .field("skipped", &self.skipped.len())
            .finish()
    }
}
