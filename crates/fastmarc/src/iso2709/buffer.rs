//! The refill buffer of the streaming readers: bytes read from a stream, framed from the
//! front, refilled at the back.

use super::read::{Framed, Framer};
use std::io::Read;
use std::sync::Arc;

/// Buffers kept for reuse by a [`ReadBuffer`] whose bytes are shared: about as many as
/// batches of a reader can be in flight.
const MAX_SPARE_BUFFERS: usize = 8;

/// Bytes taken from a stream, `bytes()[pos..]` not yet framed.
///
/// The bytes can be shared ([`ReadBuffer::shared`]): a batch of records framed from them
/// keeps them instead of copying its part. The buffer is written again only once nobody
/// holds it; until then reading goes on in another one (and the held one is reused once
/// let go). Bytes past the end are left from earlier reads: keeping them spares zeroing
/// the buffer before every read.
#[derive(Debug, Default)]
pub struct ReadBuffer {
    data: Arc<Vec<u8>>,
    pos: usize,
    end: usize,
    eof: bool,
    /// Buffers that were shared when more had to be read, for reuse once let go.
    spare: Vec<Arc<Vec<u8>>>,
}

impl ReadBuffer {
    /// The bytes read and not yet consumed.
    pub fn unread(&self) -> &[u8] {
        &self.data[self.pos..self.end]
    }

    /// Every byte held, consumed or not: ranges given by [`ReadBuffer::frame_next`] and
    /// [`ReadBuffer::pos`] index into this.
    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.end]
    }

    /// The buffer itself, to share (see the type's documentation).
    pub fn shared(&self) -> &Arc<Vec<u8>> {
        &self.data
    }

    /// Where the unconsumed bytes start in [`ReadBuffer::bytes`].
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// `n` more bytes consumed.
    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// The stream has no more bytes.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Marks the stream as ended: what is left is the last record, or an incomplete one.
    pub fn set_eof(&mut self) {
        self.eof = true;
    }

    /// The next record of the unconsumed bytes, consumed (see [`Framer::next_in`]).
    pub fn frame_next(&mut self, framer: &mut Framer) -> Framed {
        framer.next_in(&self.data[..self.end], &mut self.pos, self.eof)
    }

    /// Room for `n` more bytes after the unconsumed ones, consumed bytes dropped: in this
    /// buffer if nobody shares it, else in a free spare (or a new one) that starts with the
    /// unconsumed bytes. [`ReadBuffer::filled`] says how much was written.
    pub fn room(&mut self, n: usize) -> &mut [u8] {
        let unread = self.end - self.pos;
        if Arc::get_mut(&mut self.data).is_none() {
            let free = self.spare.iter().position(|b| Arc::strong_count(b) == 1);
            let mut next = free.map_or_else(Default::default, |i| self.spare.swap_remove(i));
            let to = Arc::make_mut(&mut next);
            if to.len() < unread {
                to.resize(unread, 0);
            }
            to[..unread].copy_from_slice(self.unread());
            let held = std::mem::replace(&mut self.data, next);
            if self.spare.len() < MAX_SPARE_BUFFERS {
                self.spare.push(held);
            }
            self.pos = 0;
            self.end = unread;
        }
        // Shared with nobody now, so this never copies.
        let data = Arc::make_mut(&mut self.data);
        data.copy_within(self.pos..self.end, 0);
        self.pos = 0;
        self.end = unread;
        if data.len() < unread + n {
            data.resize(unread + n, 0);
        }
        &mut data[unread..unread + n]
    }

    /// `n` bytes were written to the room asked for.
    pub fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Append `bytes` (handed over by the caller: a push source).
    pub fn push(&mut self, bytes: &[u8]) {
        self.room(bytes.len()).copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// One `read` of up to `n` bytes from `inner` (retried when interrupted); at the end
    /// of the stream, [`ReadBuffer::is_eof`] becomes true.
    pub fn read_from<R: Read + ?Sized>(&mut self, inner: &mut R, n: usize) -> std::io::Result<()> {
        let room = self.room(n);
        let got = loop {
            match inner.read(room) {
                Ok(got) => break got.min(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.filled(got);
        if got == 0 {
            self.eof = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_bytes_are_kept_whether_or_not_the_buffer_is_shared() {
        let mut buf = ReadBuffer::default();
        buf.push(b"abcdef");
        buf.consume(4);
        // Shared with nobody: compacted in place, stale bytes past the end never read.
        buf.push(b"g");
        assert_eq!(buf.unread(), b"efg");
        let held = buf.shared().clone();
        buf.consume(1);
        // Shared: the unread bytes move to another buffer, the held one is untouched.
        buf.push(b"hi");
        assert_eq!(buf.unread(), b"fghi");
        assert_eq!(&held[..3], b"efg");
        assert!(!Arc::ptr_eq(&held, buf.shared()));
        // Once let go, the held buffer is reused rather than a new one made.
        let first = Arc::as_ptr(&held);
        drop(held);
        let _second = buf.shared().clone();
        buf.consume(2);
        buf.push(b"j");
        assert_eq!(buf.unread(), b"hij");
        assert!(std::ptr::eq(first, Arc::as_ptr(buf.shared())));
        assert_eq!(buf.spare.len(), 1);
    }

    #[test]
    fn reading_marks_the_end_of_the_stream() {
        let mut buf = ReadBuffer::default();
        let mut input: &[u8] = b"xyz";
        buf.read_from(&mut input, 2).unwrap();
        buf.read_from(&mut input, 2).unwrap();
        assert!(!buf.is_eof());
        assert_eq!(buf.unread(), b"xyz");
        buf.read_from(&mut input, 2).unwrap();
        assert!(buf.is_eof());
    }
}
