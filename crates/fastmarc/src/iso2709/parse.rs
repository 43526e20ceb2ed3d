//! Parsing one framed ISO 2709 record into a [`Record`].

use super::frame::{FIELD_TERMINATOR, RECORD_TERMINATOR, SUBFIELD_DELIMITER};
use crate::error::{Error, ErrorKind, Result};
use crate::field::Tag;
use crate::leader::{parse_digits, Leader, LEADER_LEN};
use crate::marc8;
use crate::record::{Record, TextEncoding};

/// How field text is turned into Unicode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decoding {
    /// By leader/09: `a` is UTF-8, anything else MARC-8.
    #[default]
    Auto,
    /// UTF-8 whatever the leader says (pymarc's `force_utf8`).
    Utf8,
    /// MARC-8 whatever the leader says.
    Marc8,
    /// No decoding: each byte becomes the char with the same value (Latin-1), so the
    /// original bytes come back exactly on writing. For wrongly encoded files.
    Raw,
}

/// What to do with bytes that are not valid UTF-8 (Python's codec error handlers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Utf8Errors {
    /// The record is an error.
    #[default]
    Strict,
    /// Each invalid sequence becomes U+FFFD.
    Replace,
    /// Invalid sequences are dropped.
    Ignore,
}

/// How a record's bytes are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    pub decoding: Decoding,
    pub utf8_errors: Utf8Errors,
    /// Check everything ISO 2709 requires (terminators, directory bounds, indicator count,
    /// subfield codes). When false, parse as pymarc does: take what the directory says,
    /// clamp what lies outside the record, fix up odd indicators and subfield codes.
    pub strict: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            decoding: Decoding::Auto,
            utf8_errors: Utf8Errors::Strict,
            strict: true,
        }
    }
}

fn err(kind: ErrorKind, offset: usize) -> Error {
    let mut e = Error::new(kind);
    e.offset = Some(offset as u64);
    e
}

