//! Python strings from Rust text, made in one allocation.
//!
//! Nearly every object fastmarc hands to Python holds a string cut from a record: subfield
//! values, field values, control field data. CPython's UTF-8 decoder does not know that Rust
//! text is already valid, and for text that is not all ASCII it guesses the string's width,
//! allocates, widens and copies as it meets wider characters, and shrinks the result at the
//! end. Here the width and the length are read off the bytes first (a UTF-8 lead byte says
//! how wide its character is), so the string is allocated once, at its final size and
//! width, and filled in one pass.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// `text` as a Python `str`, equal to `PyString::new(py, text)`.
pub fn new<'py>(py: Python<'py>, text: &str) -> Bound<'py, PyString> {
    let bytes = text.as_bytes();
    // Empty and one-character strings are shared singletons in CPython: let it find them.
    if bytes.len() <= 1 {
        return PyString::new(py, text);
    }
    let (widest, chars) = if bytes.is_ascii() {
        (0, bytes.len())
    } else {
        widest_and_chars(bytes)
    };
    // UTF-8 lead bytes: below 0x80 one byte (U+0000..U+007F); 0xC2-0xC3 two bytes up to
    // U+00FF; up to 0xEF at most U+FFFF; 0xF0 and above four bytes, beyond U+FFFF.
    // Continuation bytes (0x80-0xBF) are below all of these leads, so the largest byte
    // gives the widest character's class. CPython requires the narrowest width that holds
    // every character, which this is.
    let (max_char, width) = match widest {
        0..=0x7F => (0x7F, 1),
        0x80..=0xC3 => (0xFF, 1),
        0xC4..=0xEF => (0xFFFF, 2),
        _ => (0x10_FFFF, 4),
    };
    // SAFETY: we hold the GIL. PyUnicode_New returns a new compact string of `chars`
    // characters of the given width (NULL only when memory runs out, which from_owned_ptr
    // reports as PyString::new does), and we fill its buffer completely, with `chars`
    // characters of that width, before anyone else sees the object.
    unsafe {
        let obj = Bound::from_owned_ptr(py, ffi::PyUnicode_New(chars as ffi::Py_ssize_t, max_char));
        let ptr = obj.as_ptr();
        match width {
            1 if widest < 0x80 => {
                let out = ffi::PyUnicode_1BYTE_DATA(ptr);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, chars);
            }
            1 => fill(ffi::PyUnicode_1BYTE_DATA(ptr), chars, text, |c| c as u8),
            2 => fill(ffi::PyUnicode_2BYTE_DATA(ptr), chars, text, |c| c as u16),
            _ => fill(ffi::PyUnicode_4BYTE_DATA(ptr), chars, text, |c| c as u32),
        }
        obj.cast_into_unchecked()
    }
}

/// The largest byte of `bytes` (valid UTF-8) and its number of characters (bytes that do
/// not continue a character). Counted in blocks with byte-sized counters, which the
/// compiler turns into vector instructions.
fn widest_and_chars(bytes: &[u8]) -> (u8, usize) {
    let (mut widest, mut continuations) = (0u8, 0usize);
    for block in bytes.chunks(255) {
        let (mut w, mut c) = (0u8, 0u8);
        for &b in block {
            w = w.max(b);
            c += u8::from((b as i8) < -0x40);
        }
        widest = widest.max(w);
        continuations += usize::from(c);
    }
    (widest, bytes.len() - continuations)
}

/// Write `text`'s characters, narrowed by `narrow`, to `out[..len]`.
///
/// # Safety
/// `out` must point to `len` writable units and `text` must have exactly `len` characters.
unsafe fn fill<T>(out: *mut T, len: usize, text: &str, narrow: impl Fn(char) -> T) {
    // SAFETY: by the caller's promise.
    let out = unsafe { std::slice::from_raw_parts_mut(out, len) };
    for (slot, c) in out.iter_mut().zip(text.chars()) {
        *slot = narrow(c);
    }
}
