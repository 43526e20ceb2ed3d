//! MarcEdit's mnemonic text format (`.mrk`, MarcBreaker/MarcMaker) both ways.
//!
//! ```text
//! =LDR  00714cam\a2200205\a\4500
//! =001  ocm0001\
//! =245  10$aA title /$cby someone{dollar}5.
//!
//! ```
//!
//! One field a line: `=`, the tag, two spaces, the field. A record starts with its `=LDR`
//! line and ends at a blank line (or the end of the input); lines starting with `#` are
//! comments. In the leader, in control fields (001-009) and in indicators `\` stands for a
//! blank. In a data field, the two indicators come first, then each subfield as `$`, its
//! code and its value.
//!
//! Characters that would be ambiguous are written as brace mnemonics, and read back:
//!
//! | mnemonic | character |
//! |---|---|
//! | `{dollar}` | `$` |
//! | `{bsol}` | `\` |
//! | `{lcub}` `{rcub}` | `{` `}` |
//! | `{esc}` | escape (0x1B) |
//! | `{U+XXXX}` | any character by its hexadecimal code (written for other control characters, line ends included) |
//!
//! An unknown `{...}` is read as the text it is. Everything else is written as it is, as
//! UTF-8, so the writer is unambiguous and reading its output gives the same record back.
//! pymarc's `str(record)` looks alike but is not unambiguous (see [`crate::text`]).
//!
//! A malformed line (no `=`, a bad tag, a leader that is not 24 characters, a data field
//! without indicators or with text before its first subfield) is an error that names the
//! line.

use crate::error::{Error, ErrorKind, Result};
use crate::field::Tag;
use crate::leader::Leader;
use crate::record::Record;
use std::io::{BufRead, Write};

// ---- writing ---------------------------------------------------------------------------

/// What a value is, for the characters that need escaping in it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Leader, control field, indicator: a blank is written `\`.
    Fixed,
    /// Subfield value or code: blanks are blanks.
    Subfield,
}

