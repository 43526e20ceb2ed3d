//! An ordered parallel map over whole chunks: a function of a chunk's records, run on the
//! parser threads once per chunk, its results delivered in file order.
//!
//! [`super::ParallelMap`] calls its function once per record and carries one result per
//! record to the consumer. Work that gathers many records into one thing (an Arrow record
//! batch, a count) wants the whole chunk at once, with each record's number and byte
//! offset: then the gathering happens on the parser thread too, and one result per chunk
//! crosses to the consumer.

use super::pipeline::{Next, Panic, Parsed, Pipeline, Stage, Work};
use super::{LiveThreads, Unparsed};
use crate::error::{Error, Result};
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::parse::{parse_record, parse_record_fields};
use crate::iso2709::read::Recovery;
use crate::parallel::{ParallelOptions, SharedBytes};
use crate::record::Record;
use crate::TagSet;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One element of a chunk: a parsed record with its place in the stream, or the error that
/// stands in a record's place (a reader with the same options reports the same error).
#[derive(Debug)]
pub enum ChunkItem<'r> {
    /// A record that parsed.
    Record {
        /// 0-based number of the record in the stream (bad records count too).
        number: u64,
        /// Byte offset of the record in the stream.
        offset: u64,
        /// Length of the record's ISO 2709 form in bytes.
        len: usize,
        /// The record, parsed into the chunk's reused record.
        record: &'r mut Record,
    },
    /// A record that did not parse: the error stands in its place.
    Failed(Error),
}

/// The records of one chunk, parsed one at a time into one reused record.
pub struct ChunkRecords<'a> {
    bytes: &'a [u8],
    items: std::vec::IntoIter<Unparsed>,
    parse: &'a ParseOptions,
    stop_on_error: bool,
    cancel: &'a AtomicBool,
    record: &'a mut Record,
    /// Parse only the fields with these tags ([`ChunkRecords::keep_only`]).
    only: Option<TagSet>,
    /// An error ended the stream ([`Recovery::Stop`]); nothing follows it.
    ended: bool,
}

impl<'a> ChunkRecords<'a> {
    /// A chunk's items, to be parsed one at a time into `record`.
    pub(super) fn new(
        work: Work<'a>,
        parse: &'a ParseOptions,
        stop_on_error: bool,
        record: &'a mut Record,
    ) -> Self {
        ChunkRecords {
            bytes: work.bytes.as_slice(),
            items: work.items.into_iter(),
            parse,
            stop_on_error,
            cancel: work.cancel,
            record,
            only: None,
            ended: false,
        }
    }

    /// From here on, parse only the fields whose tags are in `tags`
    /// ([`crate::iso2709::parse_record_fields`]): for a function that reads a few fields.
    pub fn keep_only(&mut self, tags: TagSet) {
        self.only = Some(tags);
    }

    /// Whether an error ended the stream here.
    pub(super) fn ended(&self) -> bool {
        self.ended
    }

    /// Records (and errors) still to come in this chunk, and the bytes of those records: for
    /// sizing what the chunk's results are gathered into.
    pub fn size_hint(&self) -> (usize, usize) {
        let items = self.items.as_slice();
        let bytes = items
            .iter()
            .map(|i| match i {
                Unparsed::Record { range, .. } => range.len(),
                Unparsed::Failed(..) => 0,
            })
            .sum();
        (items.len(), bytes)
    }

    /// The next record or error of the chunk, in order; `None` at the chunk's end (or the
    /// stream's, when an error ended it).
    #[allow(clippy::should_implement_trait)] // a lending iterator: the record is reused
    pub fn next(&mut self) -> Option<ChunkItem<'_>> {
        if self.ended || self.cancel.load(Ordering::Relaxed) {
            return None;
        }
        let item = match self.items.next()? {
            Unparsed::Record {
                range,
                number,
                offset,
            } => {
                let len = range.len();
                let bytes = &self.bytes[range];
                let parsed = match &self.only {
                    Some(only) => parse_record_fields(bytes, self.parse, only, self.record),
                    None => parse_record(bytes, self.parse, self.record),
                };
                match parsed.map_err(|e| e.located(number, offset)) {
                    Ok(()) => ChunkItem::Record {
                        number,
                        offset,
                        len,
                        record: self.record,
                    },
                    Err(e) => ChunkItem::Failed(e),
                }
            }
            Unparsed::Failed(e, _) => ChunkItem::Failed(e),
        };
        if matches!(item, ChunkItem::Failed(_)) && self.stop_on_error {
            self.ended = true;
        }
        Some(item)
    }
}

type ChunkFn<T> = dyn Fn(&mut ChunkRecords<'_>) -> T + Send + Sync;

struct ChunkStage<T> {
    parse: ParseOptions,
    stop_on_error: bool,
    f: Box<ChunkFn<T>>,
}

impl<T: Send + 'static> Stage for ChunkStage<T> {
    type Out = T;

    fn records_wanted(&self, _items: usize) -> usize {
        1
    }

    fn run(&self, work: Work<'_>, spare: &mut Vec<Arc<Record>>) -> Parsed<T> {
        let mut rec = spare.pop().unwrap_or_default();
        let mut chunk = ChunkRecords::new(
            work,
            &self.parse,
            self.stop_on_error,
            Arc::make_mut(&mut rec),
        );
        let out = (self.f)(&mut chunk);
        // Whatever the function left unread still counts: an error among it ends the
        // stream just the same.
        while !chunk.ended && chunk.next().is_some() {}
        let ends = chunk.ended;
        spare.push(rec);
        Parsed {
            out: vec![out],
            ends,
        }
    }
}

