//! What the threading examples (`concurrent_reading`, `concurrent_writing`) share, included
//! with `#[path]`: their command line (a source file, how many files to make of it, how
//! many copies of its records each holds, and threads), a temporary directory, work on
//! several files shared out among threads, and the exit status.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct ExampleArgs {
    pub source: PathBuf,
    pub files: usize,
    pub copies: usize,
    pub threads: usize,
}

/// `[SOURCE] [--files N] [--copies K] [--threads T]`; SOURCE defaults to the bundled
/// sample, T to the number of cores (at least 2, so there is something to compare).
/// `None` for `--help`.
pub fn parse_args(usage: &str) -> Result<Option<ExampleArgs>, String> {
    let mut args = ExampleArgs {
        source: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample.mrc"),
        files: 4,
        copies: 40,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{name} needs a whole number above 0\n{usage}"))
        };
        match a.as_str() {
            "--files" => args.files = number("--files")?,
            "--copies" => args.copies = number("--copies")?,
            "--threads" => args.threads = number("--threads")?,
            "-h" | "--help" => return Ok(None),
            _ if a.starts_with('-') => return Err(format!("unknown option {a}\n{usage}")),
            _ => args.source = PathBuf::from(a),
        }
    }
    Ok(Some(args))
}

/// Run `body` in a fresh temporary directory (removed afterwards, whatever happens).
pub fn in_temp_dir(
    body: impl FnOnce(&Path) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("fastmarc-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = body(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `work` on every file of `paths`, on `threads` scoped threads: thread `i` takes files
/// `i`, `i + threads`, ... Returns the results in the order of `paths`, or the first error.
pub fn on_threads<T: Send>(
    paths: &[PathBuf],
    threads: usize,
    work: impl Fn(&Path) -> fastmarc::Result<T> + Sync,
) -> fastmarc::Result<Vec<T>> {
    let work = &work;
    let mut results: Vec<Option<fastmarc::Result<T>>> = (0..paths.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|i| {
                scope.spawn(move || {
                    (i..paths.len())
                        .step_by(threads)
                        .map(|k| (k, work(&paths[k])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for w in workers {
            for (k, r) in w.join().expect("a worker thread panicked") {
                results[k] = Some(r);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every file was given to a thread"))
        .collect()
}

/// Parse the arguments and run: exit status 2 for a bad command line, 1 for an error.
pub fn main_with(
    usage: &str,
    run: impl FnOnce(&ExampleArgs) -> Result<(), Box<dyn std::error::Error>>,
) -> ExitCode {
    let args = match parse_args(usage) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
