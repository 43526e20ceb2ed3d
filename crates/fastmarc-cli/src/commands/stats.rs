//! `fastmarc stats FILE`: what a file holds. Reading goes on past bad records (ISO 2709
//! resynchronises) so the figures cover every good record, and the errors are listed.

use super::{checking_settings, read_settings};
use crate::args::StatsArgs;
use crate::failure::{located, Failure, EXIT_OK};
use crate::format::InputFormat;
use crate::input::Source;
use crate::output::{stdout_error, Destination};
use crate::records::Input;
use crate::Ctx;
use fastmarc::{Record, Tag};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

/// Errors listed in full; the rest are only counted.
const ERRORS_SHOWN: usize = 10;

/// How often one tag occurs.
#[derive(Debug, Default, Clone, Copy)]
struct TagCount {
    occurrences: u64,
    records: u64,
    /// The last record counted in `records` (1-based; 0 for none yet).
    last_record: u64,
}

/// The figures gathered from one input.
#[derive(Debug, Default)]
struct Stats {
    records: u64,
    bytes: u64,
    encodings: BTreeMap<u8, u64>,
    types: BTreeMap<u8, u64>,
    levels: BTreeMap<u8, u64>,
    tags: BTreeMap<Tag, TagCount>,
    errors: u64,
    first_errors: Vec<String>,
}

impl Stats {
    fn add(&mut self, rec: &Record) {
        self.records += 1;
        let leader = rec.leader();
        *self
            .encodings
            .entry(leader.character_coding_scheme())
            .or_default() += 1;
        *self.types.entry(leader.type_of_record()).or_default() += 1;
        *self.levels.entry(leader.bibliographic_level()).or_default() += 1;
        for f in rec.fields() {
            let t = self.tags.entry(f.tag()).or_default();
            t.occurrences += 1;
            if t.last_record != self.records {
                t.last_record = self.records;
                t.records += 1;
            }
        }
    }
}

pub fn run(ctx: &Ctx, args: StatsArgs) -> Result<i32, Failure> {
    // Always resynchronise: the errors are part of the report, not the end of it. With
    // --permissive, records are read as every other command reads them then (text that is
    // not valid UTF-8 as U+FFFD, with a warning), so the figures count them.
    let settings = if args.permissive.permissive {
        read_settings(args.read, true)
    } else {
        checking_settings(args.read)
    };
    let source = Source::from_arg(&args.file);
    let mut input = Input::open(&source, settings, "stats")?;
    let mut stats = Stats::default();
    while let Some((_, result)) = input.next_result() {
        ctx.check_stop()?;
        match result {
            Ok(rec) => {
                stats.add(&rec);
                input.progress.record_done();
            }
            Err(e) => {
                stats.errors += 1;
                if stats.first_errors.len() < ERRORS_SHOWN {
                    stats.first_errors.push(located(&input.name, &e));
                }
            }
        }
    }
    stats.bytes = input.bytes_read();
    let report = render(&input.name, input.format, &stats);
    let (mut out, _stdout) = Destination::Stdout.create()?;
    out.write_all(report.as_bytes())
        .and_then(|_| out.flush())
        .map_err(stdout_error)?;
    if stats.errors > 0 && !args.permissive.permissive {
        return Err(Failure::data(format!(
            "{}: {} bad record{} (listed above; --permissive to accept)",
            input.name,
            stats.errors,
            plural(stats.errors)
        )));
    }
    Ok(EXIT_OK)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Leader/09.
fn encoding_name(code: u8) -> String {
    match code {
        b'a' => "UTF-8".into(),
        b' ' => "MARC-8".into(),
        other => format!("other ({:?})", other as char),
    }
}

/// Leader/06 (MARC 21 bibliographic, authority, holdings, classification, community).
fn record_type_name(code: u8) -> &'static str {
    match code {
        b'a' => "language material",
        b'c' => "notated music",
        b'd' => "manuscript notated music",
        b'e' => "cartographic material",
        b'f' => "manuscript cartographic material",
        b'g' => "projected medium",
        b'i' => "nonmusical sound recording",
        b'j' => "musical sound recording",
        b'k' => "two-dimensional nonprojectable graphic",
        b'm' => "computer file",
        b'o' => "kit",
        b'p' => "mixed materials",
        b'q' => "community information",
        b'r' => "three-dimensional artifact or naturally occurring object",
        b't' => "manuscript language material",
        b'u' | b'v' | b'x' | b'y' => "holdings",
        b'w' => "classification",
        b'z' => "authority",
        _ => "unknown",
    }
}

