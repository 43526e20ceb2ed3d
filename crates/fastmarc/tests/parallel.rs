//! The parallel paths give exactly what the sequential readers give: the same records, the
//! same errors with the same record numbers and byte offsets, for every recovery mode,
//! thread count and chunk size (tiny chunks make records straddle chunk boundaries).

#[path = "../examples/common/fixture.rs"]
mod fixture;

use fastmarc::internal::scan_record_boundaries;
use fastmarc::iso2709::{parse_record, ParseOptions, Reader, ReaderOptions, Recovery, SliceReader};
use fastmarc::parallel::{
    parse_all, parse_batch, Located, ParallelMap, ParallelOptions, ParallelReader, ParsePool,
    Polled, DEFAULT_CHUNK_SIZE,
};
use fastmarc::{ErrorKind, Record, Result};
use std::io::{Cursor, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECOVERIES: [Recovery; 3] = [Recovery::Stop, Recovery::SkipRecord, Recovery::Resync];
const THREADS: [usize; 4] = [1, 2, 4, 8];
const CHUNK_SIZES: [usize; 5] = [1, 7, 1000, 4096, DEFAULT_CHUNK_SIZE];

fn options(recovery: Recovery) -> ReaderOptions {
    ReaderOptions {
        parse: ParseOptions::default(),
        recovery,
    }
}

/// Hands out at most `max` bytes per `read` call, varying deterministically, so reads end
/// at odd places.
struct Dribble {
    data: Vec<u8>,
    pos: usize,
    max: usize,
    calls: usize,
}

impl Dribble {
    fn new(data: Vec<u8>, max: usize) -> Dribble {
        Dribble {
            data,
            pos: 0,
            max,
            calls: 0,
        }
    }
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        let step = 1 + (self.calls * 7919) % self.max;
        let n = step.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn sequential(bytes: &[u8], opts: ReaderOptions) -> Vec<Result<Record>> {
    let from_read: Vec<_> = Reader::with_options(Cursor::new(bytes.to_vec()), opts).collect();
    let from_slice: Vec<_> = SliceReader::with_options(bytes, opts).collect();
    assert_eq!(from_read, from_slice, "the two sequential readers disagree");
    from_read
}

/// The pipeline over a reader that returns a few bytes at a time. `recycle`: batch by
/// batch, each cloned out and handed back (see [`in_memory`]); else record by record.
fn pipeline(
    bytes: &[u8],
    opts: ReaderOptions,
    threads: usize,
    chunk: usize,
    recycle: bool,
) -> Vec<Result<Record>> {
    let mut reader = ParallelReader::with_options(
        Dribble::new(bytes.to_vec(), 3000),
        ParallelOptions {
            reader: opts,
            threads: Some(threads),
            chunk_size: chunk,
            chunks_in_flight: Some(2),
            ..ParallelOptions::default()
        },
    )
    .expect("pipeline starts");
    assert_eq!(reader.threads(), threads);
    if !recycle {
        return reader.collect();
    }
    let mut out = Vec::new();
    while let Some(batch) = reader.next_batch() {
        out.extend(batch.iter().cloned());
        reader.recycle(batch);
    }
    out
}

/// The pipeline over bytes in memory, a batch at a time. `recycle`: each batch is cloned
/// out and handed back, so later chunks are parsed into used records.
fn in_memory(
    bytes: &[u8],
    opts: ReaderOptions,
    threads: usize,
    chunk: usize,
    recycle: bool,
) -> Vec<Result<Record>> {
    let mut reader = ParallelReader::from_shared(
        Arc::new(bytes.to_vec()),
        ParallelOptions {
            reader: opts,
            threads: Some(threads),
            chunk_size: chunk,
            chunks_in_flight: None,
            ..ParallelOptions::default()
        },
    )
    .expect("pipeline starts");
    let mut out = Vec::new();
    while let Some(batch) = reader.next_batch() {
        assert!(!batch.is_empty(), "batches are never empty");
        if recycle {
            out.extend(batch.iter().cloned());
            reader.recycle(batch);
        } else {
            out.extend(batch);
        }
    }
    out
}

/// The pipeline over bytes pushed `piece` bytes at a time, only when it asks for input (as
/// a caller that can read its source only itself does), with provenance and raw bytes.
fn pushed(
    bytes: &[u8],
    opts: ReaderOptions,
    threads: usize,
    chunk: usize,
    piece: usize,
) -> Vec<Located> {
    let mut reader = ParallelReader::pushed(ParallelOptions {
        reader: opts,
        threads: Some(threads),
        chunk_size: chunk,
        chunks_in_flight: Some(3),
        keep_raw: true,
        ..ParallelOptions::default()
    })
    .expect("pipeline starts");
    let mut pieces = bytes.chunks(piece.max(1));
    let mut out = Vec::new();
    loop {
        match reader.poll() {
            Polled::Batch(batch) => {
                assert!(!batch.is_empty(), "batches are never empty");
                out.extend(batch);
            }
            Polled::NeedsInput => match pieces.next() {
                Some(p) => reader.push(p),
                None => reader.end_input(),
            },
            Polled::End => return out,
        }
    }
}

/// `ParallelMap` cloning out each record it is given (or the error in its place): over a
/// reader that returns a few bytes at a time, or over bytes in memory.
fn mapped(
    bytes: &[u8],
    opts: ReaderOptions,
    threads: usize,
    chunk: usize,
    in_memory: bool,
) -> Vec<Result<Record>> {
    let opts = ParallelOptions {
        reader: opts,
        threads: Some(threads),
        chunk_size: chunk,
        chunks_in_flight: Some(2),
        ..ParallelOptions::default()
    };
    let clone = |r: Result<&mut Record>| r.map(|rec| rec.clone());
    let map = if in_memory {
        ParallelMap::from_shared(Arc::new(bytes.to_vec()), opts, clone)
    } else {
        ParallelMap::new(Dribble::new(bytes.to_vec(), 3000), opts, clone)
    };
    let map = map.expect("map starts");
    assert_eq!(map.threads(), threads);
    map.collect()
}

/// Every parallel path, every thread count and chunk size, against the sequential reader.
fn assert_all_paths_match(bytes: &[u8], recovery: Recovery) -> Vec<Result<Record>> {
    let opts = options(recovery);
    let expected = sequential(bytes, opts);
    for threads in THREADS {
        for chunk in CHUNK_SIZES {
            for recycle in [false, true] {
                let got = pipeline(bytes, opts, threads, chunk, recycle);
                assert_eq!(
                    got, expected,
                    "pipeline differs: {recovery:?}, {threads} threads, chunk {chunk}, recycling {recycle}"
                );
            }
        }
        for chunk in [1, 5000, DEFAULT_CHUNK_SIZE] {
            for recycle in [false, true] {
                let got = in_memory(bytes, opts, threads, chunk, recycle);
                assert_eq!(
                    got, expected,
                    "in-memory pipeline differs: {recovery:?}, {threads} threads, chunk {chunk}, recycling {recycle}"
                );
            }
        }
        for (chunk, piece) in [(1, 1), (1000, 777), (DEFAULT_CHUNK_SIZE, 256 * 1024)] {
            let got = pushed(bytes, opts, threads, chunk, piece);
            assert_provenance(bytes, opts, &got);
            let got: Vec<_> = got.into_iter().map(Located::into_result).collect();
            assert_eq!(
                got, expected,
                "pushed pipeline differs: {recovery:?}, {threads} threads, chunk {chunk}, pieces of {piece}"
            );
        }
        for chunk in [1, 1000, DEFAULT_CHUNK_SIZE] {
            for in_memory in [false, true] {
                let got = mapped(bytes, opts, threads, chunk, in_memory);
                assert_eq!(
                    got, expected,
                    "map differs: {recovery:?}, {threads} threads, chunk {chunk}, in memory {in_memory}"
                );
            }
        }
        assert_eq!(
            parse_all(bytes, &opts, Some(threads)),
            expected,
            "parse_all differs: {recovery:?}, {threads} threads"
        );
    }
    expected
}

/// Each good record's number, offset and raw bytes are where the sequential reader framed
/// it; a broken one's raw bytes start at its offset.
fn assert_provenance(bytes: &[u8], opts: ReaderOptions, got: &[Located]) {
    let mut frames = SliceReader::with_options(bytes, opts);
    let mut framed = Vec::new();
    while let Some(frame) = frames.next_frame() {
        if let Ok((raw, number, offset)) = frame {
            framed.push((number, offset, raw.to_vec()));
        }
    }
    let good: Vec<_> = got
        .iter()
        .filter(|l| !matches!(&l.result, Err(e) if e.is_framing()))
        .map(|l| (l.number, l.offset, l.raw.as_ref().unwrap().bytes().to_vec()))
        .collect();
    // A Stop reader's output ends at its first error, where framing need not.
    let all = got.iter().all(|l| l.result.is_ok()) || opts.recovery != Recovery::Stop;
    assert!(good.len() <= framed.len() && (!all || good.len() == framed.len()));
    assert!(
        good[..] == framed[..good.len()],
        "provenance differs from the sequential framing"
    );
    for l in got {
        let raw = l.raw.as_ref().expect("raw bytes asked for");
        if let Err(e) = &l.result {
            if e.is_framing() && !raw.bytes().is_empty() {
                let at = raw.chunk().1.start;
                let offset = l.offset as usize;
                assert_eq!(
                    raw.bytes(),
                    &bytes[offset..offset + raw.bytes().len()],
                    "{at}"
                );
            }
        }
    }
}

fn records_of(bytes: &[u8]) -> Vec<Range<usize>> {
    scan_record_boundaries(bytes).records
}

fn errors(results: &[Result<Record>]) -> Vec<(ErrorKind, Option<u64>, Option<u64>)> {
    results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| (e.kind().clone(), e.record(), e.offset()))
        .collect()
}

#[test]
fn clean_files_give_the_same_records() {
    for marc8 in [false, true] {
        let bytes = fixture::file_bytes(120, marc8, 11);
        let out = assert_all_paths_match(&bytes, Recovery::Stop);
        assert_eq!(out.len(), 120);
        assert!(out.iter().all(|r| r.is_ok()));
    }
}

#[test]
fn empty_input_gives_nothing() {
    for recovery in RECOVERIES {
        assert!(assert_all_paths_match(b"", recovery).is_empty());
    }
}

/// A generated file with one kind of damage at record `at`.
fn damaged(kind: &str, at: usize) -> Vec<u8> {
    let mut bytes = fixture::file_bytes(40, false, 5);
    let recs = records_of(&bytes);
    let r = recs[at].clone();
    match kind {
        // Not digits: framing is broken.
        "length-not-digits" => bytes[r.start + 2] = b'x',
        // Digits, but the record terminator is not where they say.
        "length-wrong" => {
            let wrong = format!("{:05}", r.len() - 3);
            bytes[r.start..r.start + 5].copy_from_slice(wrong.as_bytes());
        }
        "terminator" => bytes[r.end - 1] = b'x',
        // Framing is fine; parsing fails (a directory entry's length is not digits).
        "directory" => bytes[r.start + 24 + 4] = b'?',
        "utf8" => {
            let last_field = r.end - 3;
            bytes[last_field] = 0xFF;
        }
        "truncated" => bytes.truncate(recs.last().unwrap().start + 100),
        _ => unreachable!(),
    }
    bytes
}

#[test]
fn damaged_files_give_the_same_records_and_errors() {
    for kind in [
        "length-not-digits",
        "length-wrong",
        "terminator",
        "directory",
        "utf8",
        "truncated",
    ] {
        for recovery in RECOVERIES {
            let bytes = damaged(kind, 17);
            let out = assert_all_paths_match(&bytes, recovery);
            assert!(
                !errors(&out).is_empty(),
                "{kind}/{recovery:?}: the damage must show up as an error"
            );
        }
    }
}

#[test]
fn several_bad_records_in_one_file() {
    let mut bytes = fixture::file_bytes(60, false, 9);
    let recs = records_of(&bytes);
    bytes[recs[3].start + 24 + 9] = b'/'; // bad directory (parse error)
    bytes[recs[10].end - 1] = b'x'; // bad terminator (framing)
    bytes[recs[30].start + 1] = b'#'; // length not digits (framing)
    bytes.truncate(recs[59].start + 40); // truncated tail
    for recovery in RECOVERIES {
        assert_all_paths_match(&bytes, recovery);
    }
    // What each mode does, checked once on the sequential result the others equal.
    let stop = sequential(&bytes, options(Recovery::Stop));
    assert_eq!(stop.len(), 4);
    assert_eq!(
        errors(&stop),
        [(
            ErrorKind::DirectoryEntryNotDigits { entry: 0 },
            Some(3),
            Some(recs[3].start as u64 + 24)
        )]
    );
    let skip = sequential(&bytes, options(Recovery::SkipRecord));
    assert_eq!(skip.len(), 11);
    assert_eq!(
        errors(&skip)[1],
        (
            ErrorKind::EndOfRecordNotFound,
            Some(10),
            Some(recs[10].start as u64)
        )
    );
    let resync = sequential(&bytes, options(Recovery::Resync));
    let kinds: Vec<_> = errors(&resync).into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [
            ErrorKind::DirectoryEntryNotDigits { entry: 0 },
            ErrorKind::EndOfRecordNotFound,
            ErrorKind::RecordLengthNotDigits,
            ErrorKind::TruncatedRecord {
                expected: recs[59].len(),
                found: 40
            },
        ]
    );
}

