//! Where a pipeline's chunks come from: a `Read` it reads itself, bytes in memory, or bytes
//! the caller pushes (a source that only the caller can read, such as a Python file object
//! whose `.read()` needs the interpreter lock).

use super::{frame_into, Progress, Unparsed};
use crate::error::Error;
use crate::iso2709::buffer::ReadBuffer;
use crate::iso2709::read::{Framer, Recovery};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Bytes shared with the pipeline without copying (a `Vec<u8>`, `Arc<[u8]>`, a memory map...).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The bytes a chunk's items index into: a read buffer's worth, or the whole input.
pub(super) struct ChunkBytes(SharedBytes);

impl ChunkBytes {
    pub(super) fn as_slice(&self) -> &[u8] {
        (*self.0).as_ref()
    }

    /// A handle on the bytes of this chunk alone, for records that keep their raw bytes:
    /// they count references to it, not to the source's one `Arc`, whose count the parser
    /// threads and the consumer would otherwise update from two cores for every record.
    pub(super) fn share(&self) -> SharedBytes {
        Arc::new(ChunkPart(self.0.clone()))
    }
}

/// See [`ChunkBytes::share`].
struct ChunkPart(SharedBytes);

impl AsRef<[u8]> for ChunkPart {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

/// Framed records waiting to be parsed, with the bytes they lie in.
pub(super) struct Chunk {
    pub(super) bytes: ChunkBytes,
    pub(super) items: Vec<Unparsed>,
}

/// What a source gave when asked for a chunk.
pub(super) enum Pulled {
    Chunk(Chunk),
    /// A push source has no whole record until the caller pushes more.
    Starved,
    /// No more chunks.
    End,
}

/// A source of chunks, asked by one parser thread at a time.
pub(super) trait Source: Send {
    fn next_chunk(&mut self, cancel: &AtomicBool) -> Pulled;
    /// Bytes the caller hands over (a push source; others ignore them).
    fn push(&mut self, _bytes: &[u8]) {}
    /// The caller will push nothing more.
    fn end_input(&mut self) {}
    /// What to do after the next bad record; true when that lets a stream that broken
    /// framing ended go on (see [`Framer::set_recovery`]).
    fn set_recovery(&mut self, _recovery: Recovery) -> bool {
        false
    }
}

/// What is left of a source once it has ended or the pipeline is closed: the real one (a
/// file, a socket) is dropped then, not when the last thread lets go of the pipeline.
pub(super) struct NoSource;

impl Source for NoSource {
    fn next_chunk(&mut self, _cancel: &AtomicBool) -> Pulled {
        Pulled::End
    }
}

/// Frame about `budget` bytes of `buf`'s unread ones (see [`frame_into`]), consuming them.
fn frame_buffered(
    framer: &mut Framer,
    buf: &mut ReadBuffer,
    budget: usize,
) -> (Vec<Unparsed>, Progress) {
    let mut items = Vec::new();
    let mut pos = buf.pos();
    let progress = frame_into(
        framer,
        buf.bytes(),
        &mut pos,
        buf.is_eof(),
        budget,
        &mut items,
    );
    buf.consume(pos - buf.pos());
    (items, progress)
}

/// Change `framer`'s recovery; true when a stream it had ended goes on.
fn revive(framer: &mut Framer, recovery: Recovery) -> bool {
    let was_finished = framer.is_finished();
    framer.set_recovery(recovery);
    was_finished && !framer.is_finished()
}

/// Chunks from a `Read`: reads a chunk's worth into a [`ReadBuffer`], frames it, and hands
/// the framed part on, sharing the buffer (a record cut by the end of the chunk is carried
/// over into the next buffer). Buffers are reused once their chunk is parsed, since fresh
/// megabytes for every chunk cost more in page faults than the parsing itself.
pub(super) struct ReadSource<R> {
    pub(super) inner: R,
    pub(super) buf: ReadBuffer,
    pub(super) framer: Framer,
    pub(super) chunk_size: usize,
    pub(super) done: bool,
}

impl<R: Read + Send> Source for ReadSource<R> {
    fn next_chunk(&mut self, cancel: &AtomicBool) -> Pulled {
        loop {
            if self.done || cancel.load(Ordering::Relaxed) {
                return Pulled::End;
            }
            // A chunk's worth of new bytes (after any part of a record carried over).
            let mut io_error = None;
            let mut got = 0;
            while got < self.chunk_size && !self.buf.is_eof() {
                let before = self.buf.unread().len();
                if let Err(e) = self.buf.read_from(&mut self.inner, self.chunk_size - got) {
                    io_error = Some(e);
                    break;
                }
                got += self.buf.unread().len() - before;
            }
            let (mut items, progress) = frame_buffered(&mut self.framer, &mut self.buf, usize::MAX);
            let pos = self.buf.pos();
            self.done = progress == Progress::End;
            if let Some(e) = io_error {
                if !self.done {
                    // Where the sequential reader reports it: at the first record it could
                    // not complete.
                    let (number, offset) = (self.framer.number, self.framer.offset);
                    let e = Error::from(e).located(number, offset);
                    items.push(Unparsed::Failed(e, pos..pos));
                    self.done = true;
                }
            }
            if items.is_empty() {
                // Only part of a record so far: read on.
                continue;
            }
            return Pulled::Chunk(Chunk {
                bytes: ChunkBytes(self.buf.shared().clone()),
                items,
            });
        }
    }

