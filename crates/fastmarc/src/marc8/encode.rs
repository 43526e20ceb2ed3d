//! Unicode to MARC-8, for systems that still require it.
//!
//! Each string (a subfield, a control field) starts and ends with G0 = basic Latin and
//! G1 = ANSEL, as readers (pymarc, this crate's decoder) expect. Other sets are designated
//! where a character needs them, with the Library of Congress escape sequences: `ESC ( F`
//! for a G0 set, `ESC ) F` for G1, `ESC $ 1` for East Asian (EACC), and `ESC b`, `ESC p`,
//! `ESC g` for subscripts, superscripts and Greek symbols (left with `ESC s`). A character
//! the current sets hold is written without an escape.
//!
//! Combining marks go before their base character, as MARC-8 sends them; a precomposed
//! character with no code of its own is written as its canonical decomposition. A
//! character MARC-8 cannot represent is written as the LC-documented numeric character
//! reference `&#xXXXX;` (hexadecimal Unicode value, in ASCII) and reported. Decoding the
//! result gives back the input's NFC form, apart from those references.

use super::tables::{self, CHAR_MASK, COMBINING, UNMAPPED};
use crate::record::{Record, TextEncoding};
use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};

const ESC: u8 = 0x1B;

/// A character MARC-8 cannot represent, written as `&#xXXXX;` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrepresentable {
    /// The character.
    pub ch: char,
    /// Its position in the encoded string, counted in characters from 0.
    pub position: usize,
}

/// Where a character is in MARC-8: a character set (its final byte) and the code in it
/// (one byte, or three for EACC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Code {
    set: u8,
    code: u32,
    combining: bool,
}

/// Sets in the order they are preferred when a character is in several and none of them
/// is designated: one-byte sets before EACC, Latin first.
const PREFERENCE: [u8; 12] = [
    tables::BASIC_LATIN,
    tables::ANSEL,
    tables::BASIC_CYRILLIC,
    tables::EXTENDED_CYRILLIC,
    tables::BASIC_GREEK,
    tables::BASIC_HEBREW,
    tables::BASIC_ARABIC,
    tables::EXTENDED_ARABIC,
    tables::GREEK_SYMBOLS,
    tables::SUBSCRIPTS,
    tables::SUPERSCRIPTS,
    tables::EACC,
];

/// Every character's codes, most preferred first.
fn codes() -> &'static HashMap<char, Vec<Code>> {
    static CODES: OnceLock<HashMap<char, Vec<Code>>> = OnceLock::new();
    CODES.get_or_init(|| {
        let mut map: HashMap<char, Vec<Code>> = HashMap::new();
        let mut add = |set: u8, code: u32, entry: u32| {
            if entry == UNMAPPED {
                return;
            }
            if let Some(c) = char::from_u32(entry & CHAR_MASK) {
                map.entry(c).or_default().push(Code {
                    set,
                    code,
                    combining: entry & COMBINING != 0,
                });
            }
        };
        for set in PREFERENCE {
            if set == tables::EACC {
                for (code, entry) in tables::eacc_codes() {
                    add(set, code, entry);
                }
                continue;
            }
            for (b, &entry) in tables::single_byte(set).iter().enumerate() {
                // Codes a reader drops as control codes cannot carry a character.
                if b > 0x20 && !(0x7F..0xA1).contains(&b) {
                    add(set, b as u32, entry);
                }
            }
        }
        map
    })
}

/// The working sets while encoding one string.
struct WorkingSets {
    g0: u8,
    g1: u8,
}

impl WorkingSets {
    fn new() -> Self {
        WorkingSets {
            g0: tables::BASIC_LATIN,
            g1: tables::ANSEL,
        }
    }

    /// Whether the designated sets hold `code` as it is.
    fn holds(&self, code: &Code) -> bool {
        if code.set == tables::EACC || code.code < 0x80 {
            self.g0 == code.set
        } else {
            self.g1 == code.set
        }
    }

    fn designate(&mut self, code: &Code, out: &mut Vec<u8>) {
        if self.holds(code) {
            return;
        }
        let set = code.set;
        if set == tables::EACC {
            out.extend_from_slice(&[ESC, b'$', set]);
            self.g0 = set;
        } else if code.code >= 0x80 {
            out.extend_from_slice(&[ESC, b')', set]);
            self.g1 = set;
        } else {
            self.set_g0(set, out);
        }
    }