#[test]
fn batches_and_single_records_interleave() {
    let bytes = fixture::file_bytes(300, false, 3);
    let expected = sequential(&bytes, ReaderOptions::strict());
    let mut reader = ParallelReader::with_options(
        Cursor::new(bytes),
        ParallelOptions {
            chunk_size: 20_000,
            threads: Some(2),
            ..ParallelOptions::default()
        },
    )
    .unwrap();
    let mut got = vec![reader.next().unwrap()];
    let rest_of_first = reader.next_batch().unwrap();
    assert!(!rest_of_first.is_empty());
    got.extend(rest_of_first);
    got.extend(reader.next());
    while let Some(batch) = reader.next_batch() {
        got.extend(batch);
    }
    assert!(reader.next().is_none());
    assert_eq!(got, expected);
}

#[test]
fn parse_batch_matches_parsing_each_record() {
    let mut bytes = fixture::file_bytes(200, false, 21);
    let recs = records_of(&bytes);
    bytes[recs[50].start + 24 + 5] = b'z';
    let slices: Vec<&[u8]> = recs.iter().map(|r| &bytes[r.clone()]).collect();
    let opts = ParseOptions::default();
    let expected: Vec<Result<Record>> = slices
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut rec = Record::new();
            parse_record(b, &opts, &mut rec)
                .map(|_| rec)
                .map_err(|e| e.located(i as u64, 0))
        })
        .collect();
    assert!(expected[50].is_err());
    for threads in [1, 2, 4] {
        assert_eq!(parse_batch(&slices, &opts, Some(threads)), expected);
    }
    let pool = ParsePool::new(Some(3)).unwrap();
    assert_eq!(pool.threads(), 3);
    assert_eq!(pool.parse_batch(&slices, &opts), expected);
    // By ranges, offsets count from the start of the buffer.
    let by_range = pool.parse_ranges(&bytes, &recs, &opts);
    let e = by_range[50].as_ref().unwrap_err();
    assert_eq!(
        (e.record(), e.offset()),
        (Some(50), Some(recs[50].start as u64 + 24))
    );
    assert_eq!(by_range.iter().filter(|r| r.is_ok()).count(), 199);
    let past_the_end = vec![recs[0].clone(), 0..bytes.len() + 1];
    let outside = pool.parse_ranges(&bytes, &past_the_end, &opts);
    assert!(outside[0].is_ok());
    assert!(
        matches!(outside[1], Err(ref e) if matches!(e.kind().clone(), ErrorKind::InvalidValue(_)))
    );
}