    fn set_recovery(&mut self, recovery: Recovery) -> bool {
        let revived = revive(&mut self.framer, recovery);
        self.done &= !revived;
        revived
    }
}

/// Chunks of bytes in memory: framed `chunk_size` bytes at a time, no copying.
pub(super) struct MemorySource {
    pub(super) data: SharedBytes,
    pub(super) framer: Framer,
    pub(super) chunk_size: usize,
    pub(super) pos: usize,
}

impl Source for MemorySource {
    fn next_chunk(&mut self, cancel: &AtomicBool) -> Pulled {
        while !cancel.load(Ordering::Relaxed) {
            let mut items = Vec::new();
            let progress = frame_into(
                &mut self.framer,
                (*self.data).as_ref(),
                &mut self.pos,
                true,
                self.chunk_size,
                &mut items,
            );
            if !items.is_empty() {
                return Pulled::Chunk(Chunk {
                    bytes: ChunkBytes(self.data.clone()),
                    items,
                });
            }
            if progress != Progress::Budget {
                break;
            }
        }
        Pulled::End
    }

    fn set_recovery(&mut self, recovery: Recovery) -> bool {
        revive(&mut self.framer, recovery)
    }
}

/// Chunks of the bytes the caller pushes, kept in a [`ReadBuffer`] and framed from it in
/// place: a chunk shares the buffer it lies in rather than copying its part.
pub(super) struct PushSource {
    pub(super) buf: ReadBuffer,
    pub(super) framer: Framer,
    pub(super) chunk_size: usize,
}

impl Source for PushSource {
    fn next_chunk(&mut self, cancel: &AtomicBool) -> Pulled {
        if cancel.load(Ordering::Relaxed) {
            return Pulled::End;
        }
        let (items, progress) = frame_buffered(&mut self.framer, &mut self.buf, self.chunk_size);
        if !items.is_empty() {
            return Pulled::Chunk(Chunk {
                bytes: ChunkBytes(self.buf.shared().clone()),
                items,
            });
        }
        match progress {
            Progress::End => Pulled::End,
            _ => Pulled::Starved,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.buf.push(bytes);
    }

    fn end_input(&mut self) {
        self.buf.set_eof();
    }

    fn set_recovery(&mut self, recovery: Recovery) -> bool {
        revive(&mut self.framer, recovery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn file_of(n: usize) -> Vec<u8> {
        let mut rec = Record::new();
        rec.push(&crate::Field::control(
            crate::Tag::new("001").unwrap(),
            "an id",
        ));
        crate::iso2709::record_to_bytes(&rec).unwrap().repeat(n)
    }

    #[test]
    fn a_chunks_buffer_is_read_into_again_once_the_chunk_is_let_go() {
        let mut input = ReadSource {
            inner: std::io::Cursor::new(file_of(40)),
            buf: ReadBuffer::with_spares(2),
            framer: Framer::new(Recovery::Stop),
            chunk_size: 100,
            done: false,
        };
        let cancel = AtomicBool::new(false);
        let mut next = || match input.next_chunk(&cancel) {
            Pulled::Chunk(chunk) => chunk,
            _ => panic!("no chunk"),
        };
        let first = next();
        let at = first.bytes.as_slice().as_ptr();
        let second = next();
        assert_ne!(
            second.bytes.as_slice().as_ptr(),
            at,
            "the first is still held"
        );
        drop(first);
        assert_eq!(next().bytes.as_slice().as_ptr(), at);
    }

    #[test]
    fn a_read_error_is_reported_after_the_records_read_before_it() {
        struct Failing(std::io::Cursor<Vec<u8>>);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.read(buf)? {
                    0 => Err(std::io::Error::other("boom")),
                    n => Ok(n),
                }
            }
        }
        let file = file_of(3);
        let cut = file.len() - 10;
        let mut input = ReadSource {
            inner: Failing(std::io::Cursor::new(file[..cut].to_vec())),
            buf: ReadBuffer::default(),
            framer: Framer::new(Recovery::Stop),
            chunk_size: 1 << 20,
            done: false,
        };
        let cancel = AtomicBool::new(false);
        let Pulled::Chunk(chunk) = input.next_chunk(&cancel) else {
            panic!("no chunk")
        };
        assert_eq!(chunk.items.len(), 3);
        assert!(matches!(
            chunk.items[..2],
            [Unparsed::Record { .. }, Unparsed::Record { .. }]
        ));
        let Unparsed::Failed(e, _) = &chunk.items[2] else {
            panic!("no error")
        };
        assert_eq!(e.record(), Some(2));
        assert!(matches!(input.next_chunk(&cancel), Pulled::End));
    }

    #[test]
    fn a_push_source_is_starved_until_a_whole_record_arrives_and_ends_when_told() {
        let file = file_of(3);
        let one = file.len() / 3;
        let mut input = PushSource {
            buf: ReadBuffer::default(),
            framer: Framer::new(Recovery::Stop),
            chunk_size: 1 << 20,
        };
        let cancel = AtomicBool::new(false);
        assert!(matches!(input.next_chunk(&cancel), Pulled::Starved));
        input.push(&file[..one + 3]);
        let Pulled::Chunk(chunk) = input.next_chunk(&cancel) else {
            panic!("the first record is whole")
        };
        assert_eq!(chunk.items.len(), 1);
        assert!(matches!(input.next_chunk(&cancel), Pulled::Starved));
        input.push(&file[one + 3..]);
        let Pulled::Chunk(chunk) = input.next_chunk(&cancel) else {
            panic!("two more records")
        };
        assert_eq!(chunk.items.len(), 2);
        assert!(matches!(input.next_chunk(&cancel), Pulled::Starved));
        input.end_input();
        assert!(matches!(input.next_chunk(&cancel), Pulled::End));
    }
}
