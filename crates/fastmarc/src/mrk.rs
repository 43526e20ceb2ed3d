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
//! line and ends at a blank line (or the next `=LDR` line, or the end of the input); lines
//! starting with `#` are comments. In the leader, in control fields (001-009) and in indicators `\` stands for a
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
//! pymarc's `str(record)` looks alike but is not unambiguous (see [`crate::Record`]'s `Display`).
//!
//! A malformed line (no `=`, a bad tag, a leader that is not 24 characters, a data field
//! without indicators or with text before its first subfield) is an error that names the
//! line.

use crate::error::{Error, ErrorKind, Result};
use crate::field::Tag;
use crate::iso2709::SUBFIELD_DELIMITER;
use crate::leader::Leader;
use crate::record::Record;
use crate::sink::Sink;
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
    // Text plus, per field, `=TAG  ` and a few mnemonics: one allocation, no regrowth.
    out.reserve(rec.text_len() + 40 + rec.len() * 16);
    out.push_str("=LDR  ");
    push_value(out, rec.leader().as_str(), Context::Fixed);
    out.push('\n');
    for field in rec.fields() {
        let tag = field.tag();
        match tag.as_bytes() {
            // The common case in one copy.
            &[a, b, c] if tag.as_bytes().is_ascii() => {
                push_ascii(out, &[b'=', a, b, c, b' ', b' ']);
            }
            _ => {
                out.push('=');
                out.push_str(tag.as_str());
                out.push_str("  ");
            }
        }
        if let Some(data) = field.data() {
            push_value(out, data, Context::Fixed);
        } else if field.verbatim().is_some_and(|raw| push_verbatim(out, raw)) {
            // Written from the field's ISO 2709 bytes in one pass.
        } else {
            for ind in field.indicators() {
                match ind {
                    ' ' => out.push('\\'),
                    c if c.is_ascii_alphanumeric() => out.push(c),
                    c => push_value(out, c.encode_utf8(&mut [0; 4]), Context::Fixed),
                }
            }
            for sf in field.subfields() {
                if sf.code.is_ascii_alphanumeric() {
                    push_ascii(out, &[b'$', sf.code as u8]);
                } else {
                    out.push('$');
                    push_value(out, sf.code.encode_utf8(&mut [0; 4]), Context::Subfield);
                }
                push_value(out, sf.value, Context::Subfield);
            }
        }
        out.push('\n');
    }
    out.push('\n');
}

/// A data field from its ISO 2709 form (two indicators, then delimiter, code and value per
/// subfield): one scan over the whole field, where a delimiter is one more special byte,
/// instead of one per value. `false`, with nothing written, when an indicator or a code is
/// one the plain form does not take as it is; the caller then writes the field part by part.
fn push_verbatim(out: &mut String, raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let plain = |b: u8| b.is_ascii_alphanumeric() || b == b' ';
    let start = out.len();
    match bytes {
        [a, b] | [a, b, SUBFIELD_DELIMITER, ..] if plain(*a) && plain(*b) => {
            let blank = |b: u8| if b == b' ' { b'\\' } else { b };
            push_ascii(out, &[blank(*a), blank(*b)]);
        }
        _ => return false,
    }
    let mut i = copy_plain::<false>(out, raw, 2);
    while let Some(&b) = bytes.get(i) {
        if b == SUBFIELD_DELIMITER {
            match bytes.get(i + 1) {
                Some(&code) if code.is_ascii_alphanumeric() => push_ascii(out, &[b'$', code]),
                _ => {
                    out.truncate(start);
                    return false;
                }
            }
            i = copy_plain::<false>(out, raw, i + 2);
        } else {
            push_special(out, b);
            i = copy_plain::<false>(out, raw, i + 1);
        }
    }
    true
}

/// Append a few ASCII bytes (a line's `=TAG  `, a subfield's `$` and code) in one copy: an
/// ASCII check costs less than `str::from_utf8`, which the compiler does not inline.
#[inline(always)]
fn push_ascii(out: &mut String, bytes: &[u8]) {
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8 on their own, so `out` stays valid UTF-8.
        unsafe { out.as_mut_vec().extend_from_slice(bytes) }
    } else {
        out.push_str(&String::from_utf8_lossy(bytes));
    }
}

