//! Parsing on a rayon pool.
//!
//! - [`parse_batch`] / [`ParsePool::parse_batch`]: records already split out, parsed at once.
//! - [`parse_all`] / [`ParsePool::parse_all`]: a whole buffer, framed then parsed at once.
//! - [`ParallelReader`]: an ordered pipeline for a file, any `Read`, or bytes in memory.
//! - [`ParallelMap`]: the same pipeline with a function of each record run on the parser
//!   threads, for work that should scale with them.
//! - [`ParallelChunks`]: a function of each chunk's records, for work that gathers records
//!   (Arrow batches).
//!
//! Every path gives exactly what the sequential readers give with the same
//! [`ReaderOptions`]: the same records, the same errors with the same record numbers and
//! byte offsets, and the same end of stream for each [`Recovery`] mode.

use crate::error::{Error, ErrorKind, Result};
use crate::iso2709::frame::broken_span;
use crate::iso2709::parse::ParseOptions;
use crate::iso2709::read::{parse_framed, Framed, Framer, ReaderOptions, Recovery};
use crate::record::Record;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex};

mod chunks;
mod map;
mod pipeline;
mod reader;
mod source;
pub use chunks::{ChunkItem, ChunkRecords, ParallelChunks};
pub use map::{ParallelMap, Position};
pub use pipeline::{ParallelOptions, Parser, Recycler};
pub use reader::{Located, ParallelReader, Polled, RawBytes};
pub use source::SharedBytes;

/// Bytes the pipeline reads per chunk unless told otherwise. Small chunks keep the records
/// in flight few enough to stay in cache between the parser that builds them and the
/// consumer that reads them; measured, 64 KiB beats 1 MiB clearly (far fewer page faults
/// and cache misses) while the per-chunk overhead stays negligible.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// Small chunks of a batch are not worth a task of their own.
const MIN_RECORDS_PER_TASK: usize = 16;

#[doc(hidden)]
/// The number of parser threads to use: `requested` if given (and not 0), else the
/// environment variable `RAYON_NUM_THREADS`, else every core.
pub fn thread_count(requested: Option<usize>) -> usize {
    if let Some(n) = requested.filter(|&n| n > 0) {
        return n;
    }
    let from_env = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|&n| n > 0);
    from_env.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

// ---- counting live threads ----------------------------------------------------------------

#[derive(Debug, Default)]
struct Counts {
    parsers: usize,
}

/// How many of a pool's or pipeline's threads are still running. Closing waits for this
/// to reach zero; tests and bindings can check it.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct LiveThreads(Arc<(Mutex<Counts>, Condvar)>);

impl LiveThreads {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding this lock leaves plain integers behind: still usable.
        self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Threads that have not ended yet.
    pub fn get(&self) -> usize {
        self.counts().parsers
    }

    fn update(&self, change: impl FnOnce(&mut Counts)) {
        change(&mut self.counts());
        self.0 .1.notify_all();
    }

    fn wait_for_parsers(&self) {
        let mut c = self.counts();
        while c.parsers > 0 {
            c = self.0 .1.wait(c).unwrap_or_else(|e| e.into_inner());
        }
    }
}

// ---- framing into work items ------------------------------------------------------------

/// One element of the output stream, framed but not yet parsed.
#[derive(Debug)]
enum Unparsed {
    Record {
        range: Range<usize>,
        number: u64,
        offset: u64,
    },
    /// Broken framing or an I/O error, already located, with the bytes a reader shows for
    /// it (see [`crate::iso2709::frame::broken_span`]).
    Failed(Error, Range<usize>),
}

/// Why [`frame_into`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// At least the byte budget has been framed.
    Budget,
    /// The rest of the buffer is an incomplete record.
    NeedMore,
    /// The stream is over (input ended, or broken framing ended it).
    End,
}

/// Frame records from `buf[*pos..]` into `items` until `budget` bytes have been framed, more
/// input is needed, or the stream ends. Steps the shared [`Framer`] exactly as the
/// sequential readers do, so records, errors, numbers and offsets are the same.
fn frame_into(
    framer: &mut Framer,
    buf: &[u8],
    pos: &mut usize,
    at_eof: bool,
    budget: usize,
    items: &mut Vec<Unparsed>,
) -> Progress {
    let start = *pos;
    loop {
        if *pos - start >= budget {
            return Progress::Budget;
        }
        match framer.next_in(buf, pos, at_eof) {
            Framed::Record {
                range,
                number,
                offset,
            } => items.push(Unparsed::Record {
                range,
                number,
                offset,
            }),
            Framed::Broken(e) => items.push(Unparsed::Failed(e, broken_span(buf, *pos))),
            Framed::NeedMore => return Progress::NeedMore,
            Framed::End => return Progress::End,
        }
    }
}

fn parse_one(bytes: &[u8], number: u64, offset: u64, opts: &ParseOptions) -> Result<Record> {
    let mut rec = Record::new();
    parse_framed(bytes, number, offset, opts, &mut rec)?;
    Ok(rec)
}

/// Keep results up to and including the first error (what a [`Recovery::Stop`] reader
/// delivers).
fn truncate_after_first_error(results: &mut Vec<Result<Record>>) {
    if let Some(i) = results.iter().position(|r| r.is_err()) {
        results.truncate(i + 1);
    }
}

fn internal_error(what: &str) -> Error {
    Error::new(ErrorKind::Io(std::io::ErrorKind::Other, what.to_string()))
}

// ---- the pool -----------------------------------------------------------------------------

/// A private rayon pool for parsing. Dropping it waits until its threads have ended.
pub struct ParsePool {
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    live: LiveThreads,
}

