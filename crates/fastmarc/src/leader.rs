//! The 24-byte record leader, with a named accessor for every MARC 21 position.

use crate::error::{Error, ErrorKind, Result};
use std::fmt;

/// A leader's length in bytes.
pub const LEADER_LEN: usize = 24;

/// A MARC 21 leader. Always 24 ASCII bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Leader([u8; LEADER_LEN]);

macro_rules! position {
    ($(#[$doc:meta])* $get:ident, $set:ident, $pos:expr) => {
        $(#[$doc])*
        pub fn $get(&self) -> u8 {
            self.0[$pos]
        }
        /// Set this position; the value must be an ASCII byte.
        pub fn $set(&mut self, value: u8) {
            self.0[$pos] = if value.is_ascii() { value } else { b' ' };
        }
    };
}

impl Leader {
    /// A leader from 24 ASCII bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != LEADER_LEN || !bytes.is_ascii() {
            return Err(Error::new(ErrorKind::LeaderInvalid));
        }
        let mut b = [0u8; LEADER_LEN];
        b.copy_from_slice(bytes);
        Ok(Leader(b))
    }

    /// The 24 bytes.
    pub fn as_bytes(&self) -> &[u8; LEADER_LEN] {
        &self.0
    }

    /// The leader as text (it is always ASCII).
    pub fn as_str(&self) -> &str {
        // Invariant: always ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Set any position (0-23) to an ASCII byte.
    pub fn set(&mut self, pos: usize, value: u8) {
        if pos < LEADER_LEN && value.is_ascii() {
            self.0[pos] = value;
        }
    }

    fn number(&self, from: usize, len: usize) -> Option<usize> {
        parse_digits(&self.0[from..from + len])
    }

    /// The last `len` decimal digits of `value`, zero-padded, at `from`. Written digit by
    /// digit: the writer sets two numbers per record, and `format!` is costly next to the
    /// rest of `as_marc()`.
    fn set_number(&mut self, from: usize, len: usize, mut value: usize) {
        for b in self.0[from..from + len].iter_mut().rev() {
            *b = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }

    /// 00-04: record length, if the five bytes are digits.
    pub fn record_length(&self) -> Option<usize> {
        self.number(0, 5)
    }
    /// Set 00-04 (values over 99,999 keep only their last five digits; writers check first).
    pub fn set_record_length(&mut self, value: usize) {
        self.set_number(0, 5, value)
    }
    /// 12-16: base address of data, if the five bytes are digits.
    pub fn base_address(&self) -> Option<usize> {
        self.number(12, 5)
    }
    /// Set 12-16, the base address of data, as five digits.
    pub fn set_base_address(&mut self, value: usize) {
        self.set_number(12, 5, value)
    }

    position!(/// 05: record status (a, c, d, n, p).
        record_status, set_record_status, 5);
    position!(/// 06: type of record (a language material, c notated music, …).
        type_of_record, set_type_of_record, 6);
    position!(/// 07: bibliographic level (m monograph, s serial, …).
        bibliographic_level, set_bibliographic_level, 7);
    position!(/// 08: type of control (blank, a archival).
        type_of_control, set_type_of_control, 8);
    position!(/// 09: character coding scheme (blank MARC-8, a UCS/Unicode).
        character_coding_scheme, set_character_coding_scheme, 9);
    position!(/// 10: indicator count (2).
        indicator_count, set_indicator_count, 10);
    position!(/// 11: subfield code count (2).
        subfield_code_count, set_subfield_code_count, 11);
    position!(/// 17: encoding level.
        encoding_level, set_encoding_level, 17);
    position!(/// 18: descriptive cataloguing form.
        descriptive_cataloging_form, set_descriptive_cataloging_form, 18);
    position!(/// 19: multipart resource record level.
        multipart_level, set_multipart_level, 19);
    position!(/// 20: length of the length-of-field portion of a directory entry (4).
        length_of_field_length, set_length_of_field_length, 20);
    position!(/// 21: length of the starting-character-position portion (5).
        length_of_starting_position, set_length_of_starting_position, 21);
    position!(/// 22: length of the implementation-defined portion (0).
        length_of_implementation_defined, set_length_of_implementation_defined, 22);
    position!(/// 23: undefined entry map position (0).
        entry_map_undefined, set_entry_map_undefined, 23);

    /// 20-23 together: the entry map (normally `4500`).
    pub fn entry_map(&self) -> &str {
        &self.as_str()[20..24]
    }

    /// True when leader/09 says the record is UTF-8.
    pub fn is_unicode(&self) -> bool {
        self.0[9] == b'a'
    }
}

impl Default for Leader {
    /// A blank leader with the fixed MARC 21 values (indicator count, subfield code count, entry map).
    fn default() -> Self {
        let mut b = [b' '; LEADER_LEN];
        b[0..5].copy_from_slice(b"00000");
        b[10..12].copy_from_slice(b"22");
        b[12..17].copy_from_slice(b"00000");
        b[20..24].copy_from_slice(b"4500");
        Leader(b)
    }
}

impl fmt::Display for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Leader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Leader({:?})", self.as_str())
    }
}

