//! Time parsing every record of a file, with full validation (structure, UTF-8 or MARC-8
//! decoding, strict reader).
//!
//! `cargo run --release -p fastmarc --example read_bench -- FILE [--threads N | --independent N | --marc-crate]`
//!
//! - default: the sequential `iso2709::Reader` over a buffered `File`, one reused `Record`;
//! - `--threads N`: the ordered `ParallelReader` pipeline with N parser threads, a batch at
//!   a time, each batch handed back (`recycle`) to be parsed into again;
//! - `--threads N --map`: the same pipeline as a `ParallelMap`: each record's counts are
//!   taken on the parser thread that parsed it, and only the counts reach this thread;
//! - `--independent N`: N sequential readers at once, each over the whole file on its own
//!   thread, sharing nothing: the most any N-thread parse can get from this machine (its
//!   memory bandwidth and shared caches included). Counts are the totals of all N; the
//!   pipeline's efficiency is its speed-up over this one's.
//! - `--marc-crate`: the `marc` crate (3.1) over the same file, touching every record,
//!   field and subfield and checking UTF-8 text is UTF-8, for comparison.
//!
//! `--chunk-kib K` sets the pipeline's chunk size (default 64) and `--chunks C` how many
//! chunks it reads ahead (default: threads + 2), for tuning.
//!
//! Prints one line: `records=N fields=F bytes=B seconds=S` (B: the file's size, times N
//! with `--independent N`).

use fastmarc::iso2709::{Reader, ReaderOptions};

/// mimalloc, for every mode alike: in the pipeline, records are built on parser threads and
/// freed by the consumer, and glibc's malloc makes each such free take the other thread's
/// arena lock, a large part of the pipeline's extra CPU time. A program running the
/// pipeline should pick an allocator that frees across threads cheaply; the sequential
/// reader and the `marc` crate get the same one here, so the comparison stays fair.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use fastmarc::parallel::{ParallelMap, ParallelOptions, ParallelReader, DEFAULT_CHUNK_SIZE};
use fastmarc::Record;
use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str =
    "usage: read_bench FILE [--threads N [--map] | --independent N | --marc-crate] [--chunk-kib K] [--chunks C]";

enum Mode {
    Sequential,
    Independent(usize),
    Pipeline { opts: ParallelOptions, map: bool },
    MarcCrate,
}

#[derive(Default)]
struct Totals {
    records: u64,
    fields: u64,
    /// Bytes of field text seen, so no work can be skipped as unused.
    text: u64,
}

fn parse_args() -> Result<(String, Mode), String> {
    let mut file = None;
    let mut threads = None;
    let mut chunk_size = DEFAULT_CHUNK_SIZE;
    let mut chunks = None;
    let mut marc_crate = false;
    let mut independent = None;
    let mut map = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--threads" => {
                let n = args.next().ok_or("--threads needs a value")?;
                threads = Some(n.parse().map_err(|_| format!("bad thread count {n:?}"))?);
            }
            "--chunk-kib" => {
                let k = args.next().ok_or("--chunk-kib needs a value")?;
                let k: usize = k.parse().map_err(|_| format!("bad chunk size {k:?}"))?;
                chunk_size = k.max(1) * 1024;
            }
            "--chunks" => {
                let c = args.next().ok_or("--chunks needs a value")?;
                chunks = Some(c.parse().map_err(|_| format!("bad chunk count {c:?}"))?);
            }
            "--independent" => {
                let n = args.next().ok_or("--independent needs a value")?;
                let n: usize = n.parse().map_err(|_| format!("bad thread count {n:?}"))?;
                independent = Some(n.max(1));
            }
            "--marc-crate" => marc_crate = true,
            "--map" => map = true,
            _ if a.starts_with("--") || file.is_some() => return Err(USAGE.into()),
            _ => file = Some(a),
        }
    }
    if let Some(n) = independent {
        if marc_crate || threads.is_some() {
            return Err("--independent excludes --threads and --marc-crate".into());
        }
        return Ok((file.ok_or(USAGE)?, Mode::Independent(n)));
    }
    let mode = match (marc_crate, threads) {
        (true, None) => Mode::MarcCrate,
        (false, Some(threads)) => Mode::Pipeline {
            opts: ParallelOptions {
                reader: ReaderOptions::strict(),
                threads: Some(threads),
                chunk_size,
                chunks_in_flight: chunks,
                ..ParallelOptions::default()
            },
            map,
        },
        (false, None) if map => return Err("--map needs --threads".into()),
        (false, None) => Mode::Sequential,
        (true, Some(_)) => return Err("--marc-crate and --threads exclude each other".into()),
    };
    Ok((file.ok_or(USAGE)?, mode))
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.records += other.records;
        self.fields += other.fields;
        self.text += other.text;
    }
}

