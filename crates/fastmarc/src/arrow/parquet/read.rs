//! Records read back from a Parquet file in the nested schema, in file order.
//!
//! Decoding the file (zstd, repetition levels, string offsets) costs about as much as
//! rebuilding the records and writing them out together: on one thread, turning a
//! million records back into ISO 2709 took seven seconds with the other cores idle. With
//! more than one thread the file is decoded on a thread of its own, a few batches ahead
//! of the caller, which rebuilds the records.
//!
//! Row groups could be decoded on several threads, but the caller takes them in order:
//! every thread but the one decoding the group being taken would have to hold what it
//! decoded, up to a whole row group of Arrow data (hundreds of megabytes), or wait.

use super::failed;
use crate::arrow::records::{check_nested, BatchRecords};
use crate::contain::contain;
use crate::error::{Error, ErrorKind, Result};
use crate::parallel::thread_count;
use crate::record::Record;
use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

/// Batches the decoding thread may have ready before the caller takes them: enough to keep
/// it busy while the caller works, few enough to bound the memory (a batch is 1,024 rows).
const READY_BATCHES: usize = 4;

/// Rows a file needs before it is decoded on a thread of its own when the thread count is
/// left open: two batches. Starting and joining the thread costs about what decoding a
/// thousand records does; a file of 1,000 records was read faster on one thread, one of
/// 3,000 on two.
const ROWS_FOR_A_THREAD: i64 = 2048;

/// The record batches of a Parquet file.
pub fn read_batches(path: &Path) -> Result<ParquetRecordBatchReader> {
    Ok(open_batches(path)?.0)
}

/// [`read_batches`], and the number of rows the file's footer gives.
fn open_batches(path: &Path) -> Result<(ParquetRecordBatchReader, i64)> {
    let file = File::open(path).map_err(Error::from)?;
    let what = format!("reading {}", path.display());
    let opened = contain(|| {
        ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| {
            let rows = b.metadata().file_metadata().num_rows();
            Ok((b.build()?, rows))
        })
    });
    match opened {
        Ok(opened) => opened.map_err(|e| failed(&what, e)),
        Err(panic) => Err(failed(&what, damaged(&panic))),
    }
}

/// The next batch of `batches`. The Parquet and Arrow crates panic on some damaged files
/// (an unknown type in the footer's schema, an over-long number in a page): that is an
/// error of this file, not a panic of the caller's.
fn next_decoded(
    batches: &mut ParquetRecordBatchReader,
) -> Option<std::result::Result<RecordBatch, String>> {
    match contain(|| batches.next()) {
        Ok(next) => next.map(|batch| batch.map_err(|e| e.to_string())),
        Err(panic) => Some(Err(damaged(&panic))),
    }
}

fn damaged(panic: &str) -> String {
    format!("the file is damaged (the Parquet decoder failed: {panic})")
}

/// The records of a Parquet file in the nested schema, in order.
///
/// [`ParquetRecords::next_batch`] hands them out a batch at a time, for a caller that lets
/// other work go on while it waits; as an iterator, one at a time. A row that is not a
/// record (a tag of the wrong length, a null leader) is an error in its place, naming
/// the row; a file that cannot be decoded ends the records with an error.
pub struct ParquetRecords {
    source: Source,
    /// Whether the file is decoded on a thread of its own.
    apart: bool,
    /// What decoding errors are prefixed with.
    what: String,
    next_row: u64,
    ready: std::vec::IntoIter<Result<Record>>,
}