/// One record in .mrk form, with the blank line that ends it.
pub fn record_to_mrk(rec: &Record) -> String {
    let mut out = String::new();
    write_record_mrk(rec, &mut out);
    out
}

fn push_value(out: &mut String, s: &str, context: Context) {
    match context {
        Context::Fixed => push_escaped::<true>(out, s),
        Context::Subfield => push_escaped::<false>(out, s),
    }
}

/// Bytes written as something else: `\\`, `$`, braces, control characters, and in fixed
/// fields (`FIXED[b]`) the blank too.
const fn special_table(fixed: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[0x7F] = true;
    t[b'\\' as usize] = true;
    t[b'$' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b' ' as usize] = fixed;
    t
}

static SPECIAL_FIXED: [bool; 256] = special_table(true);
static SPECIAL_SUBFIELD: [bool; 256] = special_table(false);

/// Copy `s` from byte `i` to `out` up to its next special byte, and say where that is
/// (`s.len()` if there is none). `i` must be a char boundary.
///
/// Plain runs are copied 16 bytes at a time, each block stored whole while it is checked
/// (the bytes past the special one land in spare capacity and are not kept), so a run costs
/// no call to `memcpy`; a shorter rest goes a byte at a time, as reading past the end of
/// `s` is not allowed.
#[inline(always)]
fn copy_plain<const FIXED: bool>(out: &mut String, s: &str, mut i: usize) -> usize {
    let bytes = s.as_bytes();
    let table = if FIXED {
        &SPECIAL_FIXED
    } else {
        &SPECIAL_SUBFIELD
    };
    // Room for the rest of `s` and one whole block beyond it.
    out.reserve(bytes.len() - i + 16);
    // SAFETY: `out` keeps only bytes of `s` from one char boundary (`i`) up to the next
    // special byte, which is ASCII and so another boundary: valid UTF-8. Every write stays
    // within the capacity reserved above, and every read within `bytes`.
    unsafe {
        let vec = out.as_mut_vec();
        let mut len = vec.len();
        let dst = vec.as_mut_ptr();
        #[cfg(target_arch = "x86_64")]
        while i + 16 <= bytes.len() {
            use std::arch::x86_64::*;
            let block = _mm_loadu_si128(bytes.as_ptr().add(i).cast());
            _mm_storeu_si128(dst.add(len).cast(), block);
            let mask = special_mask::<FIXED>(block);
            if mask != 0 {
                let k = mask.trailing_zeros() as usize;
                vec.set_len(len + k);
                return i + k;
            }
            len += 16;
            i += 16;
        }
        while i < bytes.len() && !table[usize::from(bytes[i])] {
            *dst.add(len) = bytes[i];
            len += 1;
            i += 1;
        }
        vec.set_len(len);
    }
    i
}

/// Bit `k` set if byte `k` of `block` is special, with SSE2 (part of every x86-64).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn special_mask<const FIXED: bool>(x: std::arch::x86_64::__m128i) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is always there on x86-64; these only compute on registers.
    unsafe {
        // Control characters (and in fixed fields the blank): x <= 0x1F (0x20).
        let top = _mm_set1_epi8(if FIXED { 0x20 } else { 0x1F });
        let mut hits = _mm_cmpeq_epi8(_mm_min_epu8(x, top), x);
        for b in [b'\\', b'$', b'{', b'}', 0x7F] {
            hits = _mm_or_si128(hits, _mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8)));
        }
        _mm_movemask_epi8(hits) as u32
    }
}

/// `s` with its special bytes escaped, runs of plain text copied whole.
fn push_escaped<const FIXED: bool>(out: &mut String, s: &str) {
    let mut i = copy_plain::<FIXED>(out, s, 0);
    while let Some(&b) = s.as_bytes().get(i) {
        push_special(out, b);
        i = copy_plain::<FIXED>(out, s, i + 1);
    }
}

