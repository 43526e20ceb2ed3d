//! The MARC-8 decoder. See the module documentation of [`crate::marc8`] for the rules.

use super::tables::{self, CHAR_MASK, COMBINING, NFC_BOUNDARY, UNMAPPED};
use super::{Marc8Error, Marc8Warning};
use std::cell::RefCell;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

const ESC: u8 = 0x1B;

/// Decode one MARC-8 string (pymarc decodes each subfield separately with fresh
/// G0=basic latin, G1=ANSEL state).
/// Appends the NFC-normalised text to `out`, pushes warnings for unmapped characters.
///
/// # Errors
///
/// [`Marc8Error`] for the inputs pymarc rejects: an escape sequence cut short by the
/// end of the input. `out` is then left as it was; warnings for characters before the
/// bad escape sequence stay in `warnings` (pymarc has printed them by then too).
pub fn decode_marc8_into(
    input: &[u8],
    out: &mut String,
    warnings: &mut Vec<Marc8Warning>,
) -> Result<(), Marc8Error> {
    Marc8Decoder::default().decode_into(input, out, warnings)
}

/// A MARC-8 decoder that keeps the character sets in force (G0, G1: the final bytes of
/// their designations) from one call to the next, as pymarc's `MARC8ToUnicode` object
/// does: what one string designates applies to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marc8Decoder {
    /// The final byte of the set designated as G0 (the graphic left half).
    pub g0: u8,
    /// The final byte of the set designated as G1 (the graphic right half).
    pub g1: u8,
}

impl Default for Marc8Decoder {
    /// Basic Latin in G0, ANSEL in G1.
    fn default() -> Self {
        Marc8Decoder {
            g0: tables::BASIC_LATIN,
            g1: tables::ANSEL,
        }
    }
}

impl Marc8Decoder {
    /// Decode `input` from the sets in force, as [`decode_marc8_into`] does from the
    /// default ones; afterwards the sets are those `input` left designated.
    ///
    /// # Errors
    ///
    /// As [`decode_marc8_into`]; the sets are then unchanged.
    pub fn decode_into(
        &mut self,
        input: &[u8],
        out: &mut String,
        warnings: &mut Vec<Marc8Warning>,
    ) -> Result<(), Marc8Error> {
        // Printable ASCII in basic Latin maps to itself: copy it.
        if self.g0 == tables::BASIC_LATIN && is_printable_ascii(input) {
            out.push_str(ascii_str(input));
            return Ok(());
        }
        let start = out.len();
        let mut sets = *self;
        match translate(input, out, warnings, &mut sets) {
            Ok(Normalised::Yes) => {}
            Ok(Normalised::Maybe) => normalize_nfc_from(out, start),
            Err(e) => {
                out.truncate(start);
                return Err(e);
            }
        }
        *self = sets;
        Ok(())
    }
}

/// Convenience: decode to a new String, ignoring warnings.
///
/// # Errors
///
/// As [`decode_marc8_into`].
pub fn marc8_to_unicode(input: &[u8]) -> Result<String, Marc8Error> {
    let mut out = String::with_capacity(input.len());
    let mut warnings = Vec::new();
    decode_marc8_into(input, &mut out, &mut warnings)?;
    Ok(out)
}

/// Bytes 0x20..=0x7E only (no controls, no ESC, no DEL, nothing high).
fn is_printable_ascii(bytes: &[u8]) -> bool {
    #[inline]
    fn ok(b: u8) -> bool {
        b.wrapping_sub(0x20) < 0x5F
    }
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        // No early exit inside a chunk, so this compiles to vector compares.
        if !chunk.iter().fold(true, |acc, &b| acc & ok(b)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| ok(b))
}

/// Length of the run of printable ASCII at the start of `bytes`.
fn printable_ascii_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|&b| !(0x20..=0x7E).contains(&b))
        .unwrap_or(bytes.len())
}

fn ascii_str(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        // Only called on ASCII.
        Err(_) => unreachable!("ASCII is UTF-8"),
    }
}

/// Codes pymarc drops without looking them up.
fn is_dropped_control(code: u32) -> bool {
    code < 0x20 || (0x81..0xA0).contains(&code)
}

fn entry_char(entry: u32) -> char {
    // The generator only writes Unicode scalar values (checked by the table tests).
    char::from_u32(entry & CHAR_MASK).unwrap_or(' ')
}

/// Whether decoded text may need NFC normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Normalised {
    /// Only [`NFC_BOUNDARY`] characters were written: the text is NFC.
    Yes,
    /// Something else was written (or held and dropped).
    Maybe,
}

