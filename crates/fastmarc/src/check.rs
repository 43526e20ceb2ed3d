//! Checks for what breaks other systems in records that parse: control characters in
//! data, leader values MARC 21 does not allow, MARC-8 that does not decode, UTF-8 under a
//! leader that says MARC-8, fields and records too long for ISO 2709, indicators and
//! subfield codes outside MARC 21's.
//!
//! [`check_iso2709`] looks at a record's bytes (so every problem has its byte offset);
//! [`check_record`] at a record read from another format.

use crate::iso2709::{MAX_FIELD_LEN, MAX_RECORD_LEN};
use crate::leader::LEADER_LEN;
use crate::marc8::decode_marc8_into;
use crate::record::Record;

const ESC: u8 = 0x1B;
const SUBFIELD_DELIMITER: u8 = 0x1F;
const FIELD_TERMINATOR: u8 = 0x1E;

/// Checks for what breaks other systems in records that parse: control characters in
/// data, leader values MARC 21 does not allow, MARC-8 that does not decode, UTF-8 under a
/// leader that says MARC-8, fields and records too long for ISO 2709, indicators and
/// subfield codes outside MARC 21's.
///
/// [`check_iso2709`] looks at a record's bytes (so every problem has its byte offset);
/// [`check_record`] at a record read from another format.
///
/// A `Problem` is one of them, found in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset from the start of the record, when the record's bytes were checked.
    pub offset: Option<u64>,
    /// `leader`, or the field's tag.
    pub field: String,
    /// What is wrong, in plain words.
    pub what: String,
}

fn problem(offset: Option<usize>, field: impl Into<String>, what: impl Into<String>) -> Problem {
    Problem {
        offset: offset.map(|o| o as u64),
        field: field.into(),
        what: what.into(),
    }
}

/// Leader positions MARC 21 fills with digits: record length, indicator and subfield code
/// counts, base address, and the entry map.
const LEADER_DIGITS: [(usize, usize, &str); 4] = [
    (0, 5, "record length (00-04)"),
    (10, 12, "indicator and subfield code counts (10-11)"),
    (12, 17, "base address (12-16)"),
    (20, 24, "entry map (20-23)"),
];

fn check_leader(leader: &[u8], out: &mut Vec<Problem>) {
    for (from, to, what) in LEADER_DIGITS {
        if let Some(i) = (from..to).find(|&i| !leader[i].is_ascii_digit()) {
            out.push(problem(
                Some(i),
                "leader",
                format!(
                    "{what}: {} where MARC 21 requires a digit",
                    show_byte(leader[i])
                ),
            ));
        }
    }
    if &leader[10..12] != b"22" && leader[10..12].iter().all(u8::is_ascii_digit) {
        out.push(problem(
            Some(10),
            "leader",
            "indicator and subfield code counts (10-11) are not 22",
        ));
    }
    if &leader[20..24] != b"4500" && leader[20..24].iter().all(u8::is_ascii_digit) {
        out.push(problem(Some(20), "leader", "entry map (20-23) is not 4500"));
    }
    if !matches!(leader[9], b' ' | b'a') {
        out.push(problem(
            Some(9),
            "leader",
            format!(
                "character coding scheme (09) is {}, not blank (MARC-8) or 'a' (UTF-8)",
                show_byte(leader[9])
            ),
        ));
    }
}

fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else if b == b' ' {
        "a blank".into()
    } else {
        format!("byte 0x{b:02X}")
    }
}