/// Parse one whole record (leader through record terminator) into `rec`, reusing its
/// allocations. Error offsets are relative to the start of `bytes`.
pub fn parse_record(bytes: &[u8], opts: &ParseOptions, rec: &mut Record) -> Result<()> {
    rec.clear();
    if bytes.len() < LEADER_LEN {
        return Err(err(ErrorKind::LeaderInvalid, 0));
    }
    let leader = Leader::from_bytes(&bytes[..LEADER_LEN]).map_err(|e| err(e.kind, 0))?;
    if opts.strict {
        match leader.record_length() {
            Some(n) if n == bytes.len() => {}
            Some(n) => return Err(err(ErrorKind::RecordLengthInvalid(n), 0)),
            None => return Err(err(ErrorKind::RecordLengthNotDigits, 0)),
        }
        if bytes[bytes.len() - 1] != RECORD_TERMINATOR {
            return Err(err(ErrorKind::EndOfRecordNotFound, bytes.len() - 1));
        }
    }
    let base = number(&bytes[12..17], opts.strict)
        .ok_or_else(|| err(ErrorKind::BaseAddressNotDigits, 12))?;
    if base == 0 {
        return Err(err(ErrorKind::BaseAddressNotFound, 12));
    }
    if base >= bytes.len() || base <= LEADER_LEN {
        return Err(err(ErrorKind::BaseAddressInvalid(base), 12));
    }
    let directory = &bytes[LEADER_LEN..base - 1];
    if !directory.is_ascii() {
        return Err(err(ErrorKind::DirectoryNotAscii, LEADER_LEN));
    }
    if !directory.len().is_multiple_of(12) {
        return Err(err(
            ErrorKind::DirectoryLengthInvalid(directory.len()),
            LEADER_LEN,
        ));
    }
    if opts.strict && bytes[base - 1] != FIELD_TERMINATOR {
        return Err(err(ErrorKind::DirectoryTerminatorMissing, base - 1));
    }
    let field_count = directory.len() / 12;
    if field_count == 0 {
        return Err(err(ErrorKind::NoFields, LEADER_LEN));
    }

    let utf8 = match opts.decoding {
        Decoding::Auto => leader.is_unicode(),
        Decoding::Utf8 => true,
        Decoding::Marc8 | Decoding::Raw => false,
    };
    let encoding = if opts.decoding == Decoding::Raw {
        TextEncoding::Raw
    } else {
        TextEncoding::Unicode
    };
    rec.set_leader(leader);
    rec.encoding = encoding;
    rec.text.reserve(bytes.len() - base);
    rec.fields.reserve(field_count);
    // One span per delimiter at most: counting them (memchr counts a vector at a time)
    // saves the span table several reallocations per record.
    rec.subfields
        .reserve(memchr::memchr_iter(SUBFIELD_DELIMITER, &bytes[base..]).count());

    let data = &bytes[base..];
    // In strict mode a record terminator may only end the record. One search per record;
    // fields are searched only when it finds one.
    let stray_terminator =
        opts.strict && memchr::memchr(RECORD_TERMINATOR, &data[..data.len() - 1]).is_some();
    // Validate the data area's UTF-8 once; fields are then sliced from it without
    // re-checking (a slice between two char boundaries of valid UTF-8 is valid).
    let data_str = if utf8 {
        simdutf8::basic::from_utf8(data).ok()
    } else {
        None
    };
    let decoder = TextDecoder {
        utf8,
        data_str,
        raw: opts.decoding == Decoding::Raw,
        utf8_errors: opts.utf8_errors,
    };

    for (i, entry) in directory.chunks_exact(12).enumerate() {
        let entry_offset = LEADER_LEN + i * 12;
        let tag = Tag::from_array_unchecked([entry[0], entry[1], entry[2]]);
        let (Some(len), Some(start)) = (
            number(&entry[3..7], opts.strict),
            number(&entry[7..12], opts.strict),
        ) else {
            return Err(err(
                ErrorKind::DirectoryEntryNotDigits { entry: i },
                entry_offset,
            ));
        };
        let end = start + len;
        let field: &[u8] = if opts.strict {
            if len == 0 || end > data.len() - 1 {
                return Err(err(
                    ErrorKind::DirectoryEntryOutOfBounds { entry: i },
                    entry_offset,
                ));
            }
            if data[end - 1] != FIELD_TERMINATOR {
                return Err(err(
                    ErrorKind::FieldTerminatorMissing {
                        tag: tag.to_string(),
                    },
                    base + end - 1,
                ));
            }
            let field = &data[start..end - 1];
            if stray_terminator {
                if let Some(at) = memchr::memchr(RECORD_TERMINATOR, field) {
                    return Err(err(
                        ErrorKind::RecordTerminatorInField {
                            tag: tag.to_string(),
                        },
                        base + start + at,
                    ));
                }
            }
            field
        } else {
            // pymarc's slice: the field's bytes less the last, clamped to the record.
            let s = start.min(data.len());
            let e = (end.saturating_sub(1)).clamp(s, data.len());
            &data[s..e]
        };
        let field_offset = base + start.min(data.len());
        if tag.is_control() {
            let start = rec.text.len();
            decoder
                .control(field, &mut rec.text)
                .map_err(|kind| err(kind(tag), field_offset))?;
            rec.close_control(tag, start);
        } else {
            parse_data_field(tag, field, field_offset, opts, &decoder, rec)?;
        }
    }
    Ok(())
}

/// A leader or directory number. pymarc reads these with `int()`, which allows
/// surrounding blanks; strict parsing wants digits only.
fn number(b: &[u8], strict: bool) -> Option<usize> {
    if strict {
        parse_digits(b)
    } else {
        parse_digits(b.trim_ascii())
    }
}

fn parse_data_field(
    tag: Tag,
    field: &[u8],
    offset: usize,
    opts: &ParseOptions,
    decoder: &TextDecoder,
    rec: &mut Record,
) -> Result<()> {
    // memchr finds the delimiters a vector at a time; subfields are short but many.
    let mut delimiters = memchr::memchr_iter(SUBFIELD_DELIMITER, field);
    let mut at = delimiters.next().unwrap_or(field.len());
    let ind = &field[..at];
    let indicators = if opts.strict {
        match ind {
            [a, b] if a.is_ascii() && b.is_ascii() => [*a as char, *b as char],
            _ => {
                return Err(err(
                    ErrorKind::IndicatorsInvalid {
                        tag: tag.to_string(),
                    },
                    offset,
                ))
            }
        }
    } else {
        if !ind.is_ascii() {
            return Err(err(
                ErrorKind::IndicatorsInvalid {
                    tag: tag.to_string(),
                },
                offset,
            ));
        }
        match ind {
            [] => [' ', ' '],
            [a] => [*a as char, ' '],
            [a, b, ..] => [*a as char, *b as char],
        }
    };
    rec.start_data_field(tag, indicators[0], indicators[1]);
    // `at` is the position of the delimiter before each part.
    while at < field.len() {
        let next = delimiters.next().unwrap_or(field.len());
        let part = &field[at + 1..next];
        let part_offset = offset + at + 1;
        at = next;
        let (code, skip) = match part.first() {
            Some(&c) if c.is_ascii_graphic() || (!opts.strict && c.is_ascii()) => (c as char, 1),
            None if !opts.strict => continue,
            Some(_) if !opts.strict => match normalize_subfield_code(part) {
                Some(found) => found,
                None => {
                    return Err(err(
                        ErrorKind::BadSubfieldCode {
                            tag: tag.to_string(),
                        },
                        part_offset,
                    ))
                }
            },
            _ => {
                return Err(err(
                    ErrorKind::BadSubfieldCode {
                        tag: tag.to_string(),
                    },
                    part_offset,
                ))
            }
        };
        let value = &part[skip..];
        let start = rec.text.len();
        decoder
            .subfield(value, &mut rec.text)
            .map_err(|kind| err(kind(tag), part_offset + skip))?;
        rec.close_subfield(code, start);
    }
    Ok(())
}