    fn set_g0(&mut self, set: u8, out: &mut Vec<u8>) {
        if self.g0 == set {
            return;
        }
        match set {
            tables::SUBSCRIPTS | tables::SUPERSCRIPTS | tables::GREEK_SYMBOLS => {
                out.extend_from_slice(&[ESC, set])
            }
            tables::BASIC_LATIN if is_two_byte_set(self.g0) => out.extend_from_slice(b"\x1Bs"),
            _ => out.extend_from_slice(&[ESC, b'(', set]),
        }
        self.g0 = set;
    }

    /// Back to the default sets at the end of a string.
    fn reset(&mut self, out: &mut Vec<u8>) {
        self.set_g0(tables::BASIC_LATIN, out);
        if self.g1 != tables::ANSEL {
            out.extend_from_slice(&[ESC, b')', tables::ANSEL]);
            self.g1 = tables::ANSEL;
        }
    }

    fn push(&mut self, code: &Code, out: &mut Vec<u8>) {
        self.designate(code, out);
        if code.set == tables::EACC {
            out.extend_from_slice(&[
                (code.code >> 16) as u8,
                (code.code >> 8) as u8,
                code.code as u8,
            ]);
        } else {
            out.push(code.code as u8);
        }
    }
}

/// Sets designated with the two-byte `ESC F` form, left with `ESC s`.
fn is_two_byte_set(set: u8) -> bool {
    matches!(
        set,
        tables::SUBSCRIPTS | tables::SUPERSCRIPTS | tables::GREEK_SYMBOLS
    )
}

/// The code to write `c` with: one the designated sets hold, else the most preferred.
fn choose<'a>(state: &WorkingSets, codes: &'a [Code]) -> &'a Code {
    codes.iter().find(|c| state.holds(c)).unwrap_or(&codes[0])
}

fn is_mark(c: char) -> bool {
    canonical_combining_class(c) != 0
}

/// Encode `text` as MARC-8, appending to `out`; characters MARC-8 cannot represent are
/// written as `&#xXXXX;` and pushed to `unrepresentable`.
pub fn encode_marc8_into(
    text: &str,
    out: &mut Vec<u8>,
    unrepresentable: &mut Vec<Unrepresentable>,
) {
    // Printable ASCII is itself in the default G0.
    if text.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let map = codes();
    let mut state = WorkingSets::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    // A base character, then the marks on it: the marks are written first.
    let mut parts: Vec<char> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        if (' '..='~').contains(&c) && !chars.get(i).is_some_and(|&m| is_mark(m)) {
            state.set_g0(tables::BASIC_LATIN, out);
            out.push(c as u8);
            continue;
        }
        parts.clear();
        if map.contains_key(&c) || is_mark(c) {
            parts.push(c);
        } else {
            decompose_canonical(c, |d| parts.push(d));
        }
        let own = parts.len();
        while i < chars.len() && is_mark(chars[i]) {
            parts.push(chars[i]);
            i += 1;
        }
        let base = parts[0];
        let base_codes = if is_mark(base) { None } else { map.get(&base) };
        let Some(base_codes) = base_codes else {
            // Nothing MARC-8 has to carry the marks: the character as given, and each
            // following mark, as references.
            reference(c, start, &mut state, out, unrepresentable);
            for (j, &m) in parts[own..].iter().enumerate() {
                reference(m, start + 1 + j, &mut state, out, unrepresentable);
            }
            continue;
        };
        // Marks first (those MARC-8 has), then the base, then references for the rest.
        let mut missing: Vec<char> = Vec::new();
        for &m in &parts[1..] {
            match map.get(&m) {
                Some(m_codes) => {
                    let code = *choose(&state, m_codes);
                    state.push(&code, out);
                }
                None => missing.push(m),
            }
        }
        let code = *choose(&state, base_codes);
        state.push(&code, out);
        for m in missing {
            reference(m, start, &mut state, out, unrepresentable);
        }
    }
    state.reset(out);
}

/// `&#xXXXX;` for a character MARC-8 cannot represent.
fn reference(
    c: char,
    position: usize,
    state: &mut WorkingSets,
    out: &mut Vec<u8>,
    unrepresentable: &mut Vec<Unrepresentable>,
) {
    state.set_g0(tables::BASIC_LATIN, out);
    out.extend_from_slice(format!("&#x{:04X};", u32::from(c)).as_bytes());
    unrepresentable.push(Unrepresentable { ch: c, position });
}