impl std::fmt::Debug for ParsePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsePool")
            .field("threads", &self.threads)
            .finish()
    }
}

impl ParsePool {
    /// A pool of [`thread_count`]`(threads)` threads.
    pub fn new(threads: Option<usize>) -> Result<ParsePool> {
        ParsePool::with_live(threads, LiveThreads::default())
    }

    fn with_live(threads: Option<usize>, live: LiveThreads) -> Result<ParsePool> {
        let threads = thread_count(threads);
        // Counted before the threads start, so a wait cannot pass before they have run.
        live.update(|c| c.parsers += threads);
        let on_exit = live.clone();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("fastmarc-parse-{i}"))
            .exit_handler(move |_| on_exit.update(|c| c.parsers -= 1))
            // A panicking job drops its result channel, which the consumer reports as an
            // error; without a handler rayon would abort the process.
            .panic_handler(|_| {})
            .build()
            .map_err(|e| internal_error(&format!("cannot start parser threads: {e}")))?;
        Ok(ParsePool {
            pool: Some(pool),
            threads,
            live,
        })
    }

    /// Number of parser threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    #[doc(hidden)]
    /// Threads of this pool still running.
    pub fn live_threads(&self) -> LiveThreads {
        self.live.clone()
    }

    fn install<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    #[doc(hidden)]
    /// Run `job` on the pool without waiting for it (for callers that pipeline their own
    /// batches; inside the job, rayon's parallel iterators use this pool).
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        match &self.pool {
            Some(pool) => pool.spawn(job),
            None => job(),
        }
    }

    /// Parse separate records in parallel, in order. Error positions: the record's index in
    /// `records`, and the byte offset within that record.
    pub fn parse_batch(&self, records: &[&[u8]], opts: &ParseOptions) -> Vec<Result<Record>> {
        self.install(|| {
            records
                .par_iter()
                .with_min_len(MIN_RECORDS_PER_TASK)
                .enumerate()
                .map(|(i, bytes)| parse_one(bytes, i as u64, 0, opts))
                .collect()
        })
    }

    #[doc(hidden)]
    /// Parse the records at `ranges` of `buf` in parallel, in order. Error positions: the
    /// range's index, and the byte offset within `buf`.
    pub fn parse_ranges(
        &self,
        buf: &[u8],
        ranges: &[Range<usize>],
        opts: &ParseOptions,
    ) -> Vec<Result<Record>> {
        self.install(|| {
            ranges
                .par_iter()
                .with_min_len(MIN_RECORDS_PER_TASK)
                .enumerate()
                .map(|(i, r)| match buf.get(r.clone()) {
                    Some(bytes) => parse_one(bytes, i as u64, r.start as u64, opts),
                    None => Err(Error::at(
                        ErrorKind::InvalidValue(format!(
                            "range {r:?} lies outside the {}-byte buffer",
                            buf.len()
                        )),
                        i as u64,
                        r.start as u64,
                    )),
                })
                .collect()
        })
    }

    /// Frame and parse a whole buffer: exactly the output of
    /// [`crate::iso2709::SliceReader`] with the same options, computed in parallel.
    pub fn parse_all(&self, bytes: &[u8], opts: &ReaderOptions) -> Vec<Result<Record>> {
        let mut framer = Framer::new(opts.recovery).prefetching();
        let mut items = Vec::new();
        let mut pos = 0;
        frame_into(&mut framer, bytes, &mut pos, true, usize::MAX, &mut items);
        let parse = opts.parse;
        let mut out: Vec<Result<Record>> = self.install(|| {
            items
                .into_par_iter()
                .with_min_len(MIN_RECORDS_PER_TASK)
                .map(|item| match item {
                    Unparsed::Record {
                        range,
                        number,
                        offset,
                    } => parse_one(&bytes[range], number, offset, &parse),
                    Unparsed::Failed(e, _) => Err(e),
                })
                .collect()
        });
        if opts.recovery == Recovery::Stop {
            truncate_after_first_error(&mut out);
        }
        out
    }
}

impl Drop for ParsePool {
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else {
            return;
        };
        // A pool thread cannot wait for itself to end.
        let inside = pool.current_thread_index().is_some();
        drop(pool);
        if !inside {
            self.live.wait_for_parsers();
        }
    }
}

/// Parse separate records in parallel on a temporary pool (see [`ParsePool::parse_batch`]).
/// If no threads can be started, parses on the calling thread.
pub fn parse_batch(
    records: &[&[u8]],
    opts: &ParseOptions,
    threads: Option<usize>,
) -> Vec<Result<Record>> {
    match ParsePool::new(threads) {
        Ok(pool) => pool.parse_batch(records, opts),
        Err(_) => records
            .iter()
            .enumerate()
            .map(|(i, bytes)| parse_one(bytes, i as u64, 0, opts))
            .collect(),
    }
}

/// Frame and parse a whole buffer in parallel on a temporary pool (see
/// [`ParsePool::parse_all`]). If no threads can be started, parses on the calling thread.
pub fn parse_all(
    bytes: &[u8],
    opts: &ReaderOptions,
    threads: Option<usize>,
) -> Vec<Result<Record>> {
    let pool = ParsePool::new(threads).unwrap_or_else(|_| ParsePool {
        pool: None,
        threads: 1,
        live: LiveThreads::default(),
    });
    pool.parse_all(bytes, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn pools_can_move_between_threads() {
        assert_send::<ParsePool>();
    }

    #[test]
    fn explicit_thread_count_wins() {
        assert_eq!(thread_count(Some(3)), 3);
        assert!(thread_count(None) >= 1);
        assert!(thread_count(Some(0)) >= 1);
    }
}