/// pymarc's fallback for a non-ASCII subfield code: decode the subfield (UTF-8, else
/// Latin-1), decompose (NFKD), and take the first ASCII character; the code occupies the
/// bytes of the first decoded character.
fn normalize_subfield_code(part: &[u8]) -> Option<(char, usize)> {
    use unicode_normalization::UnicodeNormalization;
    let (text, skip): (std::borrow::Cow<str>, usize) = match std::str::from_utf8(part) {
        Ok(s) => (s.into(), s.chars().next()?.len_utf8()),
        Err(_) => (
            part.iter().map(|&b| b as char).collect::<String>().into(),
            1,
        ),
    };
    let code = text.nfkd().find(char::is_ascii)?;
    Some((code, skip))
}

type KindFor = fn(Tag) -> ErrorKind;

/// Turns field bytes into text according to the record's encoding.
struct TextDecoder<'a> {
    utf8: bool,
    /// The record's whole data area, when it is valid UTF-8.
    data_str: Option<&'a str>,
    raw: bool,
    utf8_errors: Utf8Errors,
}

impl TextDecoder<'_> {
    fn latin1(bytes: &[u8], out: &mut String) {
        if bytes.is_ascii() {
            // ASCII is valid UTF-8.
            out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        } else {
            out.extend(bytes.iter().map(|&b| b as char));
        }
    }

    fn utf8(&self, bytes: &[u8], out: &mut String) -> Result<(), KindFor> {
        if let Some(data) = self.data_str {
            // `bytes` is a sub-slice of the data area: find it there and slice the checked
            // str (`get` refuses a range that splits a character).
            let start = bytes.as_ptr() as usize - data.as_ptr() as usize;
            if let Some(s) = data.get(start..start + bytes.len()) {
                out.push_str(s);
                return Ok(());
            }
        }
        match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => out.push_str(s),
            Err(_) => match self.utf8_errors {
                Utf8Errors::Strict => {
                    return Err(|t| ErrorKind::InvalidUtf8 { tag: t.to_string() })
                }
                Utf8Errors::Replace | Utf8Errors::Ignore => {
                    for chunk in bytes.utf8_chunks() {
                        out.push_str(chunk.valid());
                        if !chunk.invalid().is_empty() && self.utf8_errors == Utf8Errors::Replace {
                            out.push('\u{FFFD}');
                        }
                    }
                }
            },
        }
        Ok(())
    }

    /// Control fields: UTF-8 records as UTF-8; MARC-8 records byte for byte (as pymarc does).
    fn control(&self, bytes: &[u8], out: &mut String) -> Result<(), KindFor> {
        if self.utf8 && !self.raw {
            self.utf8(bytes, out)
        } else {
            Self::latin1(bytes, out);
            Ok(())
        }
    }

    fn subfield(&self, bytes: &[u8], out: &mut String) -> Result<(), KindFor> {
        if self.raw {
            Self::latin1(bytes, out);
            Ok(())
        } else if self.utf8 {
            self.utf8(bytes, out)
        } else {
            let mut warnings = Vec::new();
            marc8::decode_marc8_into(bytes, out, &mut warnings)
                .map_err(|_| (|t: Tag| ErrorKind::InvalidMarc8 { tag: t.to_string() }) as KindFor)
        }
    }
}
