//! An ordered parallel map: a function of every record of a stream, run on the parser
//! threads, its results delivered in file order.
//!
//! [`super::ParallelReader`] hands each record to the consumer, and the consumer's core has
//! to fetch every cache line of it from the core that built it (then that core fetches
//! them back to parse the next record into): on a 2-core VM that traffic holds two threads
//! to about 1.5× the sequential reader, where a map reaches about 1.9×. When what the consumer wants from a record is smaller than the
//! record (a count, a title, the record edited and serialised), [`ParallelMap`] computes it
//! where the record was just parsed, parsing each chunk's records into one reused record,
//! and only the results cross.

use super::chunks::{ChunkItem, ChunkRecords};
use super::pipeline::{Next, Panic, Parsed, Pipeline, Stage, Work};
use super::LiveThreads;
use crate::error::Result;
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::read::Recovery;
use crate::parallel::{ParallelOptions, SharedBytes};
use crate::record::Record;
use std::io::Read;
use std::sync::Arc;

/// The function a [`ParallelMap`] applies: to each record, or to the error that stands in
/// the record's place, with where it is in the stream.
type MapFn<T> = dyn Fn(Result<&mut Record>, Position) -> T + Send + Sync;

/// Where a record is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Its number, bad records counted too (from 0).
    pub number: u64,
    /// The byte offset where it starts (for an error, where the error is).
    pub offset: u64,
}

struct MapStage<T> {
    parse: ParseOptions,
    stop_on_error: bool,
    f: Box<MapFn<T>>,
}

impl<T: Send + 'static> Stage for MapStage<T> {
    type Out = T;

    fn records_wanted(&self, _items: usize) -> usize {
        1
    }

    // The record stays on this thread: nothing to gain from the scratch copy.
    fn run(&self, work: Work<'_>, spare: &mut Vec<Arc<Record>>) -> Parsed<T> {
        let mut out = Vec::with_capacity(work.items.len());
        let mut rec = spare.pop().unwrap_or_default();
        let mut chunk = ChunkRecords::new(
            work,
            &self.parse,
            self.stop_on_error,
            Arc::make_mut(&mut rec),
        );
        while let Some(item) = chunk.next() {
            out.push(match item {
                ChunkItem::Record {
                    number,
                    offset,
                    record,
                    ..
                } => (self.f)(Ok(record), Position { number, offset }),
                ChunkItem::Failed(e) => {
                    let at = Position {
                        number: e.record().unwrap_or(0),
                        offset: e.offset().unwrap_or(0),
                    };
                    (self.f)(Err(e), at)
                }
            });
        }
        let ends = chunk.ended();
        spare.push(rec);
        Parsed { out, ends }
    }
}

/// `f` of every record of a file (or any `Read`, or a buffer), computed on several threads
/// and delivered in file order. `f` sees exactly what a [`crate::iso2709::Reader`] with the
/// same [`crate::iso2709::ReaderOptions`] delivers: each record, or the error in its place
/// (with [`Recovery::Stop`], the first error is the last thing `f` sees).
///
/// `f` may change the record it is given (edit it, then serialise it, say) or take it
/// (`std::mem::take`): the next record is parsed into it afresh either way. It runs on
/// whichever parser thread parsed the record, the consumer included, so it must be
/// `Send + Sync`; a panic in `f` is resumed on the consumer's thread once every
/// thread of the map has stopped. Dropping the map (or [`ParallelMap::close`]) stops and
/// joins its threads.
///
/// ```
/// use fastmarc::iso2709::{record_to_bytes, ReaderOptions};
/// use fastmarc::parallel::{ParallelMap, ParallelOptions};
/// use fastmarc::{Field, Record, Tag};
///
/// let mut file = Vec::new();
/// for id in ["a", "b", "c"] {
///     let mut rec = Record::new();
///     rec.push(&Field::control(Tag::new("001")?, id));
///     file.extend(record_to_bytes(&rec)?);
/// }
/// let opts = ParallelOptions::new(ReaderOptions::strict(), Some(2));
/// let ids = ParallelMap::new(std::io::Cursor::new(file), opts, |rec| {
///     rec.map(|r| r.get("001").and_then(|f| f.data()).unwrap_or("").to_string())
/// })?;
/// assert_eq!(ids.collect::<Result<Vec<_>, _>>()?, ["a", "b", "c"]);
/// # Ok::<(), fastmarc::Error>(())
/// ```
pub struct ParallelMap<T: Send + 'static> {
    pipe: Pipeline<MapStage<T>>,
    current: std::vec::IntoIter<T>,
}