/// The output being built, with combining marks held back until their base character.
///
/// Held marks are kept at the end of `out`, from byte `held` on; pymarc keeps them in a
/// separate list. Text pymarc appends straight to its output while marks are held (a kept
/// `ESC`, the extra three-byte codes) waits in `before_held` and goes in front of the
/// marks when they are released or dropped.
struct Sink<'a> {
    out: &'a mut String,
    held: usize,
    before_held: String,
    /// A character that is not an [`NFC_BOUNDARY`] was seen.
    needs_nfc: bool,
}

impl<'a> Sink<'a> {
    fn new(out: &'a mut String) -> Self {
        Sink {
            held: out.len(),
            out,
            before_held: String::new(),
            needs_nfc: false,
        }
    }

    /// Text that does not release held combining marks.
    #[inline]
    fn direct(&mut self, c: char) {
        if self.held == self.out.len() {
            self.out.push(c);
            self.held = self.out.len();
        } else {
            self.before_held.push(c);
        }
    }

    /// A base character: goes before the held marks, which are then released.
    #[inline]
    fn base(&mut self, c: char) {
        if self.held == self.out.len() {
            self.out.push(c);
        } else {
            self.release_with(c);
        }
        self.held = self.out.len();
    }

    #[cold]
    fn release_with(&mut self, c: char) {
        self.before_held.push(c);
        self.out.insert_str(self.held, &self.before_held);
        self.before_held.clear();
    }

    /// A run of base characters that need no lookup.
    fn base_ascii(&mut self, s: &str) {
        let mut chars = s.chars();
        if let Some(first) = chars.next() {
            self.base(first);
            self.out.push_str(chars.as_str());
            self.held = self.out.len();
        }
    }

    fn combining(&mut self, c: char) {
        self.out.push(c);
    }

    #[inline]
    fn entry(&mut self, entry: u32) {
        self.needs_nfc |= entry & NFC_BOUNDARY == 0;
        if entry & COMBINING != 0 {
            self.combining(entry_char(entry));
        } else {
            self.base(entry_char(entry));
        }
    }

    /// Marks still held at the end are dropped.
    fn finish(self) -> Normalised {
        self.out.truncate(self.held);
        self.out.push_str(&self.before_held);
        if self.needs_nfc {
            Normalised::Maybe
        } else {
            Normalised::Yes
        }
    }
}

fn translate(
    input: &[u8],
    out: &mut String,
    warnings: &mut Vec<Marc8Warning>,
    sets: &mut Marc8Decoder,
) -> Result<Normalised, Marc8Error> {
    let n = input.len();
    let mut sink = Sink::new(out);
    let mut g0 = sets.g0;
    let mut g1 = sets.g1;
    let mut t0 = tables::single_byte(g0);
    let mut t1 = tables::single_byte(g1);
    let mut pos = 0;

    while pos < n {
        if input[pos] == ESC {
            let esc = pos;
            let cut_short = Marc8Error { byte_offset: esc };
            match input.get(pos + 1).copied() {
                Some(b'(' | b',' | b'$') => {
                    if n >= pos + 3 {
                        if input[pos + 1] == b'$' && input[pos + 2] == b',' {
                            pos += 1;
                        }
                        g0 = *input.get(pos + 2).ok_or(cut_short)?;
                        t0 = tables::single_byte(g0);
                        pos += 3;
                    } else {
                        // Not enough bytes for the sequence: the ESC is kept.
                        sink.direct('\u{1b}');
                        pos += 1;
                    }
                    continue;
                }
                Some(b')' | b'-') => {
                    g1 = *input.get(pos + 2).ok_or(cut_short)?;
                    t1 = tables::single_byte(g1);
                    pos += 3;
                    continue;
                }
                None => return Err(cut_short),
                Some(final_byte) => {
                    if tables::is_charset(final_byte) {
                        g0 = final_byte;
                        t0 = tables::single_byte(g0);
                        pos += 2;
                    } else if final_byte == b's' {
                        g0 = tables::BASIC_LATIN;
                        t0 = tables::single_byte(g0);
                        pos += 2;
                        if pos == n {
                            break;
                        }
                    }
                    // No `continue`: the byte at `pos` is decoded as a character next,
                    // even when it is an ESC (and for any other final byte, `pos` still
                    // points at this ESC, decoded as a dropped control code).
                }
            }
        }

        if g0 == tables::EACC {
            let at = pos;
            let code = if pos + 3 > n {
                // A cut-short last character reads as a space (looked up like one).
                0x20
            } else {
                u32::from(input[pos]) << 16
                    | u32::from(input[pos + 1]) << 8
                    | u32::from(input[pos + 2])
            };
            pos += 3;
            if is_dropped_control(code) {
                continue;
            }
            let entry = tables::eacc(code);
            if entry != UNMAPPED {
                sink.entry(entry);
            } else if let Some(c) = tables::odd(code) {
                sink.direct(c);
            } else {
                unmapped(&mut sink, warnings, at, code, g0, g1);
                if at + 3 > n {
                    if let Some(w) = warnings.last_mut() {
                        w.cut_short_input_len = Some(n);
                    }
                }
            }
        } else {
            let at = pos;
            // Only reachable past the end right after `ESC F` at the end of the input.
            let b = *input.get(pos).ok_or(Marc8Error {
                byte_offset: pos.saturating_sub(2),
            })?;
            if g0 == tables::BASIC_LATIN && (0x20..=0x7E).contains(&b) {
                // Basic Latin maps printable ASCII to itself; take the whole run.
                let len = printable_ascii_run(&input[pos..]);
                sink.base_ascii(ascii_str(&input[pos..pos + len]));
                pos += len;
                continue;
            }
            pos += 1;
            let code = u32::from(b);
            if is_dropped_control(code) {
                continue;
            }
            let entry = if b > 0x80 {
                t1[usize::from(b)]
            } else {
                t0[usize::from(b)]
            };
            if entry != UNMAPPED {
                sink.entry(entry);
            } else if let Some(c) = tables::odd(code) {
                sink.direct(c);
            } else {
                unmapped(&mut sink, warnings, at, code, g0, g1);
            }
        }
    }
    *sets = Marc8Decoder { g0, g1 };
    Ok(sink.finish())
}