/// Delivers `data` up to `fail_at`, then fails.
struct FailingRead {
    data: Vec<u8>,
    pos: usize,
    fail_at: usize,
}

impl Read for FailingRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.fail_at {
            return Err(std::io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.fail_at - self.pos).min(777);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn io_error_midway_surfaces_where_it_happens() {
    let bytes = fixture::file_bytes(50, false, 17);
    let recs = records_of(&bytes);
    // In the middle of record 20, and exactly at the start of record 33.
    for (fail_at, record) in [(recs[20].start + 300, 20), (recs[33].start, 33)] {
        for recovery in RECOVERIES {
            let opts = options(recovery);
            let failing = || FailingRead {
                data: bytes.clone(),
                pos: 0,
                fail_at,
            };
            let expected: Vec<_> = Reader::with_options(failing(), opts).collect();
            assert_eq!(expected.len(), record + 1);
            let e = expected[record].as_ref().unwrap_err();
            assert!(matches!(
                e.kind(),
                ErrorKind::Io(std::io::ErrorKind::Other, _)
            ));
            assert_eq!(e.record(), Some(record as u64));
            assert_eq!(e.offset(), Some(recs[record].start as u64));
            for threads in [1, 2, 4] {
                for chunk in [7, 4096, DEFAULT_CHUNK_SIZE] {
                    let got: Vec<_> = ParallelReader::with_options(
                        failing(),
                        ParallelOptions {
                            reader: opts,
                            threads: Some(threads),
                            chunk_size: chunk,
                            chunks_in_flight: None,
                            ..ParallelOptions::default()
                        },
                    )
                    .unwrap()
                    .collect();
                    assert_eq!(
                        got, expected,
                        "{recovery:?}, {threads} threads, chunk {chunk}"
                    );
                }
            }
        }
    }
}

/// Counts what was read, and notes when the pipeline dropped it.
struct Watched {
    inner: Cursor<Vec<u8>>,
    read: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

fn watched(bytes: Vec<u8>) -> (Watched, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let read = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let w = Watched {
        inner: Cursor::new(bytes),
        read: read.clone(),
        dropped: dropped.clone(),
    };
    (w, read, dropped)
}

/// Waits for a condition that the pipeline must reach; fails rather than hangs if it never does.
fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn dropping_a_blocked_pipeline_joins_every_thread() {
    let bytes = fixture::file_bytes(2000, false, 4);
    let total = bytes.len();
    let (input, read, dropped) = watched(bytes);
    let chunk = 4096;
    let in_flight = 2;
    let reader = ParallelReader::with_options(
        input,
        ParallelOptions {
            threads: Some(2),
            chunk_size: chunk,
            chunks_in_flight: Some(in_flight),
            ..ParallelOptions::default()
        },
    )
    .unwrap();
    let live = reader.live_threads();
    assert_eq!(
        live.get(),
        1,
        "one pool thread (the consumer is the other parser; there is no reader thread)"
    );
    // The consumer takes nothing: the pool thread reads and parses chunks until the queue
    // is full, then waits.
    let blocked_after = in_flight * chunk;
    wait_until("the pool thread fills the queue", || {
        read.load(Ordering::SeqCst) >= blocked_after
    });
    drop(reader);
    assert_eq!(live.get(), 0, "all threads ended");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the pipeline let go of its input"
    );
    assert_eq!(
        read.load(Ordering::SeqCst),
        blocked_after,
        "nothing was read after the queue filled"
    );
    assert!(blocked_after < total);
}

#[test]
fn dropping_mid_file_joins_every_thread() {
    let bytes = fixture::file_bytes(3000, false, 8);
    let expected: Vec<_> = SliceReader::new(&bytes).take(5).collect();
    let (input, _read, dropped) = watched(bytes);
    let mut reader = ParallelReader::with_options(
        input,
        ParallelOptions {
            threads: Some(4),
            chunk_size: 10_000,
            ..ParallelOptions::default()
        },
    )
    .unwrap();
    let live = reader.live_threads();
    let first: Vec<_> = reader.by_ref().take(5).collect();
    assert_eq!(first, expected);
    reader.close();
    assert_eq!(live.get(), 0);
    assert!(dropped.load(Ordering::SeqCst));
    assert!(reader.next().is_none(), "a closed pipeline yields nothing");
    assert!(reader.next_batch().is_none());
    reader.close();
}

#[test]
fn reaching_the_end_releases_the_threads() {
    let mut bytes = fixture::file_bytes(100, false, 2);
    let recs = records_of(&bytes);
    // In Stop mode the stream ends at a parse error although the file goes on.
    bytes[recs[40].start + 24 + 3] = b'!';
    for input_bytes in [bytes.clone(), fixture::file_bytes(100, false, 2)] {
        let (input, _read, dropped) = watched(input_bytes);
        let mut reader = ParallelReader::new(input, ReaderOptions::strict(), Some(2)).unwrap();
        let live = reader.live_threads();
        let n = reader.by_ref().count();
        assert!(n == 41 || n == 100);
        assert_eq!(live.get(), 0);
        assert!(dropped.load(Ordering::SeqCst));
    }
    let mut mem = ParallelReader::from_bytes(bytes, ReaderOptions::strict(), Some(2)).unwrap();
    let live = mem.live_threads();
    assert_eq!(mem.by_ref().count(), 41);
    assert_eq!(live.get(), 0);
}

/// Panics once `at` bytes have been handed out.
struct PanickingRead {
    data: Cursor<Vec<u8>>,
    at: u64,
}

impl Read for PanickingRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        assert!(self.data.position() < self.at, "a Read that panics");
        let room = (self.at - self.data.position()) as usize;
        let n = buf.len().min(room);
        self.data.read(&mut buf[..n])
    }
}