/// What a special byte is written as.
fn push_special(out: &mut String, b: u8) {
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
}

/// Writes records in .mrk form, each ended by a blank line.
pub struct MrkWriter<W: Write> {
    sink: Sink<W, String>,
}

impl<W: Write> MrkWriter<W> {
    /// A writer of .mrk text to `inner`.
    pub fn new(inner: W) -> Self {
        MrkWriter {
            sink: Sink::new(inner),
        }
    }

    /// Write one record and the blank line that ends it.
    pub fn write_record(&mut self, rec: &Record) -> Result<()> {
        self.sink.write_with(|buf| {
            write_record_mrk(rec, buf);
            Ok(())
        })
    }

    /// Write one record already serialised by [`write_record_mrk`] (on another thread, say).
    pub fn write_serialised(&mut self, record_mrk: &[u8]) -> Result<()> {
        self.sink.write_parts(&[record_mrk])
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    /// Flush and hand back the output.
    pub fn finish(self) -> Result<W> {
        self.sink.finish(&[])
    }
}

// ---- reading ---------------------------------------------------------------------------

/// Where a line of the current record lies in [`MrkReader`]'s block.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    /// Its number in the input, from 1.
    number: u64,
    /// Byte offset of its first byte in the input.
    offset: u64,
}

/// Streams records from .mrk text on any `BufRead`. A record's lines are gathered first
/// (up to the blank line that ends it, or the next `=LDR` line), checked as UTF-8 at once,
/// then parsed. Errors name the record and the line; after one the reader goes on at the
/// next record.
pub struct MrkReader<R> {
    inner: R,
    /// The current record's lines, without their line ends.
    block: Vec<u8>,
    lines: Vec<Line>,
    /// An `=LDR` line that ended the previous record without a blank line.
    carried: Option<Line>,
    /// Lines read so far.
    line_number: u64,
    /// Bytes read so far.
    offset: u64,
    records: u64,
    scratch: String,
    /// The bytes of `carried`.
    block_carry: Vec<u8>,
    /// The record the iterator parses into.
    spare: Record,
    /// Where the record last read starts (its `=LDR` line).
    record_start: u64,
    /// An I/O error ended the input.
    done: bool,
}

impl<R: BufRead> MrkReader<R> {
    /// A reader of .mrk text from `inner`.
    pub fn new(inner: R) -> Self {
        MrkReader {
            inner,
            block: Vec::with_capacity(4096),
            lines: Vec::with_capacity(64),
            carried: None,
            line_number: 0,
            offset: 0,
            records: 0,
            scratch: String::new(),
            block_carry: Vec::new(),
            spare: Record::new(),
            record_start: 0,
            done: false,
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Byte offset of the first line of the record last read.
    pub fn record_offset(&self) -> u64 {
        self.record_start
    }

    /// Append the next line to the block, without its line end; `None` at the end.
    fn next_line(&mut self) -> Result<Option<Line>> {
        let start = self.block.len();
        let line_offset = self.offset;
        let mut read = 0usize;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if buf.is_empty() {
                break;
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    self.block.extend_from_slice(&buf[..i]);
                    self.inner.consume(i + 1);
                    read += i + 1;
                    break;
                }
                None => {
                    let n = buf.len();
                    self.block.extend_from_slice(buf);
                    self.inner.consume(n);
                    read += n;
                }
            }
        }
        if read == 0 {
            return Ok(None);
        }
        if self.line_number == 0 && self.block[start..].starts_with(b"\xEF\xBB\xBF") {
            self.block.drain(start..start + 3);
        }
        if self.block.last() == Some(&b'\r') && self.block.len() > start {
            self.block.pop();
        }
        self.offset += read as u64;
        self.line_number += 1;
        Ok(Some(Line {
            start,
            end: self.block.len(),
            number: self.line_number,
            offset: line_offset,
        }))
    }

    fn fail(&self, line: &Line, what: impl Into<String>) -> Error {
        Error::at(
            ErrorKind::Mrk(format!("line {}: {}", line.number, what.into())),
            self.records,
            line.offset,
        )
    }

