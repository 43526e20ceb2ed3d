//! Finding one byte value in short slices, sixty-four bytes at a time.
//!
//! Subfields are short (a few to a few dozen bytes) and many: `memchr` pays a call and a
//! set-up per search, which costs more than the search itself at these lengths. This
//! iterator turns a 64-byte window of the surrounding area into a bit mask in one go (SSE2
//! compares on x86-64, a word-at-a-time equivalent elsewhere) and pops its bits, so a
//! typical field costs one window whatever its number of subfields.

/// Bit `i` set when `window[i] == needle`.
#[inline(always)]
fn window_mask(window: &[u8; 64], needle: u8) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        sse2_mask(window, needle)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        word_mask(window, needle)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_mask(window: &[u8; 64], needle: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, so these instructions always exist, and
    // each unaligned load reads 16 bytes that lie inside `window` (offsets 0, 16, 32, 48 of
    // 64 bytes).
    unsafe {
        let n = _mm_set1_epi8(needle as i8);
        let p = window.as_ptr();
        let mut mask = 0u64;
        for k in 0..4 {
            let v = _mm_loadu_si128(p.add(16 * k) as *const __m128i);
            let m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, n)) as u32 as u64;
            mask |= m << (16 * k);
        }
        mask
    }
}

/// The same mask eight bytes at a time in plain integer arithmetic.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn word_mask(window: &[u8; 64], needle: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut mask = 0u64;
    for (k, w) in window.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) ^ (ONES * needle as u64);
        // 0x80 in each byte of `x` that is zero, exactly (no carries across bytes).
        let hits = !(((x & LOW7) + LOW7) | x | LOW7);
        // Gather the eight high bits into the low byte: bit 8i+7 moves to bit i.
        let packed = ((hits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask |= packed << (8 * k);
    }
    mask
}

/// Bits for `area[at..at + 64]`; bytes past the end of `area` never match.
#[inline(always)]
fn mask_at(area: &[u8], at: usize, needle: u8) -> u64 {
    if let Some(w) = area.get(at..at + 64) {
        return window_mask(w.try_into().unwrap_or(&[!needle; 64]), needle);
    }
    if area.len() >= 64 {
        // The last 64 bytes of the area, shifted so bit 0 is `at`.
        let w = &area[area.len() - 64..];
        let shift = at + 64 - area.len();
        return window_mask(w.try_into().unwrap_or(&[!needle; 64]), needle)
            .checked_shr(shift as u32)
            .unwrap_or(0);
    }
    // A tiny area: pad a copy.
    let rest = area.get(at..).unwrap_or_default();
    let mut w = [!needle; 64];
    w[..rest.len()].copy_from_slice(rest);
    window_mask(&w, needle)
}

/// The positions of `needle` in `area[start..end]`, relative to `start`, in increasing
/// order. Windows may read bytes of `area` outside the range; they are masked off.
pub(crate) struct Positions<'a> {
    area: &'a [u8],
    needle: u8,
    start: usize,
    end: usize,
    /// Start (in `area`) of the window `bits` describes.
    window: usize,
    /// Matches in that window not yet returned.
    bits: u64,
}

impl<'a> Positions<'a> {
    #[inline(always)]
    pub(crate) fn within(area: &'a [u8], start: usize, end: usize, needle: u8) -> Positions<'a> {
        let mut p = Positions {
            area,
            needle,
            start,
            end: end.min(area.len()),
            window: start,
            bits: 0,
        };
        p.bits = p.load();
        p
    }

    /// The current window's bits, cut at `end`.
    #[inline(always)]
    fn load(&self) -> u64 {
        if self.window >= self.end {
            return 0;
        }
        let bits = mask_at(self.area, self.window, self.needle);
        match self.end - self.window {
            n if n < 64 => bits & ((1u64 << n) - 1),
            _ => bits,
        }
    }
}

impl Iterator for Positions<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.window += 64;
            if self.window >= self.end {
                return None;
            }
            self.bits = self.load();
        }
        let at = self.window + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at - self.start)
    }
}

/// True when every byte is printable ASCII (0x20-0x7E) or an ISO 2709 delimiter
/// (0x1E field terminator, 0x1F subfield delimiter): MARC-8 text that decodes to itself.
pub(crate) fn is_plain_ascii_text(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        // No early exit inside a chunk, so the compiler can use vector compares.
        if !chunk.iter().fold(true, |acc, &b| acc & plain(b)) {
            return false;
        }
    }
    // What is left, and a projection's single fields, are mostly shorter than a chunk:
    // eight bytes at a time rather than one.
    let mut words = chunks.remainder().chunks_exact(8);
    let bad = (&mut words).fold(0, |acc, w| {
        acc | not_plain(u64::from_le_bytes(w.try_into().unwrap_or_default()))
    });
    bad == 0 && words.remainder().iter().all(|&b| plain(b))
}