#[test]
fn a_panicking_input_is_an_error_not_a_silent_end() {
    let bytes = fixture::file_bytes(100, false, 6);
    let recs = records_of(&bytes);
    let input = PanickingRead {
        data: Cursor::new(bytes),
        at: recs[60].start as u64 + 10,
    };
    let mut reader = ParallelReader::with_options(
        input,
        ParallelOptions {
            threads: Some(2),
            chunk_size: 8192,
            ..ParallelOptions::default()
        },
    )
    .unwrap();
    let live = reader.live_threads();
    let results: Vec<_> = reader.by_ref().collect();
    let last = results.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(last.kind().clone(), ErrorKind::Io(..)), "{last}");
    assert!(results[..results.len() - 1].iter().all(|r| r.is_ok()));
    assert!(results.len() <= 61, "no record after the failure point");
    assert_eq!(live.get(), 0);
}

#[test]
fn a_panic_in_the_map_function_reaches_the_consumer_and_stops_every_thread() {
    let bytes = fixture::file_bytes(300, false, 3);
    let id = |rec: &Record| rec.get("001").and_then(|f| f.data()).unwrap().to_string();
    let ids: Vec<String> = SliceReader::new(&bytes).map(|r| id(&r.unwrap())).collect();
    let fatal = ids[150].clone();
    let opts = ParallelOptions {
        threads: Some(4),
        chunk_size: 2000,
        ..ParallelOptions::default()
    };
    let map = ParallelMap::new(Cursor::new(bytes), opts, move |r| {
        let got = id(r.expect("a clean file"));
        assert!(got != fatal, "the map function panics");
        got
    })
    .unwrap();
    let live = map.live_threads();
    let mut delivered = Vec::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for got in map {
            delivered.push(got);
        }
    }));
    let payload = outcome.expect_err("the panic is resumed on this thread");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("the map function panics"), "{message}");
    assert!(
        delivered.len() <= 150,
        "nothing from the chunk that panicked or after it: {}",
        delivered.len()
    );
    assert_eq!(
        delivered,
        ids[..delivered.len()],
        "what came before, in order"
    );
    assert_eq!(live.get(), 0, "every thread has stopped");
}