/// Append one record in .mrk form to `out`: its lines, then the blank line that ends it.
pub fn write_record_mrk(rec: &Record, out: &mut String) {
    out.push_str("=LDR  ");
    push_value(out, rec.leader().as_str(), Context::Fixed);
    out.push('\n');
    for field in rec.fields() {
        out.push('=');
        out.push_str(field.tag().as_str());
        out.push_str("  ");
        if let Some(data) = field.data() {
            push_value(out, data, Context::Fixed);
        } else {
            for ind in field.indicators() {
                push_value(out, ind.encode_utf8(&mut [0; 4]), Context::Fixed);
            }
            for sf in field.subfields() {
                out.push('$');
                push_value(out, sf.code.encode_utf8(&mut [0; 4]), Context::Subfield);
                push_value(out, sf.value, Context::Subfield);
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

/// One record in .mrk form, with the blank line that ends it.
pub fn record_to_mrk(rec: &Record) -> String {
    let mut out = String::with_capacity(rec.text_len() + 32 + rec.len() * 12);
    write_record_mrk(rec, &mut out);
    out
}

fn push_value(out: &mut String, s: &str, context: Context) {
    let special = |b: u8| match b {
        b' ' => context == Context::Fixed,
        b'\\' | b'$' | b'{' | b'}' | 0..=0x1F | 0x7F => true,
        _ => false,
    };
    let bytes = s.as_bytes();
    let mut done = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !special(b) {
            continue;
        }
        // Every special byte is ASCII, so `i` and `i + 1` are char boundaries.
        out.push_str(&s[done..i]);
        match b {
            b' ' => out.push('\\'),
            b'\\' => out.push_str("{bsol}"),
            b'$' => out.push_str("{dollar}"),
            b'{' => out.push_str("{lcub}"),
            b'}' => out.push_str("{rcub}"),
            0x1B => out.push_str("{esc}"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push_str("{U+00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
                out.push('}');
            }
        }
        done = i + 1;
    }
    out.push_str(&s[done..]);
}

/// Writes records in .mrk form, each ended by a blank line.
pub struct MrkWriter<W: Write> {
    inner: W,
    buf: String,
}

impl<W: Write> MrkWriter<W> {
    pub fn new(inner: W) -> Self {
        MrkWriter {
            inner,
            buf: String::with_capacity(4096),
        }
    }

    pub fn write_record(&mut self, rec: &Record) -> Result<()> {
        self.buf.clear();
        write_record_mrk(rec, &mut self.buf);
        self.inner.write_all(self.buf.as_bytes())?;
        Ok(())
    }

    /// Write one record already serialised by [`write_record_mrk`] (on another thread, say).
    pub fn write_serialised(&mut self, record_mrk: &[u8]) -> Result<()> {
        self.inner.write_all(record_mrk)?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<()> {
        self.inner.flush()?;
        Ok(())
    }

    /// Flush and hand back the output.
    pub fn finish(mut self) -> Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

// ---- reading ---------------------------------------------------------------------------

/// Streams records from .mrk text on any `BufRead`, one line at a time. Errors name the
/// record and the line; after an error the reader goes on at the next record.
pub struct MrkReader<R> {
    inner: R,
    line: Vec<u8>,
    /// Lines read so far (the number of the current line, counted from 1).
    line_number: u64,
    /// Bytes read so far.
    offset: u64,
    records: u64,
    scratch: String,
    /// A malformed line was met inside a record: skip to its end before the next one.
    skipping: bool,
    /// An I/O error ended the input.
    done: bool,
}

impl<R: BufRead> MrkReader<R> {
    pub fn new(inner: R) -> Self {
        MrkReader {
            inner,
            line: Vec::with_capacity(256),
            line_number: 0,
            offset: 0,
            records: 0,
            scratch: String::new(),
            skipping: false,
            done: false,
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Read the next line into `self.line` without its line end; false at the end.
    fn next_line(&mut self) -> Result<bool> {
        self.line.clear();
        let n = self.inner.read_until(b'\n', &mut self.line)?;
        if n == 0 {
            return Ok(false);
        }
        if self.line_number == 0 && self.line.starts_with(b"\xEF\xBB\xBF") {
            self.line.drain(..3);
        }
        self.offset += n as u64;
        self.line_number += 1;
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        }
        Ok(true)
    }

    fn fail(&self, what: impl Into<String>, line_start: u64) -> Error {
        Error::at(
            ErrorKind::Mrk(format!("line {}: {}", self.line_number, what.into())),
            self.records,
            line_start,
        )
    }

    /// Read the next record into `rec` (cleared first); false at the end of the input.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        rec.clear();
        let mut started = false;
        loop {
            let line_start = self.offset;
            if !self.next_line()? {
                self.skipping = false;
                if started {
                    self.records += 1;
                }
                return Ok(started);
            }
            let blank = self.line.iter().all(|b| b.is_ascii_whitespace());
            if self.skipping {
                // The damaged record ends at a blank line, or where the next one starts.
                if blank {
                    self.skipping = false;
                    continue;
                }
                if !self.line.starts_with(b"=LDR") {
                    continue;
                }
                self.skipping = false;
            }
            if blank {
                if started {
                    self.records += 1;
                    return Ok(true);
                }
                continue;
            }
            if self.line[0] == b'#' {
                continue;
            }
            let result = if started {
                self.field_line(rec, line_start)
            } else {
                self.leader_line(rec, line_start)
            };
            if let Err(e) = result {
                // Skip the rest of this record so the next read starts at the next one.
                self.skipping = true;
                self.records += 1;
                rec.clear();
                return Err(e);
            }
            started = true;
        }
    }

    fn line_str(&self, line_start: u64) -> Result<&str> {
        simdutf8::basic::from_utf8(&self.line).map_err(|_| self.fail("not valid UTF-8", line_start))
    }

    fn leader_line(&mut self, rec: &mut Record, line_start: u64) -> Result<()> {
        // Taken out for the length of the call (an error loses only its allocation).
        let mut text = std::mem::take(&mut self.scratch);
        let line = self.line_str(line_start)?;
        let Some(value) = line.strip_prefix("=LDR  ") else {
            let what = if line.starts_with('=') {
                "a record must start with its =LDR line"
            } else {
                "a line must start with '=' and a tag"
            };
            return Err(self.fail(what, line_start));
        };
        text.clear();
        unescape(value, Context::Fixed, &mut text);
        let leader = Leader::from_bytes(text.as_bytes()).map_err(|_| {
            self.fail(
                format!(
                    "the leader is {} characters, not 24 ASCII characters",
                    text.chars().count()
                ),
                line_start,
            )
        });
        self.scratch = text;
        rec.set_leader(leader?);
        Ok(())
    }

    fn field_line(&mut self, rec: &mut Record, line_start: u64) -> Result<()> {
        let mut text = std::mem::take(&mut self.scratch);
        let line = self.line_str(line_start)?;
        let bytes = line.as_bytes();
        if bytes[0] != b'=' {
            return Err(self.fail("a line must start with '=' and a tag", line_start));
        }
        let tag = bytes
            .get(1..4)
            .and_then(|t| Tag::from_bytes(t).ok())
            .ok_or_else(|| self.fail("a line must start with '=' and a tag", line_start))?;
        if tag.as_bytes() == b"LDR" {
            return Err(self.fail(
                "a second =LDR line: a blank line must end the record before it",
                line_start,
            ));
        }
        let Some(body) = line[4..].strip_prefix("  ") else {
            return Err(self.fail(format!("two spaces must follow the tag {tag}"), line_start));
        };
        let result =
            push_field(rec, tag, body, &mut text).map_err(|what| self.fail(what, line_start));
        self.scratch = text;
        result
    }
}

/// Add the field a line's body (after the tag and its two spaces) describes.
fn push_field(
    rec: &mut Record,
    tag: Tag,
    body: &str,
    text: &mut String,
) -> std::result::Result<(), String> {
    if tag.is_control() {
        text.clear();
        unescape(body, Context::Fixed, text);
        rec.push_control(tag, text);
        return Ok(());
    }
    let (ind1, rest) =
        first_char(body, Context::Fixed).ok_or_else(|| format!("field {tag} has no indicators"))?;
    let (ind2, rest) = first_char(rest, Context::Fixed)
        .ok_or_else(|| format!("field {tag} has only one indicator"))?;
    rec.start_data_field(tag, ind1, ind2);
    if rest.is_empty() {
        return Ok(());
    }
    let Some(subfields) = rest.strip_prefix('$') else {
        return Err(format!(
            "field {tag}: text after the indicators must start with '$' and a subfield code"
        ));
    };
    for sf in subfields.split('$') {
        let (code, value) = first_char(sf, Context::Subfield)
            .ok_or_else(|| format!("field {tag}: a '$' without a subfield code"))?;
        if value.bytes().any(|b| b == b'{') {
            text.clear();
            unescape(value, Context::Subfield, text);
            rec.push_subfield(code, text);
        } else {
            rec.push_subfield(code, value);
        }
    }
    Ok(())
}

/// The first character of `s` (a mnemonic counts as one) and the rest.
fn first_char(s: &str, context: Context) -> Option<(char, &str)> {
    let c = s.chars().next()?;
    if c == '{' {
        if let Some((m, len)) = mnemonic(s) {
            return Some((m, &s[len..]));
        }
    }
    let c = if c == '\\' && context == Context::Fixed {
        ' '
    } else {
        c
    };
    Some((c, &s[c.len_utf8().max(1)..]))
}

/// The character a mnemonic at the start of `s` stands for, and the mnemonic's length.
fn mnemonic(s: &str) -> Option<(char, usize)> {
    let end = s.as_bytes().iter().take(12).position(|&b| b == b'}')?;
    let name = &s[1..end];
    let c = match name {
        "dollar" => '$',
        "bsol" => '\\',
        "lcub" => '{',
        "rcub" => '}',
        "esc" => '\u{1B}',
        _ => {
            let hex = name
                .strip_prefix("U+")
                .or_else(|| name.strip_prefix("u+"))?;
            if hex.is_empty() || hex.len() > 6 {
                return None;
            }
            char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
        }
    };
    Some((c, end + 1))
}

/// `s` with its mnemonics replaced (and in fixed fields `\` as a blank), appended to `out`.
fn unescape(s: &str, context: Context, out: &mut String) {
    let mut rest = s;
    while let Some(i) = rest.find(['{', '\\']) {
        out.push_str(&rest[..i]);
        let (c, after) = match first_char(&rest[i..], context) {
            Some(pair) => pair,
            None => break,
        };
        out.push(c);
        rest = after;
    }
    out.push_str(rest);
}

impl<R: BufRead> Iterator for MrkReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done {
            return None;
        }
        let mut rec = Record::new();
        match self.read_record(&mut rec) {
            Ok(true) => Some(Ok(rec)),
            Ok(false) => None,
            Err(e) => {
                // An I/O error ends the input; a malformed line only its record.
                self.done = matches!(e.kind, ErrorKind::Io(..));
                Some(Err(e))
            }
        }
    }
}

/// Every record of .mrk text in memory; the first error ends it.
pub fn parse_mrk(data: &[u8]) -> Result<Vec<Record>> {
    MrkReader::new(data).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{Field, Subfield};

    fn tag(s: &str) -> Tag {
        Tag::new(s).unwrap()
    }

    fn sample() -> Record {
        let mut rec = Record::new();
        rec.push(&Field::control(tag("001"), "ocm 01\\{x}"));
        rec.push(&Field::control(tag("008"), "830803s1846    pau"));
        rec.push(&Field::data(
            tag("245"),
            '1',
            ' ',
            vec![
                Subfield::new('a', "Costs $5 {sic} \\ back"),
                Subfield::new('c', "line\nbreak\r and \u{1b}(B esc \u{1f} and ü"),
                Subfield::new('$', "odd code"),
            ],
        ));
        rec.push(&Field::data(tag("500"), '\\', '$', vec![]));
        rec.push(&Field::data(
            tag("650"),
            ' ',
            '0',
            vec![Subfield::new('a', ""), Subfield::new('x', " lead")],
        ));
        rec
    }

    #[test]
    fn writes_the_mnemonic_form() {
        let text = record_to_mrk(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], r"=LDR  00000\\\\\2200000\\\4500");
        assert_eq!(lines[1], "=001  ocm\\01{bsol}{lcub}x{rcub}");
        assert_eq!(lines[2], "=008  830803s1846\\\\\\\\pau");
        assert_eq!(
            lines[3],
            "=245  1\\$aCosts {dollar}5 {lcub}sic{rcub} {bsol} back\
             $cline{U+000A}break{U+000D} and {esc}(B esc {U+001F} and ü${dollar}odd code"
        );
        assert_eq!(lines[4], "=500  {bsol}{dollar}");
        assert_eq!(lines[5], "=650  \\0$a$x lead");
        assert_eq!(lines[6], "");
        assert!(text.ends_with("\n\n"));
    }

    #[test]
    fn reading_the_output_gives_the_record_back() {
        let rec = sample();
        let mut text = record_to_mrk(&rec);
        text.push_str("# a comment\n");
        text.push_str(&record_to_mrk(&rec).replace('\n', "\r\n"));
        let back = parse_mrk(text.as_bytes()).unwrap();
        assert_eq!(back, vec![rec.clone(), rec]);
    }

    #[test]
    fn unknown_mnemonics_and_hand_written_text_are_kept() {
        let text = "=LDR  00000nam\\a2200000\\a\\4500\n=245  00$a{sic} {U+00e9}t{U+zz}\n";
        let recs = parse_mrk(text.as_bytes()).unwrap();
        let f = recs[0].get("245").unwrap();
        assert_eq!(f.subfield('a'), Some("{sic} ét{U+zz}"));
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line_number() {
        let good = "=LDR  00000nam\\a2200000\\a\\4500\n=001  x\n\n";
        for (bad, line, what) in [
            ("245  10$ax\n", 4, "must start with '='"),
            ("=LDR  short\n", 4, "not 24"),
            ("=24\n", 5, "tag"),
            ("=24", 5, "tag"),
            ("=245 10$ax\n", 5, "two spaces"),
            ("=245  1\n", 5, "only one indicator"),
            ("=245  10abc\n", 5, "must start with '$'"),
            ("=245  10$\n", 5, "without a subfield code"),
            (
                "=LDR  00000nam\\a2200000\\a\\4500\n=LDR  00000nam\\a2200000\\a\\4500\n",
                5,
                "second =LDR",
            ),
        ] {
            let needs_leader = !bad.starts_with("=LDR") && !bad.starts_with("245");
            let text = if needs_leader {
                format!("{good}=LDR  00000nam\\a2200000\\a\\4500\n{bad}\n{good}")
            } else {
                format!("{good}{bad}\n{good}")
            };
            let results: Vec<Result<Record>> = MrkReader::new(text.as_bytes()).collect();
            assert_eq!(results.len(), 3, "{bad:?}: {results:?}");
            assert!(results[0].is_ok() && results[2].is_ok(), "{bad:?}");
            let e = results[1].as_ref().unwrap_err();
            let message = e.to_string();
            assert!(
                message.contains(&format!("line {line}: ")) && message.contains(what),
                "{bad:?}: {message}"
            );
            assert_eq!(e.record, Some(1), "{bad:?}");
        }
    }
}