/// `text` in MARC-8, ignoring what could not be represented (written as `&#xXXXX;`).
pub fn unicode_to_marc8(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    encode_marc8_into(text, &mut out, &mut Vec::new());
    out
}

/// A character of a record that MARC-8 cannot represent: the field (`001`, `245$a`)
/// and the character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnrepresentableIn {
    /// Where: the tag, or the tag and subfield code (`245$a`).
    pub place: String,
    /// The character.
    pub ch: char,
    /// Its position in that value, counted in characters from 0.
    pub position: usize,
}

impl std::fmt::Display for UnrepresentableIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: character U+{:04X} at position {} has no MARC-8 code; written as &#x{:04X};",
            self.place,
            u32::from(self.ch),
            self.position,
            u32::from(self.ch)
        )
    }
}

/// `rec` with its text in MARC-8 and leader/09 blank, as a raw record (see
/// [`TextEncoding::Raw`]) the ISO 2709 writer writes byte for byte; with what could not be
/// represented. A record that is raw already is copied with leader/09 blank.
pub fn record_to_marc8(rec: &Record) -> (Record, Vec<UnrepresentableIn>) {
    let mut leader = *rec.leader();
    leader.set_character_coding_scheme(b' ');
    let mut out = Record::with_leader(leader);
    out.set_encoding(TextEncoding::Raw);
    let mut problems = Vec::new();
    let mut bytes = Vec::new();
    let mut latin1 = String::new();
    let mut missing = Vec::new();
    let raw = rec.encoding() == TextEncoding::Raw;
    let mut encode = |s: &str, place: &dyn Fn() -> String| -> String {
        if raw || s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
            return s.to_owned();
        }
        bytes.clear();
        missing.clear();
        encode_marc8_into(s, &mut bytes, &mut missing);
        for m in &missing {
            problems.push(UnrepresentableIn {
                place: place(),
                ch: m.ch,
                position: m.position,
            });
        }
        latin1.clear();
        latin1.extend(bytes.iter().map(|&b| char::from(b)));
        latin1.clone()
    };
    for field in rec.fields() {
        let tag = field.tag();
        if let Some(data) = field.data() {
            let text = encode(data, &|| tag.to_string());
            out.push_control(tag, &text);
            continue;
        }
        let [i1, i2] = field.indicators();
        out.start_data_field(tag, i1, i2);
        for sf in field.subfields() {
            let text = encode(sf.value, &|| format!("{tag}${}", sf.code));
            out.push_subfield(sf.code, &text);
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::super::marc8_to_unicode;
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn round_trip(s: &str) -> (Vec<u8>, String) {
        let bytes = unicode_to_marc8(s);
        let back = marc8_to_unicode(&bytes).unwrap();
        (bytes, back)
    }

    #[test]
    fn ascii_is_itself() {
        assert_eq!(unicode_to_marc8("Plain text 123"), b"Plain text 123");
    }

    #[test]
    fn diacritics_go_before_their_letter() {
        let (bytes, back) = round_trip("café Ünder");
        // ANSEL acute (0xE2) before e, umlaut (0xE8) before U.
        assert_eq!(bytes, b"caf\xE2e \xE8Under");
        assert_eq!(back, "café Ünder");
    }

    #[test]
    fn other_scripts_are_designated_and_reset() {
        for s in [
            "Война и мир",
            "Ἰλιάς",
            "שלום עולם",
            "كتاب",
            "中文 書名",
            "H₂O and x²",
            "mixed: Ж, ß? ø, Đ, ł",
        ] {
            let (bytes, back) = round_trip(s);
            assert_eq!(back, s.nfc().collect::<String>(), "{s:?} -> {bytes:x?}");
            assert!(!bytes.iter().any(|&b| b > 0x7F && b < 0xA1), "{bytes:x?}");
        }
    }

    #[test]
    fn unrepresentable_characters_become_references() {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        encode_marc8_into("a😀b", &mut out, &mut missing);
        assert_eq!(out, b"a&#x1F600;b");
        assert_eq!(
            missing,
            vec![Unrepresentable {
                ch: '😀',
                position: 1
            }]
        );
    }
}