    /// Gather the next record's lines; false at the end of the input.
    fn gather(&mut self) -> Result<bool> {
        self.block.clear();
        self.lines.clear();
        if let Some(line) = self.carried.take() {
            // Its bytes were left at the end of the old block: move them to the front.
            let bytes = self.block_carry.split_off(0);
            self.block.extend_from_slice(&bytes);
            self.lines.push(Line {
                start: 0,
                end: bytes.len(),
                ..line
            });
        }
        while let Some(line) = self.next_line()? {
            let bytes = &self.block[line.start..line.end];
            if bytes.iter().all(u8::is_ascii_whitespace) {
                self.block.truncate(line.start);
                if self.lines.is_empty() {
                    continue;
                }
                break;
            }
            if bytes[0] == b'#' {
                self.block.truncate(line.start);
                continue;
            }
            if !self.lines.is_empty() && bytes.starts_with(b"=LDR") {
                // The next record starts here without a blank line before it.
                self.block_carry.clear();
                self.block_carry.extend_from_slice(bytes);
                self.block.truncate(line.start);
                self.carried = Some(line);
                break;
            }
            self.lines.push(line);
        }
        Ok(!self.lines.is_empty())
    }

    /// Read the next record into `rec` (cleared first); false at the end of the input.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        rec.clear();
        if !self.gather()? {
            return Ok(false);
        }
        self.record_start = self.lines[0].offset;
        let result = self.parse(rec);
        self.records += 1;
        if result.is_err() {
            rec.clear();
        }
        result.map(|()| true)
    }

    fn parse(&mut self, rec: &mut Record) -> Result<()> {
        let block = std::mem::take(&mut self.block);
        let mut text = std::mem::take(&mut self.scratch);
        let result = self.parse_block(&block, rec, &mut text);
        self.block = block;
        self.scratch = text;
        result
    }

    fn parse_block(&self, block: &[u8], rec: &mut Record, text: &mut String) -> Result<()> {
        // One UTF-8 check for the record; on failure, find the line to name.
        let Ok(all) = simdutf8::basic::from_utf8(block) else {
            let bad = self
                .lines
                .iter()
                .find(|l| std::str::from_utf8(&block[l.start..l.end]).is_err())
                .unwrap_or(&self.lines[0]);
            return Err(self.fail(bad, "not valid UTF-8"));
        };
        for (k, line) in self.lines.iter().enumerate() {
            let s = &all[line.start..line.end];
            let parsed = if k == 0 {
                leader_line(s, rec, text)
            } else {
                field_line(s, rec, text)
            };
            parsed.map_err(|what| self.fail(line, what))?;
        }
        Ok(())
    }
}

/// The `=LDR` line that starts a record.
fn leader_line(line: &str, rec: &mut Record, text: &mut String) -> std::result::Result<(), String> {
    let Some(value) = line.strip_prefix("=LDR  ") else {
        return Err(if line.starts_with('=') {
            "a record must start with its =LDR line".into()
        } else {
            "a line must start with '=' and a tag".into()
        });
    };
    text.clear();
    unescape(value, Context::Fixed, text);
    let leader = Leader::from_bytes(text.as_bytes()).map_err(|_| {
        format!(
            "the leader is {} characters, not 24 ASCII characters",
            text.chars().count()
        )
    })?;
    rec.set_leader(leader);
    Ok(())
}

/// A field line.
fn field_line(line: &str, rec: &mut Record, text: &mut String) -> std::result::Result<(), String> {
    let bytes = line.as_bytes();
    let tag = (bytes[0] == b'=')
        .then(|| bytes.get(1..4))
        .flatten()
        .and_then(|t| Tag::from_bytes(t).ok())
        .ok_or("a line must start with '=' and a tag")?;
    let Some(body) = line[4..].strip_prefix("  ") else {
        return Err(format!("two spaces must follow the tag {tag}"));
    };
    push_field(rec, tag, body, text)
}

