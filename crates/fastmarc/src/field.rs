//! Tags, and owned fields for building and editing records.
//!
//! A [`crate::Record`] stores its fields as spans into one text buffer; the owned
//! [`Field`] here is what you build a field with before adding it, or what you get when
//! you take one out to edit it.

use crate::error::{Error, ErrorKind, Result};
use std::fmt;

/// A field tag: three ASCII bytes, normally digits (alphabetic tags occur in real files).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag([u8; 3]);

impl Tag {
    /// A tag from three ASCII graphic characters (letters, digits, punctuation) or spaces.
    pub fn new(s: &str) -> Result<Tag> {
        Tag::from_bytes(s.as_bytes())
    }

    /// [`Tag::new`] from bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Tag> {
        match b {
            [a, b, c]
                if [a, b, c]
                    .iter()
                    .all(|x| x.is_ascii_graphic() || **x == b' ') =>
            {
                Ok(Tag([*a, *b, *c]))
            }
            _ => Err(Error::new(ErrorKind::InvalidValue(format!(
                "tag {:?} is not three ASCII characters",
                String::from_utf8_lossy(b)
            )))),
        }
    }

    /// A tag from any three ASCII bytes, control characters included: what the ISO 2709
    /// reader takes from a directory (as pymarc does), so what its Arrow rows hold.
    #[cfg(feature = "arrow")]
    pub(crate) fn from_ascii(b: &[u8]) -> Result<Tag> {
        match b {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii()) => Ok(Tag([*a, *b, *c])),
            _ => Tag::from_bytes(b),
        }
    }

    pub(crate) fn from_array_unchecked(b: [u8; 3]) -> Tag {
        Tag(b)
    }

    /// The three bytes.
    pub fn as_bytes(&self) -> &[u8; 3] {
        &self.0
    }

    /// The tag as text (always ASCII, so never fails in practice).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Control fields are 001-009: all digits and below 010 (as pymarc and ruby-marc decide).
    pub fn is_control(&self) -> bool {
        // All digits and below "010": "00" and a digit.
        self.0[0] == b'0' && self.0[1] == b'0' && self.0[2].is_ascii_digit()
    }

    /// The numeric value of an all-digit tag.
    pub fn number(&self) -> Option<u16> {
        crate::leader::parse_digits(&self.0).map(|n| n as u16)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.as_str())
    }
}

impl TryFrom<&str> for Tag {
    type Error = Error;
    fn try_from(s: &str) -> Result<Tag> {
        Tag::new(s)
    }
}

/// A set of tags: which fields a parse keeps ([`crate::iso2709::parse_record_fields`]).
/// Each all-digit tag is one bit; tags with letters or punctuation are rare, so the set
/// holds either all of them or none.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TagSet {
    digits: [u64; 16],
    others: bool,
}

impl TagSet {
    /// The empty set.
    pub fn new() -> TagSet {
        TagSet::default()
    }

    /// Add `tag`; a tag that is not all digits adds every such tag.
    pub fn insert(&mut self, tag: Tag) {
        match tag.number() {
            Some(n) => self.digits[n as usize / 64] |= 1 << (n % 64),
            None => self.others = true,
        }
    }

    /// Add every tag that is not all digits.
    pub fn insert_others(&mut self) {
        self.others = true;
    }

    /// Whether the set holds every tag.
    pub fn is_full(&self) -> bool {
        self.others
            && self.digits[..15].iter().all(|&w| w == u64::MAX)
            && self.digits[15] == (1 << (1000 - 960)) - 1
    }

    /// Whether the set holds `tag`.
    #[inline(always)]
    pub fn contains(&self, tag: Tag) -> bool {
        let [a, b, c] = tag.0.map(|x| x.wrapping_sub(b'0'));
        if a < 10 && b < 10 && c < 10 {
            let n = a as usize * 100 + b as usize * 10 + c as usize;
            self.digits[n / 64] & (1 << (n % 64)) != 0
        } else {
            self.others
        }
    }
}

/// One subfield: a code and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subfield {
    /// The subfield code, as `a` in `$a`.
    pub code: char,
    /// The subfield's text.
    pub value: String,
}

impl Subfield {
    /// A subfield with `code` and `value`.
    pub fn new(code: char, value: impl Into<String>) -> Self {
        Subfield {
            code,
            value: value.into(),
        }
    }
}

/// An owned field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// 001-009: data only.
    Control {
        /// The tag, 001 to 009.
        tag: Tag,
        /// The field's text.
        data: String,
    },
    /// Everything else: two indicators and ordered, repeatable subfields.
    Data {
        /// The tag.
        tag: Tag,
        /// The two indicators; a blank is `' '`.
        indicators: [char; 2],
        /// The subfields, in order.
        subfields: Vec<Subfield>,
    },
}

impl Field {
    /// A control field (001-009).
    pub fn control(tag: Tag, data: impl Into<String>) -> Field {
        Field::Control {
            tag,
            data: data.into(),
        }
    }

    /// A data field with its indicators and subfields.
    pub fn data(tag: Tag, ind1: char, ind2: char, subfields: Vec<Subfield>) -> Field {
        Field::Data {
            tag,
            indicators: [ind1, ind2],
            subfields,
        }
    }

    /// The field's tag.
    pub fn tag(&self) -> Tag {
        match self {
            Field::Control { tag, .. } | Field::Data { tag, .. } => *tag,
        }
    }

    /// Whether this is a control field.
    pub fn is_control(&self) -> bool {
        matches!(self, Field::Control { .. })
    }
}