fn count(rec: &Record, t: &mut Totals) {
    t.records += 1;
    for f in rec.fields() {
        t.fields += 1;
        match f.data() {
            Some(d) => t.text += d.len() as u64,
            None => t.text += f.subfields().map(|s| s.value.len() as u64).sum::<u64>(),
        }
    }
}

/// The sequential reader, parsing every record into one reused `Record`.
fn run_sequential(path: &str) -> Result<Totals, String> {
    let f = File::open(path).map_err(|e| e.to_string())?;
    let mut reader = Reader::with_options(BufReader::new(f), ReaderOptions::strict());
    let mut rec = Record::new();
    let mut t = Totals::default();
    while reader.read_record(&mut rec).map_err(|e| e.to_string())? {
        count(&rec, &mut t);
    }
    Ok(t)
}

/// The pipeline a batch at a time, each batch's records handed back to be parsed into again.
fn run_pipeline(mut reader: ParallelReader) -> Result<Totals, String> {
    let mut t = Totals::default();
    while let Some(batch) = reader.next_batch() {
        for r in &batch {
            count(r.as_ref().map_err(|e| e.to_string())?, &mut t);
        }
        reader.recycle(batch);
    }
    Ok(t)
}

/// The pipeline as a map: each record counted where it was parsed, the counts summed here.
fn run_map(map: ParallelMap<Result<Totals, String>>) -> Result<Totals, String> {
    let mut t = Totals::default();
    for one in map {
        t.add(&one?);
    }
    Ok(t)
}

/// `n` sequential readers of the whole file at once, one per thread; their totals summed.
fn run_independent(path: &str, n: usize) -> Result<Totals, String> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|_| s.spawn(|| run_sequential(path))).collect();
        let mut sum = Totals::default();
        for h in handles {
            let t = h
                .join()
                .map_err(|_| "a reader thread panicked".to_string())??;
            sum.add(&t);
        }
        Ok(sum)
    })
}

fn run_marc_crate(path: &str) -> Result<Totals, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut t = Totals::default();
    for r in marc::Records::new(BufReader::new(file)) {
        let rec = r.map_err(|e| e.to_string())?;
        let unicode = rec.as_ref().get(9) == Some(&b'a');
        t.records += 1;
        for f in rec.fields() {
            t.fields += 1;
            let tag = f.get_tag();
            let data: &[u8] = f.get_data();
            if tag.0[..2] == *b"00" {
                if unicode {
                    std::str::from_utf8(data).map_err(|e| e.to_string())?;
                }
                t.text += data.len() as u64;
            } else {
                for s in f.subfields() {
                    let value: &[u8] = s.get_data();
                    if unicode {
                        std::str::from_utf8(value).map_err(|e| e.to_string())?;
                    }
                    t.text += value.len() as u64;
                }
            }
        }
    }
    Ok(t)
}

fn main() -> ExitCode {
    let (path, mode) = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let copies = match mode {
        Mode::Independent(n) => n as u64,
        _ => 1,
    };
    let start = Instant::now();
    let result = match mode {
        Mode::Sequential => run_sequential(&path),
        Mode::Pipeline { opts, map: false } => File::open(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| ParallelReader::with_options(f, opts).map_err(|e| e.to_string()))
            .and_then(run_pipeline),
        Mode::Pipeline { opts, map: true } => File::open(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                ParallelMap::new(f, opts, |rec| {
                    let mut t = Totals::default();
                    count(rec.map_err(|e| e.to_string())?, &mut t);
                    Ok(t)
                })
                .map_err(|e| e.to_string())
            })
            .and_then(run_map),
        Mode::Independent(n) => run_independent(&path, n),
        Mode::MarcCrate => run_marc_crate(&path),
    };
    let seconds = start.elapsed().as_secs_f64();
    let bytes = copies * std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    match result {
        Ok(t) => {
            println!(
                "records={} fields={} bytes={bytes} seconds={seconds:.4}",
                t.records, t.fields
            );
            // The text total only keeps the work observable.
            std::hint::black_box(t.text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
