//! Finding one byte value in short slices, eight bytes at a time.
//!
//! Subfields are short (a few to a few dozen bytes) and many: `memchr` pays a call and a
//! set-up per search, which costs more than the search itself at these lengths. This
//! iterator works on one `u64` word at a time in plain safe Rust, entirely inlined.

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

/// One high bit (0x80) per byte of `word` that equals `needle`, exactly (no false hits).
#[inline(always)]
fn matches(word: u64, needle: u8) -> u64 {
    let x = word ^ (ONES * needle as u64);
    // A byte of `x` is zero exactly when adding 0x7f to its low seven bits leaves its high
    // bit clear and its own high bit is clear.
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The positions of `needle` in a slice, in increasing order.
pub(crate) struct Positions<'a> {
    hay: &'a [u8],
    needle: u8,
    /// Start of the word `bits` describes.
    word_start: usize,
    /// Matches in that word not yet returned.
    bits: u64,
}

impl<'a> Positions<'a> {
    #[inline(always)]
    pub(crate) fn new(hay: &'a [u8], needle: u8) -> Positions<'a> {
        let mut p = Positions {
            hay,
            needle,
            word_start: 0,
            bits: 0,
        };
        p.bits = p.load(0);
        p
    }

    #[inline(always)]
    fn load(&self, at: usize) -> u64 {
        match self.hay.get(at..at + 8) {
            Some(w) => matches(
                u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
                self.needle,
            ),
            None => {
                // The tail: bytes past the end must not match.
                let rest = self.hay.get(at..).unwrap_or_default();
                let mut w = [!self.needle; 8];
                w[..rest.len()].copy_from_slice(rest);
                matches(u64::from_le_bytes(w), self.needle)
            }
        }
    }
}

impl Iterator for Positions<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.word_start += 8;
            if self.word_start >= self.hay.len() {
                return None;
            }
            self.bits = self.load(self.word_start);
        }
        let at = self.word_start + (self.bits.trailing_zeros() / 8) as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

/// True when every byte is printable ASCII (0x20-0x7E) or an ISO 2709 delimiter
/// (0x1E field terminator, 0x1F subfield delimiter): MARC-8 text that decodes to itself.
pub(crate) fn is_plain_ascii_text(bytes: &[u8]) -> bool {
    #[inline(always)]
    fn ok(b: u8) -> bool {
        b.wrapping_sub(0x20) < 0x5F || b == 0x1E || b == 0x1F
    }
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        // No early exit inside a chunk, so the compiler can use vector compares.
        if !chunk.iter().fold(true, |acc, &b| acc & ok(b)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| ok(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(hay: &[u8], needle: u8) -> Vec<usize> {
        (0..hay.len()).filter(|&i| hay[i] == needle).collect()
    }

    #[test]
    fn finds_every_position_at_every_length() {
        for len in 0..40 {
            let hay: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 1 { 0x1f } else { b'a' })
                .collect();
            assert_eq!(
                Positions::new(&hay, 0x1f).collect::<Vec<_>>(),
                naive(&hay, 0x1f)
            );
        }
    }

    #[test]
    fn neighbouring_bytes_do_not_give_false_hits() {
        // 0x1e and 0x20 sit next to 0x1f; 0x9f differs only in the high bit.
        let hay = [0x1e, 0x1f, 0x20, 0x9f, 0x1f, 0x1f, 0x00, 0xff, 0x1f];
        assert_eq!(Positions::new(&hay, 0x1f).collect::<Vec<_>>(), [1, 4, 5, 8]);
    }

    #[test]
    fn plain_ascii_text() {
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
        fn positions_match_a_naive_search(hay in proptest::collection::vec(any::<u8>(), 0..100), needle: u8) {
            prop_assert_eq!(Positions::new(&hay, needle).collect::<Vec<_>>(), naive(&hay, needle));
        }
    }
}