#[test]
fn dropping_a_map_mid_file_joins_every_thread() {
    let bytes = fixture::file_bytes(3000, false, 8);
    let expected: Vec<usize> = SliceReader::new(&bytes)
        .take(5)
        .map(|r| r.unwrap().len())
        .collect();
    let (input, _read, dropped) = watched(bytes);
    let opts = ParallelOptions {
        threads: Some(4),
        chunk_size: 10_000,
        ..ParallelOptions::default()
    };
    let mut map = ParallelMap::new(input, opts, |r| r.map(|rec| rec.len())).unwrap();
    let live = map.live_threads();
    let first: Vec<usize> = map.by_ref().take(5).map(|r| r.unwrap()).collect();
    assert_eq!(first, expected);
    map.close();
    assert_eq!(live.get(), 0);
    assert!(dropped.load(Ordering::SeqCst));
    assert!(map.next().is_none(), "a closed map yields nothing");
}

/// Everything a reader of pushed bytes gives, pushing it all at once when asked; `between`
/// runs after every batch.
fn drain_pushed(
    reader: &mut ParallelReader,
    bytes: &[u8],
    mut between: impl FnMut(&ParallelReader, &[Located]),
) -> Vec<Located> {
    let mut pending = Some(bytes);
    let mut out = Vec::new();
    loop {
        match reader.poll() {
            Polled::Batch(batch) => {
                between(reader, &batch);
                out.extend(batch);
            }
            Polled::NeedsInput => match pending.take() {
                Some(all) => reader.push(all),
                None => reader.end_input(),
            },
            Polled::End => return out,
        }
    }
}

