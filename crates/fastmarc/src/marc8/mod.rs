//! MARC-8 to Unicode, with exactly the results of pymarc 5.4.0's `marc8_to_unicode`, and
//! Unicode to MARC-8 ([`encode_marc8_into`], [`record_to_marc8`]).
//!
//! MARC-8 is the pre-Unicode character encoding of MARC 21 records (leader position 09
//! blank). Escape sequences switch the working sets G0 (bytes 0x21..=0x7E) and G1 (bytes
//! 0xA1..=0xFE) between the Library of Congress code tables; East Asian text (EACC) uses
//! three bytes a character; diacritics are sent *before* the letter they go on.
//!
//! [`decode_marc8_into`] reproduces pymarc's decoder byte for byte, quirks included:
//!
//! - each call starts with G0 = basic Latin and G1 = ANSEL (pymarc decodes every
//!   subfield on its own);
//! - `ESC ( F`, `ESC , F`, `ESC $ F` and `ESC $ , F` set G0 to `F`; `ESC ) F`, `ESC - F`
//!   set G1 to `F`, whatever `F` is (a set without a table maps nothing);
//! - `ESC F` with `F` the final byte of a known set sets G0, `ESC s` resets G0 to basic
//!   Latin; in both cases the byte after the escape is decoded as a character even if it
//!   is another `ESC`. An `ESC` followed by anything else is decoded as an ordinary byte
//!   (a dropped control code, or the first byte of an EACC character);
//! - a G0 escape with too few bytes left keeps the `ESC` in the output;
//! - control codes (below 0x20, and 0x81..=0x9F) are dropped; 0x80 and 0x7F are looked up
//!   (and are unmapped);
//! - bytes above 0x80 are looked up in G1, everything else in G0; when G0 is EACC, the
//!   input is read three bytes at a time, all looked up in G0 (a cut-short last character
//!   reads as 0x20, which EACC does not map: a space and a warning); a few extra
//!   three-byte codes outside the LC tables are accepted too;
//! - unmapped codes become a space and a [`Marc8Warning`];
//! - combining marks are held until the next base character and put after it; marks left
//!   at the end are dropped;
//! - the result is NFC-normalised.
//!
//! Inputs that make pymarc raise `UnicodeDecodeError` (escape sequences cut short at the
//! end of the string) give a [`Marc8Error`].
//!
//! Readers decode MARC-8 records themselves (see [`crate::iso2709::Decoding`]); the
//! functions here decode a single string:
//!
//! ```
//! use fastmarc::marc8::{decode_marc8_into, marc8_to_unicode};
//!
//! // 0xE2 is ANSEL's combining acute accent, sent before its letter.
//! assert_eq!(marc8_to_unicode(b"Caf\xE2e")?, "Café");
//!
//! // ESC ( N switches G0 to basic Cyrillic (where "MIR" is lower case), ESC ( B back to ASCII.
//! assert_eq!(marc8_to_unicode(b"\x1B(NMIR\x1B(B 1")?, "мир 1");
//!
//! // An unmapped code becomes a space and a warning, as in pymarc.
//! let (mut text, mut warnings) = (String::new(), Vec::new());
//! decode_marc8_into(b"a\xA0b", &mut text, &mut warnings)?;
//! assert_eq!(text, "a b");
//! assert_eq!(warnings.len(), 1);
//! # Ok::<(), fastmarc::marc8::Marc8Error>(())
//! ```

mod decode;
mod encode;
pub(crate) mod tables;

pub use decode::{decode_marc8_into, marc8_to_unicode, Marc8Decoder};
pub use encode::{
    encode_marc8_into, record_to_marc8, unicode_to_marc8, Unrepresentable, UnrepresentableIn,
};

use std::fmt;

/// A character that has no mapping: pymarc prints a warning and emits a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marc8Warning {
    /// Offset of the character's first byte in the decoded input.
    pub byte_offset: usize,
    /// The code: one byte, or three bytes (`b1 << 16 | b2 << 8 | b3`) in EACC.
    pub code_point: u32,
    /// Final byte of the G0 set in effect.
    pub g0: u8,
    /// Final byte of the G1 set in effect.
    pub g1: u8,
    /// The input's length, when this is an EACC character cut short by the end of the
    /// input: pymarc then says so first, quiet or not (see [`Marc8Warning::overrun`]).
    pub cut_short_input_len: Option<usize>,
}

impl Marc8Warning {
    /// The line pymarc writes to stderr, even when quiet, before reading an EACC
    /// character cut short by the end of the input as a space.
    pub fn overrun(&self) -> Option<String> {
        self.cut_short_input_len.map(|len| {
            format!(
                "Multi-byte position {} exceeds length of marc8 string {len}",
                self.byte_offset + 3
            )
        })
    }
}

impl fmt::Display for Marc8Warning {
    /// The line pymarc writes to stderr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unable to parse character 0x{:x} in g0={} g1={}",
            self.code_point, self.g0, self.g1
        )
    }
}

/// The input cannot be decoded (pymarc raises UnicodeDecodeError "invalid multibyte
/// character encoding"). This happens when an escape sequence is cut short by the end of
/// the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marc8Error {
    /// Offset of the `ESC` that starts the incomplete escape sequence.
    pub byte_offset: usize,
}

impl fmt::Display for Marc8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid multibyte character encoding (MARC-8 escape sequence cut short at byte {})",
            self.byte_offset
        )
    }
}

impl std::error::Error for Marc8Error {}
