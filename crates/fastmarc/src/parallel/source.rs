//! Where a pipeline's chunks come from: a `Read` it reads itself, bytes in memory, or bytes
//! the caller pushes (a source that only the caller can read, such as a Python file object
//! whose `.read()` needs the interpreter lock).

use super::{frame_into, Item, Progress};
use crate::error::Error;
use crate::iso2709::read::{Framer, Recovery};
use crate::iso2709::write::MAX_RECORD_LEN;
use crate::iso2709::ReadBuffer;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Bytes shared with the pipeline without copying (a `Vec<u8>`, `Arc<[u8]>`, a memory map...).
pub type SharedBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// The bytes a chunk's items index into.
pub(super) enum ChunkBytes {
    /// A read buffer, kept by the thread that parsed it to read its next chunk into.
    Buffer(Vec<u8>),
    Shared(SharedBytes),
}

impl ChunkBytes {
    pub(super) fn as_slice(&self) -> &[u8] {
        match self {
            ChunkBytes::Buffer(v) => v,
            ChunkBytes::Shared(s) => (**s).as_ref(),
        }
    }

    pub(super) fn into_buffer(self) -> Option<Vec<u8>> {
        match self {
            ChunkBytes::Buffer(v) => Some(v),
            ChunkBytes::Shared(_) => None,
        }
    }