fn show_char(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else if c == ' ' {
        "a blank".into()
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

fn is_marc21_indicator(c: u8) -> bool {
    c == b' ' || c.is_ascii_digit() || c.is_ascii_lowercase()
}

fn is_marc21_code(c: u8) -> bool {
    c.is_ascii_digit() || c.is_ascii_lowercase()
}

fn is_control_tag(tag: &[u8]) -> bool {
    tag[0] == b'0' && tag[1] == b'0' && tag[2].is_ascii_digit()
}

/// Check one ISO 2709 record (leader through record terminator) that parses strictly.
/// Offsets are from the record's first byte.
pub fn check_iso2709(bytes: &[u8]) -> Vec<Problem> {
    let mut out = Vec::new();
    if bytes.len() < LEADER_LEN {
        return out;
    }
    let leader = &bytes[..LEADER_LEN];
    check_leader(leader, &mut out);
    if bytes.len() > MAX_RECORD_LEN {
        out.push(problem(
            Some(0),
            "leader",
            format!(
                "the record is {} bytes, more than ISO 2709's {MAX_RECORD_LEN}",
                bytes.len()
            ),
        ));
    }
    let marc8 = leader[9] == b' ';
    let base = match std::str::from_utf8(&leader[12..17])
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        Some(b) if b > LEADER_LEN && b <= bytes.len() => b,
        _ => return out,
    };
    let directory = &bytes[LEADER_LEN..base - 1];
    let mut utf8_seen_under_marc8 = false;
    for entry in directory.chunks_exact(12) {
        let tag = &entry[..3];
        let tag_str = String::from_utf8_lossy(tag).into_owned();
        let number = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<usize>().ok();
        let (Some(len), Some(start)) = (number(&entry[3..7]), number(&entry[7..12])) else {
            continue;
        };
        let from = base + start;
        let Some(field) = bytes.get(from..from + len) else {
            continue;
        };
        if len > MAX_FIELD_LEN {
            out.push(problem(
                Some(from),
                &tag_str,
                format!("the field is {len} bytes, more than ISO 2709's {MAX_FIELD_LEN}"),
            ));
        }
        // The field without its terminator.
        let body = field.strip_suffix(&[FIELD_TERMINATOR]).unwrap_or(field);
        if marc8 && !utf8_seen_under_marc8 && looks_like_utf8(body) {
            utf8_seen_under_marc8 = true;
            out.push(problem(
                Some(9),
                "leader",
                format!(
                    "leader/09 is blank (MARC-8) but field {tag_str} holds UTF-8 \
                     (read it with --from-encoding utf8, or set leader/09 to 'a')"
                ),
            ));
        }
        if is_control_tag(tag) {
            check_text(body, from, &tag_str, marc8, &mut out);
            continue;
        }
        if body.len() < 2 {
            continue;
        }
        for (i, &ind) in body[..2].iter().enumerate() {
            if !is_marc21_indicator(ind) {
                out.push(problem(
                    Some(from + i),
                    &tag_str,
                    format!(
                        "indicator {} is {}, not a blank, digit or lowercase letter",
                        i + 1,
                        show_byte(ind)
                    ),
                ));
            }
        }
        let mut at = from + 2;
        for sf in body[2..].split(|&b| b == SUBFIELD_DELIMITER).skip(1) {
            at += 1;
            if let Some(&code) = sf.first() {
                if !is_marc21_code(code) {
                    out.push(problem(
                        Some(at),
                        &tag_str,
                        format!(
                            "subfield code {} is not a lowercase letter or digit",
                            show_byte(code)
                        ),
                    ));
                }
                let place = format!("{tag_str}${}", code as char);
                check_text(&sf[1..], at + 1, &place, marc8, &mut out);
            }
            at += sf.len();
        }
    }
    out
}

/// Whether `bytes` hold non-ASCII text that is valid UTF-8 (MARC-8 text almost never is).
/// Bytes that only UTF-8 explains: non-ASCII, no MARC-8 escape, and valid UTF-8 (MARC-8's
/// diacritics before ASCII letters are not).
pub(crate) fn looks_like_utf8(bytes: &[u8]) -> bool {
    !bytes.is_ascii() && non_ascii_looks_like_utf8(bytes)
}

/// [`looks_like_utf8`] for bytes known not to be ASCII. UTF-8 validation comes first: on
/// MARC-8 text it fails at the first diacritic.
pub(crate) fn non_ascii_looks_like_utf8(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok() && !bytes.contains(&ESC)
}

/// Control characters, and for MARC-8 what does not decode, in one value at `at`.
fn check_text(text: &[u8], at: usize, place: &str, marc8: bool, out: &mut Vec<Problem>) {
    if let Some(i) = text
        .iter()
        .position(|&b| (b < 0x20 && !(marc8 && b == ESC)) || b == 0x7F)
    {
        out.push(problem(
            Some(at + i),
            place,
            format!("control character {} in the data", show_byte(text[i])),
        ));
    }
    if !marc8 || text.is_ascii() && !text.contains(&ESC) {
        return;
    }
    if let Some(i) = bad_escape(text) {
        out.push(problem(
            Some(at + i),
            place,
            "MARC-8 escape sequence that designates no known character set",
        ));
        return;
    }
    let mut decoded = String::new();
    let mut warnings = Vec::new();
    match decode_marc8_into(text, &mut decoded, &mut warnings) {
        Err(e) => out.push(problem(
            Some(at + e.byte_offset),
            place,
            "MARC-8 escape sequence cut short",
        )),
        Ok(()) => {
            if let Some(w) = warnings.first() {
                out.push(problem(
                    Some(at + w.byte_offset),
                    place,
                    format!(
                        "MARC-8 code 0x{:02X} is not defined in the character set in use \
                         (G0 {}, G1 {}){}",
                        w.code_point,
                        show_byte(w.g0),
                        show_byte(w.g1),
                        if warnings.len() > 1 {
                            format!(" (and {} more)", warnings.len() - 1)
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
        }
    }
}

/// The offset of the first escape sequence that does not designate a known set.
fn bad_escape(text: &[u8]) -> Option<usize> {
    use crate::marc8::tables::is_charset;
    let mut i = 0;
    while let Some(found) = text[i..].iter().position(|&b| b == ESC) {
        let at = i + found;
        let final_at = match text.get(at + 1) {
            Some(b'$') if text.get(at + 2) == Some(&b',') => at + 3,
            Some(b'(' | b',' | b'$' | b')' | b'-') => at + 2,
            Some(&b) if is_charset(b) || b == b's' => at + 1,
            _ => return Some(at),
        };
        match text.get(final_at) {
            Some(&f) if is_charset(f) || (final_at == at + 1 && f == b's') => i = final_at + 1,
            _ => return Some(at),
        }
    }
    None
}

/// Check a record read from MARCXML, MARC-in-JSON or .mrk text (no byte offsets).
pub fn check_record(rec: &Record) -> Vec<Problem> {
    let mut out = Vec::new();
    check_leader(rec.leader().as_bytes(), &mut out);
    for p in &mut out {
        p.offset = None;
    }
    for f in rec.fields() {
        let tag = f.tag().to_string();
        let control_in = |s: &str| s.chars().find(|&c| c < ' ' || c == '\u{7F}');
        if let Some(data) = f.data() {
            if let Some(c) = control_in(data) {
                out.push(problem(
                    None,
                    &tag,
                    format!("control character {} in the data", show_char(c)),
                ));
            }
            continue;
        }
        for (i, ind) in f.indicators().into_iter().enumerate() {
            if !(ind.is_ascii() && is_marc21_indicator(ind as u8)) {
                out.push(problem(
                    None,
                    &tag,
                    format!(
                        "indicator {} is {}, not a blank, digit or lowercase letter",
                        i + 1,
                        show_char(ind)
                    ),
                ));
            }
        }
        for sf in f.subfields() {
            if !(sf.code.is_ascii() && is_marc21_code(sf.code as u8)) {
                out.push(problem(
                    None,
                    &tag,
                    format!(
                        "subfield code {} is not a lowercase letter or digit",
                        show_char(sf.code)
                    ),
                ));
            }
            if let Some(c) = control_in(sf.value) {
                out.push(problem(
                    None,
                    format!("{tag}${}", sf.code),
                    format!("control character {} in the data", show_char(c)),
                ));
            }
        }
    }
    if let Err(e) = crate::iso2709::record_to_bytes(rec) {
        out.push(problem(None, "record", e.kind().to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{Field, Subfield, Tag};

    fn raw(leader: &[u8; 24], fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut dir = Vec::new();
        let mut data = Vec::new();
        for (tag, body) in fields {
            let start = data.len();
            data.extend_from_slice(body);
            data.push(FIELD_TERMINATOR);
            dir.extend_from_slice(format!("{tag}{:04}{:05}", body.len() + 1, start).as_bytes());
        }
        dir.push(FIELD_TERMINATOR);
        let base = 24 + dir.len();
        let len = base + data.len() + 1;
        let mut out = leader.to_vec();
        out[..5].copy_from_slice(format!("{len:05}").as_bytes());
        out[12..17].copy_from_slice(format!("{base:05}").as_bytes());
        out.extend(dir);
        out.extend(data);
        out.push(0x1D);
        out
    }

    #[test]
    fn finds_what_breaks_other_systems_with_offsets() {
        let rec = raw(
            b"00000nam a2200000 a 4500",
            &[("001", b"ocm123\x1f"), ("245", b"1A\x1fa Title\x1fB x")],
        );
        let problems = check_iso2709(&rec);
        let base = 24 + 2 * 12 + 1;
        assert!(
            problems.contains(&problem(
                Some(base + 6),
                "001",
                "control character byte 0x1F in the data"
            )),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.field == "245"
                && p.offset == Some((base + 8 + 1) as u64)
                && p.what.starts_with("indicator 2 is 'A'")),
            "{problems:#?}"
        );
        assert!(problems
            .iter()
            .any(|p| p.field == "245" && p.what.starts_with("subfield code 'B'")));
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }

    #[test]
    fn leader_values_and_encodings() {
        let mut leader = *b"00000nam x2200000 a 45\x020";
        let rec = raw(&leader, &[("245", b"00\x1faCaf\xc3\xa9")]);
        let whats: Vec<String> = check_iso2709(&rec).into_iter().map(|p| p.what).collect();
        assert!(
            whats
                .iter()
                .any(|w| w.contains("entry map (20-23): byte 0x02")),
            "{whats:?}"
        );
        assert!(whats.iter().any(|w| w.contains("(09) is 'x'")), "{whats:?}");
        leader[9] = b' ';
        leader[22] = b'0';
        let rec = raw(&leader, &[("245", b"00\x1faCaf\xc3\xa9")]);
        let whats: Vec<String> = check_iso2709(&rec).into_iter().map(|p| p.what).collect();
        assert!(whats.iter().any(|w| w.contains("holds UTF-8")), "{whats:?}");
        let rec = raw(&leader, &[("245", b"00\x1faBad \x1b(")]);
        let whats: Vec<String> = check_iso2709(&rec).into_iter().map(|p| p.what).collect();
        assert!(
            whats.iter().any(|w| w.contains("escape sequence")),
            "{whats:?}"
        );
        let rec = raw(&leader, &[("245", b"00\x1faGood \x1b(NA\x1b(B.")]);
        assert_eq!(check_iso2709(&rec), vec![]);
        let rec = raw(&leader, &[("245", b"00\x1faOdd \xAF")]);
        let whats: Vec<String> = check_iso2709(&rec).into_iter().map(|p| p.what).collect();
        assert!(whats.iter().any(|w| w.contains("not defined")), "{whats:?}");
    }

    #[test]
    fn parsed_records_are_checked_without_offsets() {
        let mut rec = Record::new();
        rec.push(&Field::control(Tag::new("001").unwrap(), "a\u{1f}"));
        rec.push(&Field::data(
            Tag::new("245").unwrap(),
            '1',
            '0',
            vec![Subfield::new('a', "x".repeat(10_000))],
        ));
        let problems = check_record(&rec);
        assert!(problems.iter().any(|p| p.field == "001"));
        assert!(
            problems.iter().any(|p| p.what.contains("too long")),
            "{problems:?}"
        );
        assert!(problems.iter().all(|p| p.offset.is_none()));
    }
}
