//! Column buffers filled one record at a time and turned into Arrow arrays at the end.
//!
//! Plain `Vec`s rather than arrow-rs builders: a string column is one byte buffer and one
//! offsets buffer, which is what a `StringArray` is made of, so finishing moves them in
//! without copying and pushing a value is one `extend_from_slice`.

use arrow_array::{ArrayRef, ListArray, StringArray, StructArray, UInt32Array, UInt64Array};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, FieldRef, Fields};
use std::sync::Arc;

/// A string column: all values' UTF-8 bytes, and where each value ends.
#[derive(Debug)]
pub(crate) struct StrCol {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
}

impl Default for StrCol {
    fn default() -> Self {
        StrCol {
            bytes: Vec::new(),
            offsets: vec![0],
        }
    }
}

/// Arrow's `Utf8` offsets are `i32`; batches are cut long before their text reaches
/// 2 GiB (see [`super::stream`]), so this cannot wrap.
fn offset(n: usize) -> i32 {
    i32::try_from(n).expect("a batch column holds less than 2 GiB of text")
}

impl StrCol {
    pub(crate) fn with_capacity(values: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(values + 1);
        offsets.push(0);
        StrCol {
            bytes: Vec::with_capacity(bytes),
            offsets,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        self.offsets.push(offset(self.bytes.len()));
    }

    /// Always inlined: the nested layout calls it for every subfield code and indicator,
    /// and almost every one is ASCII.
    #[inline(always)]
    pub(crate) fn push_char(&mut self, c: char) {
        if c.is_ascii() {
            self.bytes.push(c as u8);
            self.offsets.push(offset(self.bytes.len()));
        } else {
            self.push_non_ascii(c);
        }
    }

    #[cold]
    fn push_non_ascii(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push(c.encode_utf8(&mut buf));
    }

    /// Bytes that are ASCII in practice (tags, leaders), without `str::from_utf8`'s call
    /// per value; anything else goes in as the lossless text `text()` gives.
    #[inline]
    pub(crate) fn push_ascii<'s>(&mut self, bytes: &[u8], text: impl FnOnce() -> &'s str) {
        if bytes.is_ascii() {
            self.bytes.extend_from_slice(bytes);
            self.offsets.push(offset(self.bytes.len()));
        } else {
            self.push(text());
        }
    }

    pub(crate) fn finish(self) -> Result<ArrayRef, ArrowError> {
        Ok(Arc::new(self.into_array(None)))
    }

    /// The column as a `StringArray`, without the checks `StringArray::try_new` and
    /// `OffsetBuffer::new` would run over every byte and every offset again (the offsets'
    /// check is a scalar loop over a buffer long out of cache, several percent of
    /// `to_arrow`).
    fn into_array(self, nulls: Option<NullBuffer>) -> StringArray {
        debug_assert!(nulls
            .as_ref()
            .is_none_or(|n| n.len() + 1 == self.offsets.len()));
        debug_assert!(self.offsets.windows(2).all(|w| w[0] <= w[1]));
        // SAFETY: `bytes` only ever grows by whole `&str`s (`push`), so it is valid UTF-8
        // and every offset, each taken after a push, falls on a character boundary; the
        // offsets start at 0, never decrease and end at `bytes.len()` (`offset` panics
        // rather than wrap); `nulls`, when given, has one entry per value.
        unsafe {
            let offsets = OffsetBuffer::new_unchecked(ScalarBuffer::from(self.offsets));
            StringArray::new_unchecked(offsets, Buffer::from_vec(self.bytes), nulls)
        }
    }
}

/// A nullable string column.
#[derive(Debug, Default)]
pub(crate) struct OptStrCol {
    values: StrCol,
    valid: Vec<bool>,
}

impl OptStrCol {
    pub(crate) fn push(&mut self, s: Option<&str>) {
        self.values.push(s.unwrap_or(""));
        self.valid.push(s.is_some());
    }

    pub(crate) fn finish(self) -> Result<ArrayRef, ArrowError> {
        let nulls = NullBuffer::from(self.valid);
        Ok(Arc::new(self.values.into_array(Some(nulls))))
    }
}

/// Where each list of a list column ends in its child column.
#[derive(Debug)]
pub(crate) struct ListEnds(Vec<i32>);

impl Default for ListEnds {
    fn default() -> Self {
        ListEnds(vec![0])
    }
}

impl ListEnds {
    pub(crate) fn with_capacity(lists: usize) -> Self {
        let mut ends = Vec::with_capacity(lists + 1);
        ends.push(0);
        ListEnds(ends)
    }

    /// End the current list at `child_len` items of the child column.
    #[inline]
    pub(crate) fn close(&mut self, child_len: usize) {
        self.0.push(offset(child_len));
    }

    pub(crate) fn finish(self, item: &FieldRef, values: ArrayRef) -> Result<ArrayRef, ArrowError> {
        // SAFETY: the ends start at 0 and each is a child length taken later than the
        // one before, so they never decrease (`offset` panics rather than wrap).
        let offsets = unsafe { OffsetBuffer::new_unchecked(ScalarBuffer::from(self.0)) };
        Ok(Arc::new(ListArray::try_new(
            item.clone(),
            offsets,
            values,
            None,
        )?))
    }
}

/// A `list<string>` column.
#[derive(Debug, Default)]
pub(crate) struct StrListCol {
    ends: ListEnds,
    values: StrCol,
    count: usize,
}

impl StrListCol {
    #[inline]
    pub(crate) fn push_value(&mut self, s: &str) {
        self.values.push(s);
        self.count += 1;
    }

    /// End this row's list.
    pub(crate) fn close(&mut self) {
        self.ends.close(self.count);
    }

    pub(crate) fn finish(self, item: &FieldRef) -> Result<ArrayRef, ArrowError> {
        let values = self.values.finish()?;
        self.ends.finish(item, values)
    }
}

pub(crate) fn u64_column(values: Vec<u64>) -> ArrayRef {
    Arc::new(UInt64Array::from(values))
}

pub(crate) fn u32_column(values: Vec<u32>) -> ArrayRef {
    Arc::new(UInt32Array::from(values))
}

/// A struct array of `columns` under `fields` (the item type of a list column).
pub(crate) fn struct_of(item: &FieldRef, columns: Vec<ArrayRef>) -> Result<ArrayRef, ArrowError> {
    let DataType::Struct(fields) = item.data_type() else {
        unreachable!("list items of the nested schema are structs")
    };
    let fields: Fields = fields.clone();
    Ok(Arc::new(StructArray::try_new(fields, columns, None)?))
}