/// Parse a short run of ASCII digits; `None` if any byte is not a digit or the run is empty.
/// Python's `int()` of ASCII text, as pymarc reads lengths and addresses: white space
/// around, an optional sign, digits with single underscores between them. The same for
/// `bytes` and for `str`: `int()` takes 0x1C-0x1F for white space in neither, though
/// `str.strip()` does.
pub(crate) fn python_int(bytes: &[u8]) -> Option<i64> {
    // Plain digits, what every well-formed record has, without the general rules below
    // (lenient reading calls this for every record's length and base address).
    if bytes.len() <= 18 {
        if let Some(n) = parse_digits(bytes) {
            return Some(n as i64);
        }
    }
    let space = |b: &u8| matches!(b, b' ' | b'\t'..=b'\r');
    let start = bytes.iter().position(|b| !space(b))?;
    let end = bytes.iter().rposition(|b| !space(b))? + 1;
    let mut text = &bytes[start..end];
    let negative = match text.first() {
        Some(b'-') => true,
        Some(b'+') => false,
        _ => {
            return python_digits(text);
        }
    };
    text = &text[1..];
    python_digits(text).map(|n| if negative { -n } else { n })
}

/// Digits with single underscores between them (no sign, no spaces).
fn python_digits(text: &[u8]) -> Option<i64> {
    let mut n: i64 = 0;
    let mut last_was_digit = false;
    for &b in text {
        match b {
            b'0'..=b'9' => {
                n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
                last_was_digit = true;
            }
            b'_' if last_was_digit => last_was_digit = false,
            _ => return None,
        }
    }
    // Empty, or ending in an underscore, is not a number.
    last_was_digit.then_some(n)
}

pub(crate) fn parse_digits(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() {
        return None;
    }
    let mut n: usize = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (b - b'0') as usize;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn python_int_follows_python() {
        use super::python_int;
        // What CPython's int() gives for the same bytes (checked against Python 3.11).
        let cases: &[(&[u8], Option<i64>)] = &[
            (b" 0154", Some(154)),
            (b"\x0b5", Some(5)),
            (b"00_61", Some(61)),
            (b"-0061", Some(-61)),
            (b"+5", Some(5)),
            (b"\t5\n", Some(5)),
            (b"5_", None),
            (b"_5", None),
            (b"5__1", None),
            (b"\x1c5", None),
            (b"\x855", None),
            (b"", None),
            (b"  ", None),
            (b"-", None),
            (b"1 2", None),
        ];
        for (text, want) in cases {
            assert_eq!(python_int(text), *want, "{text:?}");
        }
        assert_eq!(python_int(b"\x1c5\x1f"), None);
    }

    use super::*;

    #[test]
    fn accessors_read_and_write_positions() {
        let mut l = Leader::from_bytes(b"01234cam a2200301 a 4500").unwrap();
        assert_eq!(l.record_length(), Some(1234));
        assert_eq!(l.record_status(), b'c');
        assert_eq!(l.type_of_record(), b'a');
        assert_eq!(l.bibliographic_level(), b'm');
        assert_eq!(l.type_of_control(), b' ');
        assert_eq!(l.character_coding_scheme(), b'a');
        assert!(l.is_unicode());
        assert_eq!(l.indicator_count(), b'2');
        assert_eq!(l.subfield_code_count(), b'2');
        assert_eq!(l.base_address(), Some(301));
        assert_eq!(l.encoding_level(), b' ');
        assert_eq!(l.descriptive_cataloging_form(), b'a');
        assert_eq!(l.multipart_level(), b' ');
        assert_eq!(l.entry_map(), "4500");
        l.set_record_length(99999);
        l.set_base_address(25);
        l.set_record_status(b'n');
        l.set_character_coding_scheme(b' ');
        assert_eq!(l.as_str(), "99999nam  2200025 a 4500");
        // Zero-padded; a value past five digits keeps its last five (writers check first).
        l.set_record_length(7);
        l.set_base_address(123_456);
        assert_eq!(l.as_str(), "00007nam  2223456 a 4500");
        l.set_record_length(0);
        assert_eq!(l.record_length(), Some(0));
    }

    #[test]
    fn rejects_wrong_length_and_non_ascii() {
        assert!(Leader::from_bytes(b"short").is_err());
        assert!(Leader::from_bytes("01234cam a2200301 a 450é".as_bytes()).is_err());
    }

    #[test]
    fn non_digit_lengths_are_none() {
        let l = Leader::from_bytes(b"0123xcam a22003x1 a 4500").unwrap();
        assert_eq!(l.record_length(), None);
        assert_eq!(l.base_address(), None);
    }
}