#[test]
fn parse_options_set_while_reading_apply_to_later_chunks_and_kept_bytes_reparse() {
    let bytes = damaged("utf8", 17);
    let replace = ParseOptions {
        utf8_errors: fastmarc::iso2709::Utf8Errors::Replace,
        ..ParseOptions::default()
    };
    let expected = sequential(
        &bytes,
        ReaderOptions {
            parse: replace,
            recovery: Recovery::SkipRecord,
        },
    );
    assert!(expected.iter().all(|r| r.is_ok()));
    for threads in [1, 2] {
        let mut reader = ParallelReader::pushed(ParallelOptions {
            reader: options(Recovery::SkipRecord),
            threads: Some(threads),
            chunk_size: 1000,
            keep_raw: true,
            ..ParallelOptions::default()
        })
        .unwrap();
        let mut set = false;
        let got = drain_pushed(&mut reader, &bytes, |reader, _| {
            if !set {
                reader.set_parse_options(replace);
                set = true;
            }
        });
        // Chunks parsed before the change keep the options they were parsed with...
        assert_eq!(got[0].parsed_with, ParseOptions::default());
        assert_eq!(got.last().unwrap().parsed_with, replace);
        // ...and parse again with the new ones from their kept bytes.
        let got: Vec<_> = got
            .into_iter()
            .map(|mut l| {
                l.reparse(replace);
                l.into_result()
            })
            .collect();
        assert_eq!(got, expected, "{threads} threads");
    }
}

