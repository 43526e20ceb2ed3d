//! Convert an ISO 2709 file from MARC-8 to UTF-8.
//!
//! `cargo run --release -p fastmarc --example convert_marc8_to_utf8 -- IN OUT`
//!
//! The reader decodes each record's text by its leader/09 (blank: MARC-8, `a`: UTF-8) into
//! Unicode, and the writer writes Unicode text as UTF-8, so converting is: set leader/09
//! to `a` and write. Records are parsed as leniently as pymarc does (odd indicators and
//! subfield codes kept), and a record that cannot be read is reported with its number and
//! byte offset and left out, reading going on at the next record; the exit status is then 1.
//! `fastmarc convert IN OUT` does the same from the shell.

use fastmarc::iso2709::{ParseOptions, Reader, ReaderOptions, Recovery, Writer};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::process::ExitCode;

/// What a conversion did.
#[derive(Debug, Default)]
struct Counts {
    from_marc8: u64,
    already_utf8: u64,
    unreadable: u64,
}

fn convert(input: &str, output: &str) -> fastmarc::Result<Counts> {
    let options = ReaderOptions {
        parse: ParseOptions {
            strict: false,
            ..ParseOptions::default()
        },
        recovery: Recovery::Resync,
    };
    let reader = Reader::with_options(BufReader::new(File::open(input)?), options);
    let mut writer = Writer::new(BufWriter::new(File::create(output)?));
    let mut counts = Counts::default();
    for result in reader {
        let mut record = match result {
            Ok(record) => record,
            Err(e) => {
                // The error names the record and its byte offset.
                eprintln!("{input}: {e} (record left out)");
                counts.unreadable += 1;
                continue;
            }
        };
        if record.leader().character_coding_scheme() == b'a' {
            counts.already_utf8 += 1;
        } else {
            record.leader_mut().set_character_coding_scheme(b'a');
            counts.from_marc8 += 1;
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(counts)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: convert_marc8_to_utf8 IN.mrc OUT.mrc");
        return ExitCode::from(2);
    };
    match convert(input, output) {
        Ok(c) => {
            println!(
                "{input} -> {output}: {} records converted from MARC-8, {} already UTF-8, \
                 {} unreadable",
                c.from_marc8, c.already_utf8, c.unreadable
            );
            if c.unreadable > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
