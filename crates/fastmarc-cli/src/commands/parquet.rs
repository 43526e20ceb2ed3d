//! `fastmarc convert` to and from Parquet: ISO 2709 into the nested schema (or into the
//! columns `--fields` names by MARCspec), and a nested-schema file back into records.

use super::convert::Edits;
use super::read_settings;
use crate::args::ConvertArgs;
use crate::failure::{eprint_message, located, Failure, EXIT_OK};
use crate::input::{open_iso2709, Source};
use crate::output::{serialise, Destination, Pending, RecordWriter, WriteSettings};
use crate::progress::Progress;
use crate::select::Select;
use crate::Ctx;
use fastmarc::arrow::parquet::{compression, ParquetRecords, ParquetSink};
use fastmarc::arrow::{ArrowOptions, BatchReader, Nested, Projection};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// `id=001,title=245$a[0]` as (name, spec) pairs. A comma inside a subspec's braces
/// belongs to the spec (`name=100{$a=\Austen,\sJane}$a`), as does a brace escaped in one.
fn columns(fields: &str) -> Result<Vec<(String, String)>, Failure> {
    split_columns(fields)
        .into_iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, spec)) if !name.trim().is_empty() => {
                Ok((name.trim().to_string(), spec.trim().to_string()))
            }
            _ => Err(Failure::usage(format!(
                "--fields: {pair:?} is not NAME=MARCSPEC (e.g. id=001,title=245$a[0])"
            ))),
        })
        .collect()
}

/// `fields` cut at each comma outside braces (a brace after a backslash is text).
fn split_columns(fields: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut escaped, mut start) = (0usize, false, 0);
    for (i, c) in fields.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&fields[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&fields[start..]);
    parts
}

/// ISO 2709 to a Parquet file, named only once complete (see [`Pending`]).
pub fn write(ctx: &Ctx, args: ConvertArgs) -> Result<i32, Failure> {
    let Destination::File(out) = Destination::from_arg(&args.output_path()) else {
        unreachable!("only a .parquet file name leads here")
    };
    let out_name = out.display().to_string();
    let projection = match &args.fields {
        Some(f) => Some(
            Projection::new(&columns(f)?)
                .map_err(|e| Failure::usage(format!("--fields: {}", e.kind())))?,
        ),
        None => None,
    };
    let permissive = args.permissive.permissive;
    let settings = read_settings(args.read, permissive);
    let opened = open_iso2709(&Source::from_arg(&args.input))?;
    let name = opened.name.clone();
    let opts = ArrowOptions {
        reader: settings.reader,
        threads: settings.threads,
        ..ArrowOptions::default()
    };
    // Standard input's size is not known: it is read on every core.
    let size = opened.size;
    let started = match projection {
        Some(p) => {
            let opts = size.map_or(opts, |n| opts.for_input::<Projection>(n));
            BatchReader::new(opened.reader, opts, p)
        }
        None => {
            let opts = size.map_or(opts, |n| opts.for_input::<Nested>(n));
            BatchReader::new(opened.reader, opts, Nested)
        }
    };
    let mut batches = started.map_err(|e| Failure::data(located(&name, &e)))?;
    let mut progress = Progress::new("convert", opened.size, opened.bytes_read.clone());
    let (file, pending) =
        Pending::create(&out).map_err(|e| Failure::io(&out_name, "cannot create", &e))?;
    let file = std::io::BufWriter::new(file);
    let written = (|| -> Result<(), Failure> {
        let codec = compression("zstd").map_err(|e| Failure::data(e.to_string()))?;
        let mut sink = ParquetSink::new(file, batches.schema(), codec, settings.threads)
            .map_err(|e| Failure::write(&out_name, &e))?;
        let mut reported = 0;
        while let Some(batch) = batches.next() {
            ctx.check_stop()?;
            let batch = batch.map_err(|e| Failure::data(located(&name, &e)))?;
            for e in &batches.skipped()[reported..] {
                progress.eprint_message(&format!("{} (record skipped)", located(&name, e)));
            }
            reported = batches.skipped().len();
            sink.write(&batch)
                .map_err(|e| Failure::write(&out_name, &e))?;
            for _ in 0..batch.num_rows() {
                progress.record_done();
            }
        }
        for e in &batches.skipped()[reported..] {
            progress.eprint_message(&format!("{} (record skipped)", located(&name, e)));
        }
        let mut file = sink.finish().map_err(|e| Failure::write(&out_name, &e))?;
        file.flush()
            .map_err(|e| Failure::io(&out_name, "write error", &e))
    })();
    // On failure `pending` keeps what was written as OUT.partial (a Parquet file without
    // its footer, which no reader takes for a whole one).
    if let Err(mut failure) = written {
        if let (Some(message), Some(partial)) = (&mut failure.message, pending.partial_name()) {
            message.push_str(&format!(
                " ({out_name} not written; what was converted before is in {})",
                partial.display()
            ));
        }
        return Err(failure);
    }
    pending.commit()?;
    Ok(EXIT_OK)
}

/// A Parquet file in the nested schema back to records, in any output format: those
/// `select` keeps, with `edits` made.
pub fn read(
    ctx: &Ctx,
    input: &Path,
    threads: Option<usize>,
    dest: &Destination,
    write: &WriteSettings,
    edits: &Edits,
    select: &Select,
) -> Result<i32, Failure> {
    let in_name = input.display().to_string();
    let format = write.format;
    let records = ParquetRecords::with_threads(input, threads)
        .map_err(|e| Failure::data(located(&in_name, &e)))?;
    let mut progress = Progress::new("convert", None, Arc::new(AtomicU64::new(0)));
    let out_name = dest.name();
    let (out, pending) = dest.create()?;
    let mut writer = RecordWriter::new(write, out);
    let result = (|| -> Result<(), Failure> {
        for (number, rec) in records.enumerate() {
            ctx.check_stop()?;
            let mut rec = rec.map_err(|e| Failure::data(located(&in_name, &e)))?;
            progress.record_done();
            if !select.keeps(&rec) {
                continue;
            }
            rec.leader_mut().set_character_coding_scheme(b'a');
            edits.apply(&mut rec);
            let record = serialise(write, &rec).map_err(|why| {
                Failure::data(format!(
                    "{in_name}: record {}: cannot be written as {format}: {why}",
                    number + 1
                ))
            })?;
            for warning in &record.warnings {
                // A Parquet row has no byte offset: the record number says where.
                eprint_message(&format!(
                    "warning: {in_name}: record {}: {warning}",
                    number + 1
                ));
            }
            writer
                .write_serialised(&record.bytes)
                .map_err(|e| Failure::write(&out_name, &e))?;
        }
        Ok(())
    })();
    let finished = writer.finish().map_err(|e| Failure::write(&out_name, &e));
    result?;
    finished?;
    pending.commit()?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_split_at_commas_outside_subspecs_and_escapes() {
        let got = columns(r"id=001, name=100{$a=\Austen,\sJane}$a,x=245{$a~\{,\}}$a").unwrap();
        let want = [
            ("id", "001"),
            ("name", r"100{$a=\Austen,\sJane}$a"),
            ("x", r"245{$a~\{,\}}$a"),
        ];
        assert_eq!(got.len(), want.len());
        for ((n, s), (wn, ws)) in got.iter().zip(want) {
            assert_eq!((n.as_str(), s.as_str()), (wn, ws));
        }
        assert!(columns("id=001,,title=245$a").is_err());
        assert!(columns("=001").is_err());
    }
}
