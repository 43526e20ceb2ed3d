//! Write several MARC files at once on std threads, and measure the speed-up.
//!
//! `cargo run --release -p fastmarc --example concurrent_writing -- [SOURCE] [--files N]
//! [--copies K] [--threads T]`
//!
//! Reads SOURCE (default `data/sample.mrc`) once, then writes N files in a temporary
//! directory, each SOURCE's records repeated K times through a [`Writer`] of its own:
//! first one after the other on this thread, then on T `std::thread::scope` threads
//! sharing the records read-only (a [`Record`] is `Sync`). Checks that every file reads
//! back as the records written and prints the times and the speed-up.

#[path = "common/threading_examples.rs"]
mod threading_examples;

use fastmarc::iso2709::{Reader, Writer};
use fastmarc::Record;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use threading_examples::ExampleArgs;

const USAGE: &str = "usage: concurrent_writing [SOURCE] [--files N] [--copies K] [--threads T]";

fn read_records(path: &Path) -> fastmarc::Result<Vec<Record>> {
    Reader::new(BufReader::new(File::open(path)?)).collect()
}

fn write_file(path: &Path, records: &[Record], copies: usize) -> fastmarc::Result<()> {
    let mut writer = Writer::new(BufWriter::new(File::create(path)?));
    for _ in 0..copies {
        for rec in records {
            writer.write_record(rec)?;
        }
    }
    writer.flush()
}

/// Write every file of `paths` on `threads` threads, a [`Writer`] per file.
fn write_files(
    paths: &[PathBuf],
    records: &[Record],
    copies: usize,
    threads: usize,
) -> fastmarc::Result<()> {
    threading_examples::on_threads(paths, threads, |p| write_file(p, records, copies))?;
    Ok(())
}

fn timed(run: impl FnOnce() -> fastmarc::Result<()>) -> fastmarc::Result<Duration> {
    let start = Instant::now();
    run()?;
    Ok(start.elapsed())
}

fn run(args: &ExampleArgs) -> Result<(), Box<dyn std::error::Error>> {
    let records =
        read_records(&args.source).map_err(|e| format!("{}: {e}", args.source.display()))?;
    let expected: Vec<Record> = std::iter::repeat_n(&records, args.copies)
        .flatten()
        .cloned()
        .collect();
    threading_examples::in_temp_dir(|dir| {
        let one_dir = dir.join("one");
        let many_dir = dir.join("many");
        std::fs::create_dir_all(&one_dir)?;
        std::fs::create_dir_all(&many_dir)?;
        let names = |d: &Path| -> Vec<PathBuf> {
            (0..args.files)
                .map(|i| d.join(format!("out{i:02}.mrc")))
                .collect()
        };
        let (one, many) = (names(&one_dir), names(&many_dir));
        let one_time = timed(|| write_files(&one, &records, args.copies, 1))?;
        let many_time = timed(|| write_files(&many, &records, args.copies, args.threads))?;
        for p in one.iter().chain(&many) {
            if read_records(p)? != expected {
                return Err(format!("{} does not hold the records written", p.display()).into());
            }
        }
        println!(
            "wrote {} files of {} records each ({:.1} MB each), {} records in all",
            args.files,
            expected.len(),
            std::fs::metadata(&one[0])?.len() as f64 / 1e6,
            args.files * expected.len()
        );
        println!("1 thread:   {:.3} s", one_time.as_secs_f64());
        println!("{} threads: {:.3} s", args.threads, many_time.as_secs_f64());
        println!(
            "speed-up:   {:.2}x",
            one_time.as_secs_f64() / many_time.as_secs_f64()
        );
        Ok(())
    })
}

fn main() -> ExitCode {
    threading_examples::main_with(USAGE, run)
}
