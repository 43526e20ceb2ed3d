//! Read several MARC files at once on std threads, and one file on the parallel reader, and
//! measure the speed-ups.
//!
//! `cargo run --release -p fastmarc --example concurrent_reading -- [SOURCE] [--files N]
//! [--copies K] [--threads T]`
//!
//! Makes N files in a temporary directory, each SOURCE's records (default
//! `data/sample.mrc`) repeated K times, then:
//! - reads them one after the other on this thread, then on T threads (a
//!   [`Reader`] per file, files shared out among `std::thread::scope` threads);
//! - reads one file of all of them joined with the sequential [`Reader`], then with the
//!   [`ParallelReader`] on T parser threads;
//! - reads the joined file with a [`ParallelMap`] on 1 and on T parser threads, each title
//!   taken on the thread that parsed its record (only the titles' lengths cross threads);
//!
//! checks that every run saw the same records and prints the times and the speed-ups.

#[path = "common/threading_examples.rs"]
mod threading_examples;

use fastmarc::iso2709::{Reader, ReaderOptions};
use fastmarc::parallel::{ParallelMap, ParallelOptions, ParallelReader};
use fastmarc::Record;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use threading_examples::ExampleArgs;

const USAGE: &str = "usage: concurrent_reading [SOURCE] [--files N] [--copies K] [--threads T]";

/// What a run saw: records and the bytes of their titles (so no work can be skipped).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Seen {
    records: u64,
    title_bytes: u64,
}

impl Seen {
    fn add(&mut self, rec: &Record) {
        self.records += 1;
        self.title_bytes += rec.title().map_or(0, |t| t.len() as u64);
    }

    fn plus(self, other: Seen) -> Seen {
        Seen {
            records: self.records + other.records,
            title_bytes: self.title_bytes + other.title_bytes,
        }
    }
}

fn read_file(path: &Path) -> fastmarc::Result<Seen> {
    let mut seen = Seen::default();
    for rec in Reader::new(BufReader::new(File::open(path)?)) {
        seen.add(&rec?);
    }
    Ok(seen)
}

/// Read `paths` on `threads` threads, a [`Reader`] per file.
fn read_files(paths: &[PathBuf], threads: usize) -> fastmarc::Result<Seen> {
    let seen = threading_examples::on_threads(paths, threads, read_file)?;
    Ok(seen.into_iter().fold(Seen::default(), Seen::plus))
}

fn read_parallel(path: &Path, threads: usize) -> fastmarc::Result<Seen> {
    let file = BufReader::new(File::open(path)?);
    let mut seen = Seen::default();
    for rec in ParallelReader::new(file, ReaderOptions::strict(), Some(threads))? {
        seen.add(&rec?);
    }
    Ok(seen)
}

/// `Seen` of each record, taken on the parser threads; summed here in file order.
fn read_mapped(path: &Path, threads: usize) -> fastmarc::Result<Seen> {
    let file = BufReader::new(File::open(path)?);
    let opts = ParallelOptions::new(ReaderOptions::strict(), Some(threads));
    let map = ParallelMap::new(file, opts, |rec| {
        let mut one = Seen::default();
        one.add(rec?);
        Ok::<_, fastmarc::Error>(one)
    })?;
    let mut seen = Seen::default();
    for one in map {
        seen = seen.plus(one?);
    }
    Ok(seen)
}

fn timed<T>(run: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let result = run();
    (start.elapsed(), result)
}

/// `unit`: what the threads are ("threads", "parser threads").
fn report(what: &str, unit: &str, threads: usize, one: Duration, many: Duration) {
    println!("{what}:");
    println!(
        "  1 {}: {:.3} s",
        unit.trim_end_matches('s'),
        one.as_secs_f64()
    );
    println!("  {threads} {unit}: {:.3} s", many.as_secs_f64());
    println!(
        "  speed-up:   {:.2}x",
        one.as_secs_f64() / many.as_secs_f64()
    );
}

fn run(args: &ExampleArgs) -> Result<(), Box<dyn std::error::Error>> {
    let data = std::fs::read(&args.source)
        .map_err(|e| format!("{}: {e}", args.source.display()))?
        .repeat(args.copies);
    threading_examples::in_temp_dir(|dir| {
        let paths: Vec<PathBuf> = (0..args.files)
            .map(|i| dir.join(format!("copy{i:02}.mrc")))
            .collect();
        for p in &paths {
            std::fs::write(p, &data)?;
        }
        let joined = dir.join("joined.mrc");
        std::fs::write(&joined, data.repeat(args.files))?;

        let (one_time, one) = timed(|| read_files(&paths, 1));
        let (many_time, many) = timed(|| read_files(&paths, args.threads));
        let (seq_time, seq) = timed(|| read_parallel(&joined, 1));
        let (par_time, par) = timed(|| read_parallel(&joined, args.threads));
        let (map_one_time, map_one) = timed(|| read_mapped(&joined, 1));
        let (map_time, map) = timed(|| read_mapped(&joined, args.threads));
        let (one, many, seq, par) = (one?, many?, seq?, par?);
        if [many, seq, par, map_one?, map?].iter().any(|&s| s != one) {
            return Err("the runs saw different records".into());
        }
        println!(
            "{} files of {} records each ({:.1} MB each), {} records in all",
            args.files,
            one.records / args.files as u64,
            data.len() as f64 / 1e6,
            one.records
        );
        report(
            "one Reader per file, files shared out among threads",
            "threads",
            args.threads,
            one_time,
            many_time,
        );
        report(
            "the files joined into one, read by ParallelReader",
            "parser threads",
            args.threads,
            seq_time,
            par_time,
        );
        report(
            "the joined file, each title taken on its parser thread by ParallelMap",
            "parser threads",
            args.threads,
            map_one_time,
            map_time,
        );
        Ok(())
    })
}

fn main() -> ExitCode {
    threading_examples::main_with(USAGE, run)
}