fn unmapped(
    sink: &mut Sink<'_>,
    warnings: &mut Vec<Marc8Warning>,
    byte_offset: usize,
    code_point: u32,
    g0: u8,
    g1: u8,
) {
    warnings.push(Marc8Warning {
        byte_offset,
        code_point,
        g0,
        g1,
        cut_short_input_len: None,
    });
    sink.base(' ');
}

thread_local! {
    static NFC_SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A starter with NFC_Quick_Check=Yes: NFC by itself, and no character before it
/// composes or reorders with it, so NFC can be applied separately to the text before it
/// and the text from it on.
#[inline]
fn is_nfc_boundary(c: char) -> bool {
    // Everything below U+0300 qualifies (checked by a test).
    c < '\u{300}' || is_nfc_boundary_lookup(c)
}

fn is_nfc_boundary_lookup(c: char) -> bool {
    canonical_combining_class(c) == 0 && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// NFC of `base` followed by one `mark`, when that is just the pair's primary
/// composite (or the pair unchanged): `base` has no decomposition, and `mark` is a
/// combining mark without a decomposition. Covers most MARC-8 diacritics.
fn nfc_pair(base: char, mark: char, out: &mut String) -> bool {
    // Nothing below U+00C0 decomposes. The marks in these blocks all have a nonzero
    // combining class and no decomposition, but for the ones listed (checked by a test).
    let simple_mark = matches!(mark, '\u{300}'..='\u{36F}' | '\u{FE20}'..='\u{FE2F}')
        && !matches!(
            mark,
            '\u{340}' | '\u{341}' | '\u{343}' | '\u{344}' | '\u{34F}'
        );
    if base >= '\u{C0}' || !simple_mark {
        return false;
    }
    match unicode_normalization::char::compose(base, mark) {
        Some(c) => out.push(c),
        None => {
            out.push(base);
            out.push(mark);
        }
    }
    true
}

/// Append NFC(`piece`) to `out`.
fn nfc_piece(piece: &str, out: &mut String) {
    let mut chars = piece.chars();
    if let (Some(base), Some(mark), None) = (chars.next(), chars.next(), chars.next()) {
        if nfc_pair(base, mark, out) {
            return;
        }
    }
    out.extend(piece.nfc());
}

/// NFC-normalise `out[start..]` in place.
///
/// The text is cut before every [`is_nfc_boundary`] character; a piece made of one such
/// character is NFC already, the other pieces (a base character and its marks, usually)
/// are normalised on their own.
fn normalize_nfc_from(out: &mut String, start: usize) {
    let tail = &out[start..];
    // Everything up to the piece holding the first character that needs work stays.
    let mut keep = 0;
    let mut first_work = None;
    for (i, c) in tail.char_indices() {
        if is_nfc_boundary(c) {
            keep = i;
        } else {
            first_work = Some(i);
            break;
        }
    }
    if first_work.is_none() {
        return;
    }
    let from = start + keep;
    let run = |scratch: &mut String, out: &mut String| {
        scratch.clear();
        scratch.push_str(&out[from..]);
        out.truncate(from);
        nfc_by_pieces(scratch, out);
    };
    let done = NFC_SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            run(&mut scratch, out);
            true
        }
        Err(_) => false,
    });
    if done != Ok(true) {
        run(&mut String::new(), out);
    }
}