/// Add the field a line's body (after the tag and its two spaces) describes.
fn push_field(
    rec: &mut Record,
    tag: Tag,
    body: &str,
    text: &mut String,
) -> std::result::Result<(), String> {
    if tag.is_control() {
        if memchr::memchr2(b'{', b'\\', body.as_bytes()).is_none() {
            rec.push_control(tag, body);
        } else {
            text.clear();
            unescape(body, Context::Fixed, text);
            rec.push_control(tag, text);
        }
        return Ok(());
    }
    let (ind1, ind2, rest) = match body.as_bytes() {
        // The common case: two plain ASCII indicators.
        [a, b, ..] if plain_indicator(*a) && plain_indicator(*b) => {
            (fixed_char(*a), fixed_char(*b), &body[2..])
        }
        _ => {
            let (ind1, rest) = first_char(body, Context::Fixed)
                .ok_or_else(|| format!("field {tag} has no indicators"))?;
            let (ind2, rest) = first_char(rest, Context::Fixed)
                .ok_or_else(|| format!("field {tag} has only one indicator"))?;
            (ind1, ind2, rest)
        }
    };
    rec.start_data_field(tag, ind1, ind2);
    if rest.is_empty() {
        return Ok(());
    }
    let Some(subfields) = rest.strip_prefix('$') else {
        return Err(format!(
            "field {tag}: text after the indicators must start with '$' and a subfield code"
        ));
    };
    // One pass over the line for the delimiters, one for mnemonics.
    let braces = memchr::memchr(b'{', subfields.as_bytes()).is_some();
    let mut ends = memchr::memchr_iter(b'$', subfields.as_bytes());
    let mut start = 0;
    loop {
        let end = ends.next().unwrap_or(subfields.len());
        // `$` is ASCII: both ends are char boundaries.
        let sf = &subfields[start..end];
        let (code, value) = match sf.as_bytes().first() {
            Some(&c) if c.is_ascii_alphanumeric() => (char::from(c), &sf[1..]),
            _ => first_char(sf, Context::Subfield)
                .ok_or_else(|| format!("field {tag}: a '$' without a subfield code"))?,
        };
        if braces && memchr::memchr(b'{', value.as_bytes()).is_some() {
            text.clear();
            unescape(value, Context::Subfield, text);
            rec.push_subfield(code, text);
        } else {
            rec.push_subfield(code, value);
        }
        if end == subfields.len() {
            break;
        }
        start = end + 1;
    }
    Ok(())
}

/// An indicator byte that stands for itself (or `\\` for a blank): ASCII, not a mnemonic.
fn plain_indicator(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'{'
}