impl<T: Send + 'static> ParallelMap<T> {
    /// A map over `inner`'s records with `opts.threads` parser threads, the consumer
    /// included.
    pub fn new<R, F>(inner: R, opts: ParallelOptions, f: F) -> Result<ParallelMap<T>>
    where
        R: Read + Send + 'static,
        F: Fn(Result<&mut Record>) -> T + Send + Sync + 'static,
    {
        ParallelMap::positioned(inner, opts, move |r, _| f(r))
    }

    /// [`ParallelMap::new`] with `f` told where each record is, for messages that point
    /// into the input.
    pub fn positioned<R, F>(inner: R, opts: ParallelOptions, f: F) -> Result<ParallelMap<T>>
    where
        R: Read + Send + 'static,
        F: Fn(Result<&mut Record>, Position) -> T + Send + Sync + 'static,
    {
        let pipe = Pipeline::over_read(inner, &opts, ParallelMap::stage(&opts, f))?;
        Ok(ParallelMap::around(pipe))
    }

    /// A map over the records of bytes in memory, framed in place.
    pub fn from_shared<F>(data: SharedBytes, opts: ParallelOptions, f: F) -> Result<ParallelMap<T>>
    where
        F: Fn(Result<&mut Record>) -> T + Send + Sync + 'static,
    {
        let pipe = Pipeline::over_bytes(data, &opts, ParallelMap::stage(&opts, move |r, _| f(r)))?;
        Ok(ParallelMap::around(pipe))
    }

    fn stage<F>(opts: &ParallelOptions, f: F) -> MapStage<T>
    where
        F: Fn(Result<&mut Record>, Position) -> T + Send + Sync + 'static,
    {
        MapStage {
            parse: opts.reader.parse,
            stop_on_error: opts.reader.recovery == Recovery::Stop,
            f: Box::new(f),
        }
    }

    fn around(pipe: Pipeline<MapStage<T>>) -> ParallelMap<T> {
        ParallelMap {
            pipe,
            current: Vec::new().into_iter(),
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

    /// The next batch of results in file order (one chunk's worth; results not yet taken by
    /// iteration come first), or `None` at the end.
    pub fn next_batch(&mut self) -> Option<Vec<T>> {
        if self.current.len() > 0 {
            return Some(std::mem::take(&mut self.current).collect());
        }
        match self.pipe.next_chunk(false) {
            Next::Chunk(Ok((batch, _parser))) => Some(batch),
            Next::Chunk(Err(Panic { payload, .. })) => std::panic::resume_unwind(payload),
            // Only a push source needs input, and a map has none.
            Next::NeedsInput | Next::End => None,
        }
    }

    /// Stop reading and mapping, and wait for every thread of this map to end. Further
    /// calls return nothing. Called on drop.
    pub fn close(&mut self) {
        self.current = Vec::new().into_iter();
        self.pipe.close();
    }
}

impl<T: Send + 'static> Iterator for ParallelMap<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(r) = self.current.next() {
                return Some(r);
            }
            self.current = self.next_batch()?.into_iter();
        }
    }
}

impl<T: Send + 'static> std::fmt::Debug for ParallelMap<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelMap")
            .field("threads", &self.threads())
            .field("finished", &self.pipe.finished())
            .finish()
    }
}
