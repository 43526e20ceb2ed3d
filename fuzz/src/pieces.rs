//! An `io::Read` that hands its bytes out in small pieces of varying size (and now and then
//! an `Interrupted` error), so streaming readers meet records, escapes and tokens split at
//! every kind of place.

use std::io::{self, Read};

/// Generic over the bytes' owner, so a `'static` reader (for the pipeline, whose threads
/// share it) can own them.
pub struct Pieces<D> {
    data: D,
    pos: usize,
    state: u64,
    max_piece: usize,
}

impl<D: AsRef<[u8]>> Pieces<D> {
    /// Piece sizes 1..=`max_piece`, drawn from a generator seeded with `seed`.
    pub fn new(data: D, seed: u64, max_piece: usize) -> Self {
        Pieces {
            data,
            pos: 0,
            state: seed | 1,
            max_piece: max_piece.max(1),
        }
    }

    fn next_size(&mut self) -> usize {
        // xorshift64: deterministic, so a crash reproduces from the input alone.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        1 + (self.state % self.max_piece as u64) as usize
    }
}

impl<D: AsRef<[u8]>> Read for Pieces<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.data.as_ref().len() - self.pos;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let size = self.next_size();
        // Now and then the retryable error a signal gives a pipe; readers must retry it.
        if size % 7 == 3 && self.state & 0x100 != 0 {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        let n = size.min(left).min(buf.len());
        buf[..n].copy_from_slice(&self.data.as_ref()[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A seed derived from the input, so that piece sizes change as the fuzzer mutates it.
pub fn seed_of(data: &[u8]) -> u64 {
    // FNV-1a over the length and the first bytes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in (data.len() as u64)
        .to_le_bytes()
        .iter()
        .chain(data.iter().take(64))
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