/// Leader/07 (bibliographic records).
fn bibliographic_level_name(code: u8) -> &'static str {
    match code {
        b'a' => "monographic component part",
        b'b' => "serial component part",
        b'c' => "collection",
        b'd' => "subunit",
        b'i' => "integrating resource",
        b'm' => "monograph/item",
        b's' => "serial",
        _ => "unknown",
    }
}

/// A leader code as shown: blanks as `\`, as in MARC text.
fn code(c: u8) -> char {
    if c == b' ' {
        '\\'
    } else {
        c as char
    }
}

fn render(name: &str, format: InputFormat, s: &Stats) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "file       {name}");
    let _ = writeln!(o, "format     {format}");
    let _ = writeln!(o, "records    {}", s.records);
    let _ = writeln!(o, "bytes      {}", s.bytes);
    let _ = writeln!(o, "errors     {}", s.errors);

    let _ = writeln!(o, "\nencoding (leader/09)");
    let mut encodings: BTreeMap<String, u64> = BTreeMap::new();
    encodings.insert("UTF-8".into(), 0);
    encodings.insert("MARC-8".into(), 0);
    for (&c, &n) in &s.encodings {
        *encodings.entry(encoding_name(c)).or_default() += n;
    }
    for (label, n) in &encodings {
        let _ = writeln!(o, "  {label:<14} {n:>10}");
    }

    let _ = writeln!(o, "\nrecord type (leader/06)");
    for (&c, &n) in &s.types {
        let _ = writeln!(o, "  {}  {:<40} {n:>10}", code(c), record_type_name(c));
    }

    let _ = writeln!(o, "\nbibliographic level (leader/07)");
    for (&c, &n) in &s.levels {
        let _ = writeln!(
            o,
            "  {}  {:<40} {n:>10}",
            code(c),
            bibliographic_level_name(c)
        );
    }

    let _ = writeln!(o, "\ntag  {:>12} {:>10}", "occurrences", "records");
    for (tag, t) in &s.tags {
        let _ = writeln!(o, "{tag}  {:>12} {:>10}", t.occurrences, t.records);
    }

    if s.errors > 0 {
        let _ = writeln!(o, "\nerrors");
        for e in &s.first_errors {
            let _ = writeln!(o, "  {e}");
        }
        let more = s.errors - s.first_errors.len() as u64;
        if more > 0 {
            let _ = writeln!(o, "  ... and {more} more");
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use fastmarc::{Field, Subfield};

    #[test]
    fn tags_count_occurrences_and_records() {
        let mut rec = Record::new();
        rec.push(&Field::control(Tag::new("001").unwrap(), "x"));
        for _ in 0..3 {
            rec.push(&Field::data(
                Tag::new("650").unwrap(),
                ' ',
                '0',
                vec![Subfield::new('a', "Cats")],
            ));
        }
        let mut stats = Stats::default();
        stats.add(&rec);
        stats.add(&rec);
        let t = stats.tags[&Tag::new("650").unwrap()];
        assert_eq!((t.occurrences, t.records), (6, 2));
        let t = stats.tags[&Tag::new("001").unwrap()];
        assert_eq!((t.occurrences, t.records), (2, 2));
        let text = render("x.mrc", InputFormat::Iso2709, &stats);
        assert!(text.contains("650             6          2"), "{text}");
        assert!(text.contains("MARC-8                  2"), "{text}");
    }
}