/// Append NFC(`src`) to `out`, normalising only the pieces that need it.
fn nfc_by_pieces(src: &str, out: &mut String) {
    // src[copy_from..piece] is NFC text not yet copied; src[piece..] starts the current
    // piece, which needs normalising when `work` is set.
    let mut copy_from = 0;
    let mut piece = 0;
    let mut work = false;
    for (i, c) in src.char_indices() {
        if is_nfc_boundary(c) {
            if work {
                nfc_piece(&src[piece..i], out);
                copy_from = i;
                work = false;
            }
            piece = i;
        } else if !work {
            out.push_str(&src[copy_from..piece]);
            work = true;
        }
    }
    if work {
        nfc_piece(&src[piece..], out);
    } else {
        out.push_str(&src[copy_from..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::char::canonical_combining_class;

    #[test]
    fn a_decoder_keeps_the_sets_a_string_leaves_designated() {
        let mut d = Marc8Decoder::default();
        let mut out = String::new();
        let mut warnings = Vec::new();
        // ESC ( 2: Hebrew in G0, still in force for the next string.
        d.decode_into(b"a\x1b(2", &mut out, &mut warnings).unwrap();
        assert_eq!((d.g0, d.g1), (b'2', tables::ANSEL));
        let mut hebrew = String::new();
        d.decode_into(b"`", &mut hebrew, &mut warnings).unwrap();
        let mut fresh = String::new();
        decode_marc8_into(b"\x1b(2`", &mut fresh, &mut warnings).unwrap();
        assert_eq!(hebrew, fresh);
        assert_ne!(hebrew, "`");
        // An error leaves the sets as they were.
        assert!(d.decode_into(b"\x1b)", &mut out, &mut warnings).is_err());
        assert_eq!((d.g0, d.g1), (b'2', tables::ANSEL));
        // ESC s: back to basic Latin.
        d.decode_into(b"\x1bsx", &mut out, &mut warnings).unwrap();
        assert_eq!(d, Marc8Decoder::default());
    }

    #[test]
    fn below_u0300_is_always_nfc() {
        // Justifies the shortcut in is_nfc_boundary.
        for c in (0..0x300u32).filter_map(char::from_u32) {
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
        }
    }

    #[test]
    fn basic_latin_maps_printable_ascii_to_itself() {
        // Justifies both ASCII fast paths.
        let t = tables::single_byte(tables::BASIC_LATIN);
        for b in 0x20..=0x7Eu8 {
            assert_eq!(
                t[usize::from(b)],
                u32::from(b) | NFC_BOUNDARY,
                "byte {b:#x}"
            );
        }
    }

    #[test]
    fn printable_ascii_check() {
        let mut v: Vec<u8> = (0x20..=0x7E).cycle().take(100).collect();
        assert!(is_printable_ascii(&v));
        assert!(is_printable_ascii(b""));
        for bad in [0x1Fu8, 0x7F, 0x80, 0x1B, 0xFF, 0x00] {
            for i in [0, 31, 32, 63, 99] {
                let old = v[i];
                v[i] = bad;
                assert!(!is_printable_ascii(&v), "{bad:#x} at {i}");
                v[i] = old;
            }
        }
    }

    fn check_entry(e: u32) {
        assert_ne!(e, UNMAPPED);
        assert_eq!(e & !(CHAR_MASK | COMBINING | NFC_BOUNDARY), 0, "{e:#x}");
        let c = char::from_u32(e & CHAR_MASK).unwrap_or_else(|| panic!("{e:#x}"));
        assert_ne!(c, '\0');
        if e & NFC_BOUNDARY != 0 {
            // The flag lets the decoder skip normalisation: it must agree with the
            // normalisation crate's data.
            assert!(is_nfc_boundary(c), "{c:?} flagged as NFC boundary");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        }
    }

    #[test]
    fn table_entries_are_sound() {
        let mut mapped = 0;
        for &f in &tables::CHARSETS {
            for &e in tables::single_byte(f).iter() {
                if e != UNMAPPED {
                    check_entry(e);
                    mapped += 1;
                }
            }
        }
        assert!(mapped > 500, "{mapped}");
        let eacc: Vec<(u32, u32)> = tables::eacc_codes().collect();
        assert!(eacc.len() > 15_000, "{}", eacc.len());
        for (i, &(code, e)) in eacc.iter().enumerate() {
            assert!(code > 0xFF && code <= 0xFF_FFFF);
            check_entry(e);
            assert_eq!(tables::eacc(code), e);
            // Codes between two listed ones are unmapped.
            let next = eacc.get(i + 1).map_or(0x100_0000, |&(k, _)| k);
            assert!(next > code);
            if code + 1 < next {
                assert_eq!(tables::eacc(code + 1), UNMAPPED);
                assert_eq!(tables::eacc(next - 1), UNMAPPED);
            }
        }
        assert_eq!(tables::eacc(0x20), UNMAPPED);
        assert_eq!(tables::eacc(eacc[0].0 - 1), UNMAPPED);
        for code in [0x21203D, 0x212040, 0x7F2014, 0x7F2019, 0x7F2020, 0x7F2122] {
            let c = tables::odd(code).unwrap();
            assert!(is_nfc_boundary(c), "{c:?}");
            assert_eq!(tables::eacc(code), UNMAPPED);
        }
    }

    #[test]
    fn piecewise_nfc_equals_whole_string_nfc() {
        // Every character the tables can produce, plus a few awkward extras (Hangul jamo
        // and syllables, a decomposing starter, characters with several marks).
        let mut chars: Vec<char> = Vec::new();
        for &f in &tables::CHARSETS {
            chars.extend(
                tables::single_byte(f)
                    .iter()
                    .filter(|&&e| e != UNMAPPED)
                    .map(|&e| entry_char(e)),
            );
        }
        chars.extend(tables::eacc_codes().step_by(7).map(|(_, e)| entry_char(e)));
        chars.extend(
            tables::eacc_codes()
                .map(|(_, e)| entry_char(e))
                .filter(|&c| !is_nfc_boundary(c) || ('\u{AC00}'..='\u{D7A3}').contains(&c)),
        );
        chars.extend(
            "\u{1100}\u{1161}\u{11A8}\u{AC00}\u{1EA5}\u{1EDA}\u{1A0}\u{31B}\u{345}\u{3B9}\u{F9AD}e"
                .chars(),
        );
        // Weight the marks so clusters are common.
        let marks: Vec<char> = chars
            .iter()
            .copied()
            .filter(|&c| canonical_combining_class(c) != 0)
            .collect();
        assert!(marks.len() > 20);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let len = next(12);
            let s: String = (0..len)
                .map(|_| {
                    if next(3) == 0 {
                        marks[next(marks.len())]
                    } else {
                        chars[next(chars.len())]
                    }
                })
                .collect();
            let whole: String = s.nfc().collect();
            let mut pieces = String::new();
            nfc_by_pieces(&s, &mut pieces);
            assert_eq!(pieces, whole, "{s:?}");
            let mut inplace = String::from("e\u{301}");
            inplace.push_str(&s);
            normalize_nfc_from(&mut inplace, 3);
            assert_eq!(&inplace[3..], whole, "{s:?}");
            assert_eq!(&inplace[..3], "e\u{301}");
        }
    }

    #[test]
    fn nfc_pair_shortcut_is_exact() {
        let mut taken = 0;
        for base in ('\0'..'\u{300}').chain(['\u{1A0}', '\u{3B1}', '\u{410}']) {
            for mark in ('\u{300}'..='\u{36F}').chain('\u{FE20}'..='\u{FE2F}') {
                let mut got = String::new();
                if nfc_pair(base, mark, &mut got) {
                    taken += 1;
                    assert_ne!(canonical_combining_class(mark), 0, "{mark:?}");
                    let pair: String = [base, mark].iter().collect();
                    assert_eq!(got, pair.nfc().collect::<String>(), "{pair:?}");
                }
            }
        }
        assert!(taken > 10_000, "{taken}");
    }

    #[test]
    fn sink_keeps_direct_text_before_held_marks() {
        let mut s = String::from("x");
        let mut sink = Sink::new(&mut s);
        sink.combining('\u{301}');
        sink.combining('\u{308}');
        sink.direct('\u{1b}');
        sink.direct('\u{2026}');
        sink.base('a');
        sink.direct('b');
        sink.combining('\u{300}');
        sink.direct('c');
        sink.base_ascii("de");
        sink.combining('\u{302}');
        sink.direct('f');
        assert_eq!(sink.finish(), Normalised::Yes);
        assert_eq!(s, "x\u{1b}\u{2026}a\u{301}\u{308}bcd\u{300}ef");
    }
}