fn fixed_char(b: u8) -> char {
    if b == b'\\' {
        ' '
    } else {
        char::from(b)
    }
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

/// `s` with its mnemonics replaced (and in fixed fields `\\` as a blank), appended to `out`.
/// One pass over the bytes: fixed fields hold many blanks, each a `\\`.
fn unescape(s: &str, context: Context, out: &mut String) {
    let bytes = s.as_bytes();
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if context == Context::Fixed => {
                out.push_str(&s[done..i]);
                out.push(' ');
                i += 1;
                done = i;
            }
            b'{' => match mnemonic(&s[i..]) {
                Some((c, len)) => {
                    out.push_str(&s[done..i]);
                    out.push(c);
                    i += len;
                    done = i;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    out.push_str(&s[done..]);
}

impl<R: BufRead> Iterator for MrkReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done {
            return None;
        }
        // Parse into a reused record and hand out a copy: one allocation per table, where
        // a fresh record would grow each of them several times.
        let mut rec = std::mem::take(&mut self.spare);
        let result = match self.read_record(&mut rec) {
            Ok(true) => Some(Ok(rec.clone())),
            Ok(false) => None,
            Err(e) => {
                // An I/O error ends the input; a malformed line only its record.
                self.done = matches!(e.kind(), ErrorKind::Io(..));
                Some(Err(e))
            }
        };
        self.spare = rec;
        result
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

    /// The vector scan finds every special byte wherever it is in a value.
    #[test]
    fn escaping_finds_special_bytes_at_every_position() {
        fn naive(s: &str, fixed: bool) -> String {
            s.chars()
                .map(|c| match c {
                    ' ' if fixed => "\\".to_string(),
                    '\\' => "{bsol}".to_string(),
                    '$' => "{dollar}".to_string(),
                    '{' => "{lcub}".to_string(),
                    '}' => "{rcub}".to_string(),
                    '\u{1b}' => "{esc}".to_string(),
                    c if c < ' ' || c == '\u{7f}' => format!("{{U+{:04X}}}", u32::from(c)),
                    c => c.to_string(),
                })
                .collect()
        }
        fn check(s: &str) {
            for fixed in [false, true] {
                let mut out = String::new();
                if fixed {
                    push_escaped::<true>(&mut out, s);
                } else {
                    push_escaped::<false>(&mut out, s);
                }
                assert_eq!(out, naive(s, fixed), "{s:?} fixed {fixed}");
            }
        }
        for len in 0..40 {
            check(&"x$é{ \\".chars().cycle().take(len).collect::<String>());
        }
        let plain = "abcdéfghijklmnopqrstuvwxyz0123456789ABCDEFGH";
        for special in [
            '\u{0}', '\u{1f}', ' ', '\\', '$', '{', '}', '\u{7f}', '\u{1b}', '~',
        ] {
            for at in 0..plain.chars().count() {
                check(&with_char_at(plain, at, special));
            }
        }
    }

    /// `plain` with its `at`th character replaced by `special`.
    fn with_char_at(plain: &str, at: usize, special: char) -> String {
        plain
            .chars()
            .enumerate()
            .map(|(i, c)| if i == at { special } else { c })
            .collect()
    }

    /// A record read from ISO 2709 is written from each data field's bytes where it can be:
    /// the text is the same as for the same record built field by field, with plain and
    /// odd indicators and codes, and specials at every position of short and long values.
    #[test]
    fn fields_written_from_their_iso2709_bytes_read_as_built() {
        // Not `sample()`: a 0x1F in a value would split it when read back.
        let mut built = Record::new();
        built.push(&Field::control(tag("001"), "ocm 01\\{x}"));
        let plain = "abcdéfghijklmnopqrstuvwxyz0123456789";
        for special in ['\u{0}', ' ', '\\', '$', '{', '}', '\u{7f}', '\u{1b}'] {
            for at in 0..plain.chars().count() {
                let value = with_char_at(plain, at, special);
                let short: String = value.chars().skip(at.saturating_sub(3)).take(7).collect();
                built.push(&Field::data(
                    tag("500"),
                    ' ',
                    '7',
                    vec![Subfield::new('a', &value), Subfield::new('b', &short)],
                ));
            }
        }
        for (i1, i2, code) in [
            ('\\', ' ', 'a'),
            ('1', '$', 'a'),
            ('0', ' ', '-'),
            ('a', 'Z', '{'),
        ] {
            built.push(&Field::data(
                tag("246"),
                i1,
                i2,
                vec![Subfield::new(code, "x y")],
            ));
        }
        let bytes = crate::iso2709::record_to_bytes(&built).unwrap();
        let read = crate::iso2709::Reader::new(&bytes[..])
            .next()
            .unwrap()
            .unwrap();
        assert!(read.fields().filter(|f| f.verbatim().is_some()).count() > 200);
        // The writer filled in the leader's lengths.
        *built.leader_mut() = *read.leader();
        assert_eq!(record_to_mrk(&read), record_to_mrk(&built));
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
    fn a_leader_line_starts_a_record_even_without_a_blank_line() {
        let text = "=LDR  00000nam\\a2200000\\a\\4500\n=001  one\n=LDR  00000nam\\a2200000\\a\\4500\n=001  two";
        let recs = parse_mrk(text.as_bytes()).unwrap();
        let ids: Vec<_> = recs
            .iter()
            .map(|r| r.get("001").unwrap().data().unwrap())
            .collect();
        assert_eq!(ids, ["one", "two"]);
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
            assert_eq!(e.record(), Some(1), "{bad:?}");
        }
    }
}