#[inline(always)]
fn plain(b: u8) -> bool {
    b.wrapping_sub(0x20) < 0x5F || b == 0x1E || b == 0x1F
}

/// The high bit of each byte of `w` that is not [`plain`]. Each sum stays within its byte
/// (the low seven bits plus at most 0x7F), so no byte affects another.
#[inline(always)]
fn not_plain(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = w & !HIGH;
    let at_least_space = (low + 0x60 * ONES) & HIGH;
    let delete = (low + ONES) & HIGH;
    // Zero for 0x1E and 0x1F, the delimiters, only.
    let delimiter_xor = (low | ONES) ^ (0x1F * ONES);
    let not_delimiter = (delimiter_xor + 0x7F * ONES) & HIGH;
    (w & HIGH) | delete | (!at_least_space & not_delimiter & HIGH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(hay: &[u8], needle: u8) -> Vec<usize> {
        (0..hay.len()).filter(|&i| hay[i] == needle).collect()
    }

    fn all(hay: &[u8], needle: u8) -> Vec<usize> {
        Positions::within(hay, 0, hay.len(), needle).collect()
    }

    #[test]
    fn finds_every_position_at_every_length() {
        for len in 0..40 {
            let hay: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 1 { 0x1f } else { b'a' })
                .collect();
            assert_eq!(all(&hay, 0x1f), naive(&hay, 0x1f));
        }
    }

    #[test]
    fn neighbouring_bytes_do_not_give_false_hits() {
        // 0x1e and 0x20 sit next to 0x1f; 0x9f differs only in the high bit.
        let hay = [0x1e, 0x1f, 0x20, 0x9f, 0x1f, 0x1f, 0x00, 0xff, 0x1f];
        assert_eq!(all(&hay, 0x1f), [1, 4, 5, 8]);
    }

    #[test]
    fn plain_ascii_text() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b' ', b, b'a', b, 0x1e, b, 0x1f, b]);
            assert_eq!(not_plain(word) == 0, plain(b), "{b:#04x}");
        }
        assert!(is_plain_ascii_text(b"Hello \x1fa world\x1e"));
        assert!(is_plain_ascii_text(b""));
        assert!(!is_plain_ascii_text(b"caf\xe9"));
        assert!(!is_plain_ascii_text(b"escape \x1b(B"));
        assert!(!is_plain_ascii_text(b"end \x1d"));
        assert!(!is_plain_ascii_text(
            &[b'a'; 64]
                .iter()
                .chain(b"\x7f")
                .copied()
                .collect::<Vec<_>>()
        ));
    }

    proptest! {
        #[test]
        fn plain_ascii_text_is_every_byte_plain(
            bytes in proptest::collection::vec(prop_oneof![0x1cu8..0x22, 0x7cu8..0x82, any::<u8>()], 0..80),
            fill in 0usize..80,
        ) {
            // Plain bytes first, so that the one that is not lands at every position.
            let mut all: Vec<u8> = b"plain text\x1fa ".iter().copied().cycle().take(fill).collect();
            all.extend(&bytes);
            prop_assert_eq!(is_plain_ascii_text(&all), all.iter().all(|&b| plain(b)));
        }

        #[test]
        fn positions_match_a_naive_search(hay in proptest::collection::vec(any::<u8>(), 0..300), needle: u8) {
            prop_assert_eq!(all(&hay, needle), naive(&hay, needle));
        }

        #[test]
        fn positions_in_a_range_see_only_the_range(
            hay in proptest::collection::vec(prop_oneof![Just(0x1fu8), any::<u8>()], 0..300),
            a: usize,
            b: usize,
        ) {
            let (start, end) = match hay.len() {
                0 => (0, 0),
                n => { let (x, y) = (a % (n + 1), b % (n + 1)); (x.min(y), x.max(y)) }
            };
            prop_assert_eq!(
                Positions::within(&hay, start, end, 0x1f).collect::<Vec<_>>(),
                naive(&hay[start..end], 0x1f)
            );
        }

        #[test]
        fn word_mask_agrees_with_the_window_mask(window in proptest::collection::vec(any::<u8>(), 64), needle: u8) {
            let w: &[u8; 64] = window.as_slice().try_into().unwrap();
            let expected = (0..64).filter(|&i| w[i] == needle).fold(0u64, |m, i| m | 1 << i);
            prop_assert_eq!(word_mask(w, needle), expected);
            prop_assert_eq!(window_mask(w, needle), expected);
        }
    }
}
