//! What every record writer shares: its output, and one buffer each record is serialised
//! into before a single write, reused from record to record.

use crate::error::Result;
use std::io::Write;

/// A buffer a record is serialised into: text for the text formats, bytes for ISO 2709.
pub(crate) trait Serialised {
    fn with_capacity(n: usize) -> Self;
    fn clear(&mut self);
    fn bytes(&self) -> &[u8];
}

impl Serialised for String {
    fn with_capacity(n: usize) -> Self {
        String::with_capacity(n)
    }

    fn clear(&mut self) {
        String::clear(self);
    }

    fn bytes(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Serialised for Vec<u8> {
    fn with_capacity(n: usize) -> Self {
        Vec::with_capacity(n)
    }

    fn clear(&mut self) {
        Vec::clear(self);
    }

    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A writer's output and its reused record buffer.
pub(crate) struct Sink<W, B> {
    inner: W,
    buf: B,
}

impl<W: Write, B: Serialised> Sink<W, B> {
    /// Records are rarely longer than this; the buffer grows for those that are.
    const CAPACITY: usize = 4096;

    pub(crate) fn new(inner: W) -> Self {
        Sink {
            inner,
            buf: B::with_capacity(Self::CAPACITY),
        }
    }

    /// Serialise one record into the buffer with `serialise`, then write it whole. When
    /// `serialise` fails nothing is written.
    pub(crate) fn write_with<T>(
        &mut self,
        serialise: impl FnOnce(&mut B) -> Result<T>,
    ) -> Result<T> {
        self.buf.clear();
        let out = serialise(&mut self.buf)?;
        self.inner.write_all(self.buf.bytes())?;
        Ok(out)
    }

    /// Write `parts` one after another (a record serialised elsewhere, with what goes
    /// around it).
    pub(crate) fn write_parts(&mut self, parts: &[&[u8]]) -> Result<()> {
        for part in parts.iter().filter(|p| !p.is_empty()) {
            self.inner.write_all(part)?;
        }
        Ok(())
    }

    /// Flush the output.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.inner.flush()?;
        Ok(())
    }

    /// Write `trailer` (what closes the document, if anything), flush, and hand back the
    /// output.
    pub(crate) fn finish(mut self, trailer: &[&[u8]]) -> Result<W> {
        self.write_parts(trailer)?;
        self.flush()?;
        Ok(self.inner)
    }

    /// The output back, not flushed.
    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}