enum Source {
    /// Decoded by the caller.
    Here(ParquetRecordBatchReader),
    /// Decoded on a thread of its own.
    Thread {
        /// `None` once the caller stops, so that a thread blocked on a full queue wakes.
        batches: Option<Receiver<std::result::Result<RecordBatch, String>>>,
        thread: Option<JoinHandle<()>>,
        /// The process the thread runs in: a child `fork()`ed from it has no such thread
        /// to wait for.
        pid: u32,
    },
    Ended,
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Source::Thread {
            batches,
            thread,
            pid,
        } = self
        {
            if *pid != std::process::id() {
                // A forked child: its copies of the queue and the handle belong to a thread
                // that is not there, which dropping or joining would wait for forever.
                std::mem::forget(batches.take());
                std::mem::forget(thread.take());
                return;
            }
            drop(batches.take());
            if let Some(thread) = thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl ParquetRecords {
    /// Open a file, on the threads [`ParquetRecords::with_threads`] chooses when left to;
    /// one not in the nested schema is an error here, before any record.
    pub fn open(path: &Path) -> Result<ParquetRecords> {
        ParquetRecords::with_threads(path, None)
    }

    /// Open a file; with `threads` of 1 the calling thread decodes it, with more a thread
    /// of its own does. `None`: a thread of its own if there is more than one core and the
    /// file holds at least 2,048 records.
    pub fn with_threads(path: &Path, threads: Option<usize>) -> Result<ParquetRecords> {
        let (batches, rows) = open_batches(path)?;
        check_nested(&arrow_array::RecordBatchReader::schema(&batches))?;
        let apart = match threads.filter(|&n| n > 0) {
            None => rows >= ROWS_FOR_A_THREAD && thread_count(None) > 1,
            Some(n) => n > 1,
        };
        let source = if apart {
            let (send, receive) = sync_channel(READY_BATCHES);
            let thread = std::thread::Builder::new()
                .name("fastmarc-parquet".into())
                .spawn(move || {
                    let mut batches = batches;
                    while let Some(batch) = next_decoded(&mut batches) {
                        let failed = batch.is_err();
                        if send.send(batch).is_err() || failed {
                            return;
                        }
                    }
                })
                .map_err(|e| {
                    Error::new(ErrorKind::Io(e.kind(), format!("starting a thread: {e}")))
                })?;
            Source::Thread {
                batches: Some(receive),
                thread: Some(thread),
                pid: std::process::id(),
            }
        } else {
            Source::Here(batches)
        };
        Ok(ParquetRecords {
            source,
            apart,
            what: format!("reading {}", path.display()),
            next_row: 0,
            ready: Vec::new().into_iter(),
        })
    }

    /// Threads reading the file: 2 when it is decoded on a thread of its own, else 1.
    pub fn threads(&self) -> usize {
        1 + usize::from(self.apart)
    }

    /// The next batch of records in file order (`None` at the end), rebuilt on the calling
    /// thread once decoded.
    pub fn next_batch(&mut self) -> Option<Vec<Result<Record>>> {
        let decoded = match &mut self.source {
            Source::Here(batches) => next_decoded(batches)?,
            Source::Thread { pid, .. } if *pid != std::process::id() => {
                Err("the thread decoding it is in the process this one was forked from".to_string())
            }
            Source::Thread {
                batches, thread, ..
            } => match batches.as_ref()?.recv() {
                Ok(batch) => batch,
                // The thread is done: the end of the file, or it panicked (the join says).
                Err(_) => {
                    let panicked = thread.take().is_some_and(|t| t.join().is_err());
                    self.source = Source::Ended;
                    if !panicked {
                        return None;
                    }
                    Err("the thread decoding it stopped unexpectedly".to_string())
                }
            },
            Source::Ended => return None,
        };
        match decoded {
            Ok(batch) => {
                let first = self.next_row;
                self.next_row += batch.num_rows() as u64;
                Some(match BatchRecords::new(&batch) {
                    Ok(rows) => rows.numbered_from(first).iter().collect(),
                    Err(e) => vec![Err(e)],
                })
            }
            Err(e) => {
                // The error is the last thing handed out.
                self.source = Source::Ended;
                Some(vec![Err(failed(&self.what, e))])
            }
        }
    }
}

impl Iterator for ParquetRecords {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            if let Some(r) = self.ready.next() {
                return Some(r);
            }
            self.ready = self.next_batch()?.into_iter();
        }
    }
}