#[test]
fn switching_to_resync_after_broken_framing_ended_the_stream_goes_on() {
    let bytes = damaged("length-wrong", 17);
    let expected = sequential(&bytes, options(Recovery::Resync));
    let ended = sequential(&bytes, options(Recovery::SkipRecord));
    assert!(ended.len() < expected.len());
    for threads in [1, 2] {
        let mut reader = ParallelReader::pushed(ParallelOptions {
            reader: options(Recovery::SkipRecord),
            threads: Some(threads),
            ..ParallelOptions::default()
        })
        .unwrap();
        let got = drain_pushed(&mut reader, &bytes, |reader, batch| {
            if batch.iter().any(|l| l.result.is_err()) {
                reader.set_recovery(Recovery::Resync);
            }
        });
        let got: Vec<_> = got.into_iter().map(Located::into_result).collect();
        assert_eq!(got, expected, "{threads} threads");
    }
}

#[test]
fn a_pushed_reader_asks_for_input_only_while_it_has_room_and_joins_its_threads_on_drop() {
    let bytes = fixture::file_bytes(200, false, 3);
    let mut reader = ParallelReader::pushed(ParallelOptions {
        reader: options(Recovery::Stop),
        threads: Some(2),
        chunk_size: 512,
        chunks_in_flight: Some(2),
        ..ParallelOptions::default()
    })
    .unwrap();
    let live = reader.live_threads();
    assert!(matches!(reader.poll(), Polled::NeedsInput));
    // More than the queue holds: the reader hands out what it parsed before asking again.
    reader.push(&bytes);
    let mut batches = 0;
    while let Polled::Batch(batch) = reader.poll() {
        assert!(!batch.is_empty());
        batches += 1;
    }
    assert!(batches > 2, "{batches} batches");
    assert!(matches!(reader.poll(), Polled::NeedsInput));
    assert_eq!(live.get(), 1);
    drop(reader);
    assert_eq!(live.get(), 0);
}

#[test]
fn polling_in_flight_hands_out_every_pushed_record_before_asking_for_input() {
    let bytes = fixture::file_bytes(300, false, 5);
    let expected = sequential(&bytes, options(Recovery::Stop));
    for threads in [1, 2] {
        let mut reader = ParallelReader::pushed(ParallelOptions {
            reader: options(Recovery::Stop),
            threads: Some(threads),
            chunk_size: 512,
            chunks_in_flight: Some(8),
            ..ParallelOptions::default()
        })
        .unwrap();
        assert!(matches!(reader.poll_in_flight(), Polled::NeedsInput));
        // Two records short of the end: what was pushed is whole records plus a part.
        let cut = bytes.len() - 10;
        reader.push(&bytes[..cut]);
        let mut got = Vec::new();
        loop {
            match reader.poll_in_flight() {
                Polled::Batch(batch) => got.extend(batch.into_iter().map(Located::into_result)),
                Polled::NeedsInput => break,
                Polled::End => panic!("the input was not ended"),
            }
        }
        assert_eq!(got.len(), expected.len() - 1, "{threads} threads");
        assert_eq!(got[..], expected[..got.len()], "{threads} threads");
        reader.push(&bytes[cut..]);
        reader.end_input();
        while let Polled::Batch(batch) = reader.poll() {
            got.extend(batch.into_iter().map(Located::into_result));
        }
        assert_eq!(got, expected, "{threads} threads");
    }
}