    /// A handle on the bytes of this chunk alone, for records that keep their raw bytes:
    /// they count references to it, not to the source's one `Arc`, whose count the parser
    /// threads and the consumer would otherwise update from two cores for every record.
    pub(super) fn share(&mut self) -> SharedBytes {
        if let ChunkBytes::Buffer(v) = self {
            *self = ChunkBytes::Shared(Arc::new(std::mem::take(v)));
        }
        match self {
            ChunkBytes::Shared(s) => Arc::new(ChunkPart(s.clone())),
            ChunkBytes::Buffer(_) => unreachable!("made shared above"),
        }
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
    pub(super) items: Vec<Item>,
}

/// What a source gave when asked for a chunk.
pub(super) enum Pulled {
    Chunk(Chunk),
    /// A push source has no whole record until the caller pushes more.
    Starved,
    /// No more chunks.
    End,
}

/// A source of chunks, asked by one parser thread at a time, with the read buffer that
/// thread used last (if it has one) for a source that reads.
pub(super) trait Source: Send {
    fn next_chunk(&mut self, cancel: &AtomicBool, buf: Option<Vec<u8>>) -> Pulled;
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
    fn next_chunk(&mut self, _cancel: &AtomicBool, _buf: Option<Vec<u8>>) -> Pulled {
        Pulled::End
    }
}

/// Change `framer`'s recovery; true when a stream it had ended goes on.
fn revive(framer: &mut Framer, recovery: Recovery) -> bool {
    let was_finished = framer.is_finished();
    framer.set_recovery(recovery);
    was_finished && !framer.is_finished()
}

/// Read into `buf[*filled..]` until it is full or the input ends. Returns whether the input
/// ended, and the I/O error that stopped reading, if any (bytes read before it are kept).
pub(super) fn read_chunk<R: Read>(
    inner: &mut R,
    buf: &mut [u8],
    filled: &mut usize,
) -> (bool, Option<std::io::Error>) {
    while *filled < buf.len() {
        match inner.read(&mut buf[*filled..]) {
            Ok(0) => return (true, None),
            Ok(n) => *filled += n.min(buf.len() - *filled),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (false, Some(e)),
        }
    }
    (false, None)
}

/// Room for the part of a record carried over from the previous chunk.
const CARRY_ROOM: usize = MAX_RECORD_LEN;

/// Chunks from a `Read`: fills a buffer, frames it, hands the framed part on. Buffers are
/// zeroed once and reused (each parser thread keeps the one it parsed last), since fresh
/// megabytes for every chunk cost more in page faults than the parsing itself.
pub(super) struct ReadSource<R> {
    pub(super) inner: R,
    pub(super) framer: Framer,
    pub(super) chunk_size: usize,
    /// The start of a record cut by the end of the last chunk, for the next one.
    pub(super) carry: Vec<u8>,
    pub(super) done: bool,
}

impl<R: Read + Send> Source for ReadSource<R> {
    fn next_chunk(&mut self, cancel: &AtomicBool, buf: Option<Vec<u8>>) -> Pulled {
        let mut buf = buf.unwrap_or_default();
        let mut filled = self.carry.len();
        if buf.len() < filled + self.chunk_size {
            // Room for later carries too, so the buffer is sized once.
            buf.resize(self.chunk_size + filled.max(CARRY_ROOM), 0);
        }
        buf[..filled].copy_from_slice(&self.carry);
        loop {
            if self.done || cancel.load(Ordering::Relaxed) {
                return Pulled::End;
            }
            let want = filled + self.chunk_size;
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let (eof, io_error) = read_chunk(&mut self.inner, &mut buf[..want], &mut filled);
            let mut items = Vec::new();
            let mut pos = 0;
            let progress = frame_into(
                &mut self.framer,
                &buf[..filled],
                &mut pos,
                eof,
                usize::MAX,
                &mut items,
            );
            self.done = progress == Progress::End;
            if let Some(e) = io_error {
                if !self.done {
                    // Where the sequential reader reports it: at the first record it could
                    // not complete.
                    let (number, offset) = (self.framer.number, self.framer.offset);
                    let e = Error::from(e).located(number, offset);
                    items.push(Item::Failed(e, pos..pos));
                    self.done = true;
                }
            }
            if items.is_empty() {
                // Only part of a record so far: keep it and read on.
                buf.copy_within(pos..filled, 0);
                filled -= pos;
                continue;
            }
            self.carry.clear();
            self.carry.extend_from_slice(&buf[pos..filled]);
            return Pulled::Chunk(Chunk {
                bytes: ChunkBytes::Buffer(buf),
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
    fn next_chunk(&mut self, cancel: &AtomicBool, _buf: Option<Vec<u8>>) -> Pulled {
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
                    bytes: ChunkBytes::Shared(self.data.clone()),
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
    fn next_chunk(&mut self, cancel: &AtomicBool, _buf: Option<Vec<u8>>) -> Pulled {
        if cancel.load(Ordering::Relaxed) {
            return Pulled::End;
        }
        let mut items = Vec::new();
        let mut pos = self.buf.pos();
        let progress = frame_into(
            &mut self.framer,
            self.buf.bytes(),
            &mut pos,
            self.buf.is_eof(),
            self.chunk_size,
            &mut items,
        );
        self.buf.consume(pos - self.buf.pos());
        if !items.is_empty() {
            let bytes: SharedBytes = self.buf.shared().clone();
            return Pulled::Chunk(Chunk {
                bytes: ChunkBytes::Shared(bytes),
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
    fn a_parser_reads_into_the_buffer_it_parsed_last() {
        let mut input = ReadSource {
            inner: std::io::Cursor::new(file_of(40)),
            framer: Framer::new(Recovery::Stop),
            chunk_size: 100,
            carry: Vec::new(),
            done: false,
        };
        let cancel = AtomicBool::new(false);
        let Pulled::Chunk(first) = input.next_chunk(&cancel, None) else {
            panic!("no first chunk")
        };
        let buf = first.bytes.into_buffer().unwrap();
        let at = buf.as_ptr();
        let Pulled::Chunk(second) = input.next_chunk(&cancel, Some(buf)) else {
            panic!("no second chunk")
        };
        assert_eq!(second.bytes.as_slice().as_ptr(), at);
    }

    #[test]
    fn read_chunk_keeps_bytes_before_an_error() {
        struct Two(u8);
        impl Read for Two {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("boom"));
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        let mut buf = *b"ab--------";
        let mut filled = 2;
        let (eof, err) = read_chunk(&mut Two(2), &mut buf, &mut filled);
        assert!(!eof);
        assert!(err.is_some());
        assert_eq!(&buf[..filled], b"abxx");
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
        assert!(matches!(input.next_chunk(&cancel, None), Pulled::Starved));
        input.push(&file[..one + 3]);
        let Pulled::Chunk(chunk) = input.next_chunk(&cancel, None) else {
            panic!("the first record is whole")
        };
        assert_eq!(chunk.items.len(), 1);
        assert!(matches!(input.next_chunk(&cancel, None), Pulled::Starved));
        input.push(&file[one + 3..]);
        let Pulled::Chunk(chunk) = input.next_chunk(&cancel, None) else {
            panic!("two more records")
        };
        assert_eq!(chunk.items.len(), 2);
        assert!(matches!(input.next_chunk(&cancel, None), Pulled::Starved));
        input.end_input();
        assert!(matches!(input.next_chunk(&cancel, None), Pulled::End));
    }
}