/// `f` of every chunk of a file (or any `Read`, or a buffer), computed on several threads
/// and delivered in file order, one result per chunk. Across the chunks, `f` sees exactly
/// what a [`crate::iso2709::Reader`] with the same options delivers: each record (with its
/// number and offset), or the error in its place; with [`Recovery::Stop`] the first error
/// is the last item `f` sees. Threads, panics and closing behave as for
/// [`super::ParallelMap`].
pub struct ParallelChunks<T: Send + 'static> {
    pipe: Pipeline<ChunkStage<T>>,
}

impl<T: Send + 'static> ParallelChunks<T> {
    /// A map over `inner`'s chunks with `opts.threads` parser threads, the consumer included.
    pub fn new<R, F>(inner: R, opts: ParallelOptions, f: F) -> Result<ParallelChunks<T>>
    where
        R: Read + Send + 'static,
        F: Fn(&mut ChunkRecords<'_>) -> T + Send + Sync + 'static,
    {
        let pipe = Pipeline::over_read(inner, &opts, ParallelChunks::stage(&opts, f))?;
        Ok(ParallelChunks { pipe })
    }

    /// A map over the chunks of bytes in memory, framed in place.
    pub fn from_shared<F>(data: SharedBytes, opts: ParallelOptions, f: F) -> Result<Self>
    where
        F: Fn(&mut ChunkRecords<'_>) -> T + Send + Sync + 'static,
    {
        let pipe = Pipeline::over_bytes(data, &opts, ParallelChunks::stage(&opts, f))?;
        Ok(ParallelChunks { pipe })
    }

    fn stage<F>(opts: &ParallelOptions, f: F) -> ChunkStage<T>
    where
        F: Fn(&mut ChunkRecords<'_>) -> T + Send + Sync + 'static,
    {
        ChunkStage {
            parse: opts.reader.parse,
            stop_on_error: opts.reader.recovery == Recovery::Stop,
            f: Box::new(f),
        }
    }

    /// Number of parser threads, the consumer included.
    pub fn threads(&self) -> usize {
        self.pipe.threads()
    }

    #[doc(hidden)]
    /// This map's pool threads still running; zero after `close`.
    pub fn live_threads(&self) -> LiveThreads {
        self.pipe.live_threads()
    }

    /// Stop reading, and wait for every thread of this map to end. Called on drop.
    pub fn close(&mut self) {
        self.pipe.close();
    }
}

impl<T: Send + 'static> Iterator for ParallelChunks<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            match self.pipe.next_chunk(false) {
                Next::Chunk(Ok((mut batch, _parser))) => {
                    if let Some(out) = batch.pop() {
                        return Some(out);
                    }
                }
                Next::Chunk(Err(Panic { payload, .. })) => std::panic::resume_unwind(payload),
                // Only a push source needs input, and this map has none.
                Next::NeedsInput | Next::End => return None,
            }
        }
    }
}

impl<T: Send + 'static> std::fmt::Debug for ParallelChunks<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelChunks")
            .field("threads", &self.threads())
            .field("finished", &self.pipe.finished())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iso2709::{record_to_bytes, ReaderOptions, SliceReader};
    use crate::{Field, Tag};

    /// A file of `n` records with a damaged stretch after the third.
    fn damaged_file(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let mut rec = Record::new();
            rec.push(&Field::control(Tag::new("001").unwrap(), format!("r{i}")));
            out.extend(record_to_bytes(&rec).unwrap());
            if i == 2 {
                out.extend_from_slice(b"12x45 not a record\x1d");
            }
        }
        out
    }

    /// What `f` sees over all chunks: each record's 001, or "error"; each record's bytes
    /// are checked to lie at its offset.
    fn seen(data: &[u8], reader: ReaderOptions, threads: usize) -> Vec<String> {
        let opts = ParallelOptions {
            chunk_size: 60,
            ..ParallelOptions::new(reader, Some(threads))
        };
        let whole = data.to_vec();
        let chunks = ParallelChunks::new(std::io::Cursor::new(data.to_vec()), opts, move |c| {
            let mut out = Vec::new();
            while let Some(item) = c.next() {
                out.push(match item {
                    ChunkItem::Record {
                        offset,
                        len,
                        record,
                        ..
                    } => {
                        let at = &whole[offset as usize..offset as usize + len];
                        assert_eq!(at, &record_to_bytes(record).unwrap()[..]);
                        record.fields().next().unwrap().data().unwrap().to_string()
                    }
                    ChunkItem::Failed(_) => "error".to_string(),
                });
            }
            out
        })
        .unwrap();
        chunks.flatten().collect()
    }

    #[test]
    fn chunks_see_what_a_reader_delivers() {
        let data = damaged_file(12);
        for reader in [ReaderOptions::strict(), ReaderOptions::resyncing()] {
            let expected: Vec<String> = SliceReader::with_options(&data, reader)
                .map(|r| match r {
                    Ok(rec) => rec.fields().next().unwrap().data().unwrap().to_string(),
                    Err(_) => "error".to_string(),
                })
                .collect();
            assert!(expected.contains(&"error".to_string()));
            for threads in [1, 2] {
                assert_eq!(seen(&data, reader, threads), expected, "{reader:?}");
            }
        }
    }
}
