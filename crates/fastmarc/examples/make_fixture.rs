//! Write N synthetic bibliographic records to a file, for benchmarks.
//!
//! `cargo run --release -p fastmarc --example make_fixture -- OUT N [--marc8] [--seed S]`
//!
//! UTF-8 records (leader/09 `a`, some accented, Greek, Cyrillic and CJK text) by default;
//! with `--marc8`, MARC-8 records (leader/09 blank, ANSEL combining diacritics before their
//! base letters). The same seed always gives the same file.

#[path = "common/fixture.rs"]
mod fixture;

use std::process::ExitCode;

const USAGE: &str = "usage: make_fixture OUT N [--marc8] [--seed S]";

struct Args {
    out: String,
    count: u64,
    marc8: bool,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut marc8 = false;
    let mut seed = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--marc8" => marc8 = true,
            "--seed" => {
                let s = args.next().ok_or("--seed needs a value")?;
                seed = s.parse().map_err(|_| format!("bad seed {s:?}"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}\n{USAGE}")),
            _ => positional.push(a),
        }
    }
    let [out, n] = <[String; 2]>::try_from(positional).map_err(|_| USAGE.to_string())?;
    let count = n.parse().map_err(|_| format!("bad record count {n:?}"))?;
    Ok(Args {
        out,
        count,
        marc8,
        seed,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let bytes = fixture::file_bytes(args.count, args.marc8, args.seed);
    if let Err(e) = std::fs::write(&args.out, &bytes) {
        eprintln!("cannot write {}: {e}", args.out);
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {} records, {} bytes ({} per record on average) to {}",
        args.count,
        bytes.len(),
        bytes.len() as u64 / args.count.max(1),
        args.out
    );
    ExitCode::SUCCESS
}
