//! A MARC record: its leader, one text buffer, and spans into it.
//!
//! Like the csv crate's `ByteRecord`, a parsed record is not a `String` per subfield but a
//! single `String` holding all field text plus two small tables of spans. Parsing fills the
//! tables without allocating per field, and a reader can reuse one `Record` (see
//! [`Record::clear`]). Edits append to the buffer and repoint spans, so they never move
//! other fields' text; serialisation writes only what the spans reach.

use crate::diagnostic::Diagnostic;
use crate::error::{Error, ErrorKind, Result};
use crate::field::{Field, Subfield, Tag};
use crate::leader::Leader;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldEntry {
    pub(crate) tag: Tag,
    pub(crate) indicators: [char; 2],
    pub(crate) control: bool,
    /// Control field: byte range of its data in `text`. Data field: range in `subfields`.
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Data field parsed from text that needed no decoding: `text[raw.0..raw.1]` is exactly
    /// its ISO 2709 form (indicators, then delimiter, code and value per subfield), so the
    /// writer copies it in one piece. `(0, 0)`: not known; edits never set it.
    pub(crate) raw: (u32, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SubfieldEntry {
    pub(crate) code: char,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// What a record's text holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextEncoding {
    /// Unicode text (decoded from UTF-8 or MARC-8); written out as UTF-8.
    #[default]
    Unicode,
    /// The original bytes, one char per byte (U+0000-U+00FF); written out byte for byte.
    Raw,
}

/// A MARC record: its leader, one text buffer, and spans into it.
///
/// Like the csv crate's `ByteRecord`, a parsed record is not a `String` per subfield but a
/// single `String` holding all field text plus two small tables of spans. Parsing fills the
/// tables without allocating per field, and a reader can reuse one `Record` (see
/// [`Record::clear`]). Edits append to the buffer and repoint spans, so they never move
/// other fields' text; serialisation writes only what the spans reach.
#[derive(Default)]
pub struct Record {
    leader: Leader,
    pub(crate) encoding: TextEncoding,
    pub(crate) text: String,
    pub(crate) fields: Vec<FieldEntry>,
    pub(crate) subfields: Vec<SubfieldEntry>,
    /// Set by the parser when `text[a..b]` is the record's directory and data area exactly
    /// as read and as the writer would produce them (every field verbatim, in directory
    /// order, with no gaps, then the record terminator), so the writer copies them in one
    /// piece. Every edit clears it.
    pub(crate) data_area: Option<(u32, u32)>,
    /// What lenient parsing noticed and read anyway (empty for almost every record).
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl Clone for Record {
    fn clone(&self) -> Record {
        Record {
            leader: self.leader,
            encoding: self.encoding,
            text: self.text.clone(),
            fields: self.fields.clone(),
            subfields: self.subfields.clone(),
            data_area: self.data_area,
            diagnostics: self.diagnostics.clone(),
        }
    }

    /// Copies into this record's own allocations: one `memcpy` per buffer, no allocation
    /// once they are large enough.
    fn clone_from(&mut self, source: &Record) {
        self.leader = source.leader;
        self.encoding = source.encoding;
        self.text.clone_from(&source.text);
        self.fields.clone_from(&source.fields);
        self.subfields.clone_from(&source.subfields);
        self.data_area = source.data_area;
        self.diagnostics.clone_from(&source.diagnostics);
    }
}

/// Prefetch every cache line of `len` bytes from `start`.
#[inline]
fn prefetch_bytes(start: *const u8, len: usize) {
    #[cfg(target_arch = "x86_64")]
    for offset in (0..len).step_by(64) {
        // SAFETY: a prefetch is a hint that never faults, whatever the address.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset).cast());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (start, len);
}

fn span(n: usize) -> u32 {
    // Readers bound record sizes far below this; only a program building a 4 GiB record in
    // memory could reach it.
    u32::try_from(n).expect("a record's text is limited to 4 GiB")
}

/// A position the parser made: `parse_record` refuses input long enough for its text or
/// span tables to reach 4 GiB, so the conversion cannot lose bits. Unchecked because it
/// runs several times for every subfield parsed, where a check shows in the parse time.
#[inline(always)]
fn parsed_span(n: usize) -> u32 {
    debug_assert!(u32::try_from(n).is_ok());
    n as u32
}

impl Record {
    /// An empty record with a default leader.
    pub fn new() -> Record {
        Record::default()
    }

    /// An empty record with this leader.
    pub fn with_leader(leader: Leader) -> Record {
        Record {
            leader,
            ..Record::default()
        }
    }

    /// Remove all fields, keeping the allocations for reuse.
    pub fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
        self.subfields.clear();
        self.leader = Leader::default();
        self.encoding = TextEncoding::Unicode;
        self.data_area = None;
        self.diagnostics.clear();
    }

    /// The problems lenient parsing read past in this record, in the order met (see
    /// [`Diagnostic`]).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    #[doc(hidden)]
    /// Bytes of heap memory the record holds (its buffers' capacities), whatever it holds
    /// now: what keeping it for reuse keeps allocated.
    pub fn allocated_bytes(&self) -> usize {
        self.text.capacity()
            + self.fields.capacity() * std::mem::size_of::<FieldEntry>()
            + self.subfields.capacity() * std::mem::size_of::<SubfieldEntry>()
    }

    #[doc(hidden)]
    /// Ask the CPU to start loading this record's field and subfield tables into this
    /// core's cache. For a consumer about to read a record that another thread parsed:
    /// called a record ahead, the loads from the other core overlap the work on the
    /// current one. A hint only; it does nothing off x86-64.
    pub fn prefetch(&self) {
        prefetch_bytes(
            self.fields.as_ptr().cast(),
            std::mem::size_of_val(self.fields.as_slice()),
        );
        prefetch_bytes(
            self.subfields.as_ptr().cast(),
            std::mem::size_of_val(self.subfields.as_slice()),
        );
    }

    /// Whether the text is Unicode or raw bytes (see [`TextEncoding`]).
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Set how the record's text is written out (see [`TextEncoding`]).
    pub fn set_encoding(&mut self, encoding: TextEncoding) {
        self.data_area = None;
        self.encoding = encoding;
    }

    /// Parser hook: a control field whose text is `text[start..end]`. The parser hooks take
    /// positions bounded by `parse_record` (see [`parsed_span`]).
    pub(crate) fn add_control_span(&mut self, tag: Tag, start: usize, end: usize) {
        self.fields.push(FieldEntry {
            tag,
            indicators: [' ', ' '],
            control: true,
            start: parsed_span(start),
            end: parsed_span(end),
            raw: (0, 0),
        });
    }

    /// Parser hook: a subfield value `text[start..end]`, for the data field that
    /// [`Record::add_data_field`] adds next.
    pub(crate) fn add_subfield_span(&mut self, code: char, start: usize, end: usize) {
        self.subfields.push(SubfieldEntry {
            code,
            start: parsed_span(start),
            end: parsed_span(end),
        });
    }

    /// Parser hook: a data field whose subfields are those added from `first_subfield` on;
    /// `raw`: where its ISO 2709 form lies in the text, when it is there verbatim. One push
    /// once the subfields are known, rather than an entry pushed first and patched after
    /// (one write per field instead of two).
    #[inline(always)]
    pub(crate) fn add_data_field(
        &mut self,
        tag: Tag,
        indicators: [char; 2],
        first_subfield: usize,
        raw: Option<(usize, usize)>,
    ) {
        self.fields.push(FieldEntry {
            tag,
            indicators,
            control: false,
            start: parsed_span(first_subfield),
            end: parsed_span(self.subfields.len()),
            raw: match raw {
                Some((a, b)) => (parsed_span(a), parsed_span(b)),
                None => (0, 0),
            },
        });
    }

    /// Parser hook: append text, returning where it starts.
    pub(crate) fn append_text(&mut self, s: &str) -> usize {
        let start = self.text.len();
        self.text.push_str(s);
        start
    }

    /// The leader.
    pub fn leader(&self) -> &Leader {
        &self.leader
    }

    /// The leader, to change positions in place.
    pub fn leader_mut(&mut self) -> &mut Leader {
        &mut self.leader
    }

    /// Replace the leader.
    pub fn set_leader(&mut self, leader: Leader) {
        self.leader = leader;
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the record has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The field at `index` in file order.
    pub fn field(&self, index: usize) -> Option<FieldRef<'_>> {
        self.fields.get(index).map(|entry| FieldRef {
            record: self,
            entry,
        })
    }

    /// All fields in file order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = FieldRef<'_>> + '_ {
        self.fields.iter().map(move |entry| FieldRef {
            record: self,
            entry,
        })
    }

    /// Fields with the given tag, in file order.
    pub fn fields_with_tag<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = FieldRef<'a>> + 'a {
        self.fields()
            .filter(move |f| f.entry.tag.as_bytes() == tag.as_bytes())
    }

    /// The first field with the given tag.
    pub fn get(&self, tag: &str) -> Option<FieldRef<'_>> {
        self.position(tag).and_then(|i| self.field(i))
    }

    /// Index of the first field with the given tag.
    pub fn position(&self, tag: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|e| e.tag.as_bytes() == tag.as_bytes())
    }

    // ---- building -------------------------------------------------------------------

    /// The record's size as [`Record::reserve_for`] takes it: text bytes, fields, subfields.
    pub(crate) fn size(&self) -> [usize; 3] {
        [self.text.len(), self.fields.len(), self.subfields.len()]
    }

    /// Room for a record of the given [`Record::size`], so a parser that builds records
    /// piece by piece does not grow each buffer step by step.
    pub(crate) fn reserve_for(&mut self, [text, fields, subfields]: [usize; 3]) {
        self.text.reserve(text);
        self.fields.reserve(fields);
        self.subfields.reserve(subfields);
    }

    pub(crate) fn push_text(&mut self, s: &str) -> (u32, u32) {
        self.data_area = None;
        let start = self.text.len();
        self.text.push_str(s);
        (span(start), span(self.text.len()))
    }

    /// Append a control field (parsers call this with text already decoded).
    pub fn push_control(&mut self, tag: Tag, data: &str) {
        let (start, end) = self.push_text(data);
        self.fields.push(FieldEntry {
            tag,
            indicators: [' ', ' '],
            control: true,
            start,
            end,
            raw: (0, 0),
        });
    }

    /// Start a data field; follow with [`Record::push_subfield`] calls.
    pub fn start_data_field(&mut self, tag: Tag, ind1: char, ind2: char) {
        self.data_area = None;
        let at = span(self.subfields.len());
        self.fields.push(FieldEntry {
            tag,
            indicators: [ind1, ind2],
            control: false,
            start: at,
            end: at,
            raw: (0, 0),
        });
    }

    /// Add a subfield to the data field started last.
    pub fn push_subfield(&mut self, code: char, value: &str) {
        let (start, end) = self.push_text(value);
        self.subfields.push(SubfieldEntry { code, start, end });
        if let Some(last) = self.fields.last_mut() {
            last.end = span(self.subfields.len());
            // The parsed form no longer describes the field.
            last.raw = (0, 0);
        }
    }

    /// Entry for an owned field, its text appended to the buffer.
    fn entry_for(&mut self, field: &Field) -> FieldEntry {
        self.data_area = None;
        match field {
            Field::Control { tag, data } => {
                let (start, end) = self.push_text(data);
                FieldEntry {
                    tag: *tag,
                    indicators: [' ', ' '],
                    control: true,
                    start,
                    end,
                    raw: (0, 0),
                }
            }
            Field::Data {
                tag,
                indicators,
                subfields,
            } => {
                let first = span(self.subfields.len());
                for sf in subfields {
                    let (start, end) = self.push_text(&sf.value);
                    self.subfields.push(SubfieldEntry {
                        code: sf.code,
                        start,
                        end,
                    });
                }
                FieldEntry {
                    tag: *tag,
                    indicators: *indicators,
                    control: false,
                    start: first,
                    end: span(self.subfields.len()),
                    raw: (0, 0),
                }
            }
        }
    }

    /// Add a field at the end.
    pub fn push(&mut self, field: &Field) {
        let entry = self.entry_for(field);
        self.fields.push(entry);
    }

    /// Insert a field at `index` (clamped to the end).
    pub fn insert(&mut self, index: usize, field: &Field) {
        let entry = self.entry_for(field);
        let at = index.min(self.fields.len());
        self.data_area = None;
        self.fields.insert(at, entry);
    }

    /// Insert a field before the first field whose numeric tag is greater, keeping numeric
    /// tag order (non-numeric tags, and fields after them, are left where they are).
    pub fn insert_ordered(&mut self, field: &Field) {
        let Some(n) = field.tag().number() else {
            return self.push(field);
        };
        let at = self
            .fields
            .iter()
            .position(|e| e.tag.number().is_none_or(|m| m > n))
            .unwrap_or(self.fields.len());
        self.insert(at, field);
    }

    /// Replace the field at `index`.
    pub fn replace(&mut self, index: usize, field: &Field) -> Result<()> {
        if index >= self.fields.len() {
            return Err(Error::new(ErrorKind::InvalidValue(format!(
                "no field at index {index}"
            ))));
        }
        self.fields[index] = self.entry_for(field);
        Ok(())
    }

    /// Remove and return the field at `index`.
    pub fn remove(&mut self, index: usize) -> Option<Field> {
        let owned = self.field(index)?.to_field();
        self.data_area = None;
        self.fields.remove(index);
        Some(owned)
    }

    /// Remove every field with the given tag; returns how many were removed.
    pub fn remove_tag(&mut self, tag: &str) -> usize {
        let before = self.fields.len();
        self.data_area = None;
        self.fields.retain(|e| e.tag.as_bytes() != tag.as_bytes());
        before - self.fields.len()
    }

    /// Drop text and subfield spans no field uses any more (after many edits).
    pub fn compact(&mut self) {
        let mut fresh = Record::with_leader(self.leader);
        fresh.encoding = self.encoding;
        fresh.text.reserve(self.text.len());
        for f in self.fields() {
            fresh.push(&f.to_field());
        }
        *self = fresh;
    }

    /// An upper bound on the record's size in ISO 2709 (UTF-8), to reserve before writing.
    pub fn marc_size_hint(&self) -> usize {
        // Leader, directory, text, per subfield a delimiter and up to 4 code bytes, per field
        // two indicators of up to 4 bytes each and a terminator, the record terminator.
        24 + 12 * self.fields.len()
            + 1
            + self.text.len()
            + 5 * self.subfields.len()
            + 9 * self.fields.len()
            + 1
    }

    /// The field text buffer and tables' sizes, for callers estimating memory.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    // ---- pymarc-style conveniences ---------------------------------------------------

    /// 245 $a, followed by a space and $b when both are present (pymarc's `title`).
    pub fn title(&self) -> Option<String> {
        self.joined_a_b("245")
    }

    /// 222 $a and $b (pymarc's `issn_title`).
    pub fn issn_title(&self) -> Option<String> {
        self.joined_a_b("222")
    }

    fn joined_a_b(&self, tag: &str) -> Option<String> {
        let f = self.get(tag)?;
        let a = f.subfield('a')?;
        if a.is_empty() {
            return Some(String::new());
        }
        let mut t = a.to_string();
        if let Some(b) = f.subfield('b').filter(|b| !b.is_empty()) {
            t.push(' ');
            t.push_str(b);
        }
        Some(t)
    }

    /// The first ISBN from 020 $a: digits, dashes removed, X kept (pymarc's `isbn`).
    pub fn isbn(&self) -> Option<String> {
        extract_isbn(self.get("020")?.subfield('a')?)
    }

    /// Author from the first 100, 110 or 111, formatted (pymarc's `author`).
    pub fn author(&self) -> Option<String> {
        ["100", "110", "111"]
            .iter()
            .find_map(|t| self.get(t))
            .map(|f| f.format_field())
    }
}

/// The first run of digits, dashes and X in an 020 $a, dashes removed (pymarc's ISBN rule).
pub fn extract_isbn(a: &str) -> Option<String> {
    let is_isbn_char = |c: char| c.is_ascii_digit() || c == '-' || c == 'x' || c == 'X';
    let start = a.find(is_isbn_char)?;
    Some(
        a[start..]
            .chars()
            .take_while(|c| is_isbn_char(*c))
            .filter(|c| *c != '-')
            .collect(),
    )
}

impl PartialEq for Record {
    /// Records are equal when leader and fields are, whatever edits left in their buffers.
    fn eq(&self, other: &Record) -> bool {
        self.leader == other.leader
            && self.len() == other.len()
            && self.fields().zip(other.fields()).all(|(a, b)| a == b)
    }
}

impl Eq for Record {}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("leader", &self.leader)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

impl fmt::Display for Record {
    /// MARC text ("mnemonic") form, as pymarc's `str(record)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::write_record(self, f)
    }
}

/// One step of a reader's iterator: `read` fills a new record, handed out if there was one.
pub(crate) fn read_owned(read: impl FnOnce(&mut Record) -> Result<bool>) -> Option<Result<Record>> {
    let mut rec = Record::new();
    read(&mut rec).map(|more| more.then_some(rec)).transpose()
}

/// A borrowed view of one field of a record.
#[derive(Clone, Copy)]
pub struct FieldRef<'a> {
    record: &'a Record,
    entry: &'a FieldEntry,
}

impl<'a> FieldRef<'a> {
    /// The field's tag.
    pub fn tag(&self) -> Tag {
        self.entry.tag
    }

    /// Whether this is a control field (001-009).
    pub fn is_control(&self) -> bool {
        self.entry.control
    }

    /// A control field's data (`None` for a data field).
    pub fn data(&self) -> Option<&'a str> {
        self.entry
            .control
            .then(|| &self.record.text[self.entry.start as usize..self.entry.end as usize])
    }

    /// Both indicators (blanks for a control field).
    pub fn indicators(&self) -> [char; 2] {
        self.entry.indicators
    }

    /// A data field's ISO 2709 form (indicators, then delimiter, code and value of each
    /// subfield, no terminator) as parsed, when the record's text holds it verbatim.
    pub(crate) fn verbatim(&self) -> Option<&'a str> {
        let (a, b) = self.entry.raw;
        (b > a).then(|| &self.record.text[a as usize..b as usize])
    }

    /// The first indicator.
    pub fn indicator1(&self) -> char {
        self.entry.indicators[0]
    }

    /// The second indicator.
    pub fn indicator2(&self) -> char {
        self.entry.indicators[1]
    }

    /// Subfields in order (none for a control field).
    pub fn subfields(&self) -> impl ExactSizeIterator<Item = SubfieldRef<'a>> + Clone + 'a {
        let range = if self.entry.control {
            0..0
        } else {
            self.entry.start as usize..self.entry.end as usize
        };
        let text = &self.record.text;
        self.record.subfields[range]
            .iter()
            .map(move |s| SubfieldRef {
                code: s.code,
                value: &text[s.start as usize..s.end as usize],
            })
    }

    /// The value of the first subfield with this code.
    pub fn subfield(&self, code: char) -> Option<&'a str> {
        self.subfields().find(|s| s.code == code).map(|s| s.value)
    }

    /// pymarc's `value()`: control data, or subfield values stripped and joined by spaces.
    pub fn value(&self) -> String {
        let mut out = String::new();
        self.write_value(&mut out);
        out
    }

    /// [`FieldRef::value`], appended to `out`.
    pub fn write_value(&self, out: &mut String) {
        if let Some(d) = self.data() {
            out.push_str(d);
            return;
        }
        out.reserve(self.subfields().map(|s| s.value.len() + 1).sum::<usize>());
        for (i, s) in self.subfields().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(crate::text::py_strip(s.value));
        }
    }

    /// pymarc's `format_field()`: like `value()` but skipping $6 and with " -- " before the
    /// subdivisions $v $x $y $z of subject (6XX) fields.
    pub fn format_field(&self) -> String {
        if let Some(d) = self.data() {
            return d.to_string();
        }
        let subject = self.entry.tag.as_bytes()[0] == b'6';
        let mut out = String::new();
        for s in self.subfields() {
            if s.code == '6' {
                continue;
            }
            if subject && matches!(s.code, 'v' | 'x' | 'y' | 'z') {
                out.push_str(" -- ");
            } else {
                out.push(' ');
            }
            out.push_str(s.value);
        }
        crate::text::py_strip(&out).to_string()
    }

    /// An owned copy, for editing.
    pub fn to_field(&self) -> Field {
        match self.data() {
            Some(d) => Field::control(self.tag(), d),
            None => Field::Data {
                tag: self.tag(),
                indicators: self.indicators(),
                subfields: self
                    .subfields()
                    .map(|s| Subfield::new(s.code, s.value))
                    .collect(),
            },
        }
    }
}

impl PartialEq for FieldRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.tag() == other.tag()
            && self.is_control() == other.is_control()
            && self.data() == other.data()
            && (self.is_control() || self.indicators() == other.indicators())
            && self.subfields().eq(other.subfields())
    }
}

impl fmt::Debug for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::write_field(self, f)
    }
}

impl fmt::Display for FieldRef<'_> {
    /// MARC text ("mnemonic") form, as pymarc's `str(field)`: `=245  10$aTitle`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::text::write_field(self, f)
    }
}

/// A borrowed subfield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubfieldRef<'a> {
    /// The subfield code.
    pub code: char,
    /// The subfield's text.
    pub value: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        Tag::new(s).unwrap()
    }

    fn sample() -> Record {
        let mut r = Record::new();
        r.push(&Field::control(tag("001"), "ocm123"));
        r.push(&Field::data(
            tag("245"),
            '1',
            '0',
            vec![
                Subfield::new('a', "The title :"),
                Subfield::new('b', "a subtitle /"),
                Subfield::new('c', "by someone."),
            ],
        ));
        r.push(&Field::data(
            tag("650"),
            ' ',
            '0',
            vec![
                Subfield::new('a', "Cats"),
                Subfield::new('x', "Behavior"),
                Subfield::new('6', "880-01"),
            ],
        ));
        r
    }

    #[test]
    fn lookups_by_tag_and_index() {
        let r = sample();
        assert_eq!(r.len(), 3);
        assert_eq!(r.field(0).unwrap().data(), Some("ocm123"));
        assert!(r.field(0).unwrap().is_control());
        let t = r.get("245").unwrap();
        assert_eq!(t.indicators(), ['1', '0']);
        assert_eq!(t.subfield('b'), Some("a subtitle /"));
        assert_eq!(t.subfield('z'), None);
        assert!(r.get("999").is_none());
        assert_eq!(r.position("650"), Some(2));
    }

    #[test]
    fn convenience_properties_follow_pymarc() {
        let r = sample();
        assert_eq!(r.title().as_deref(), Some("The title : a subtitle /"));
        assert_eq!(r.get("650").unwrap().format_field(), "Cats -- Behavior");
        assert_eq!(r.get("650").unwrap().value(), "Cats Behavior 880-01");
        assert_eq!(r.get("001").unwrap().value(), "ocm123");
        assert_eq!(r.isbn(), None);
        assert_eq!(r.author(), None);
    }

    #[test]
    fn isbn_keeps_digits_and_x() {
        let mut r = Record::new();
        r.push(&Field::data(
            tag("020"),
            ' ',
            ' ',
            vec![Subfield::new('a', "0-8044-2957-X (pbk.)")],
        ));
        assert_eq!(r.isbn().as_deref(), Some("080442957X"));
    }

    #[test]
    fn insert_remove_replace() {
        let mut r = sample();
        r.insert_ordered(&Field::data(
            tag("100"),
            '1',
            ' ',
            vec![Subfield::new('a', "Poe")],
        ));
        let tags: Vec<_> = r.fields().map(|f| f.tag().to_string()).collect();
        assert_eq!(tags, ["001", "100", "245", "650"]);
        r.insert_ordered(&Field::data(tag("999"), ' ', ' ', vec![]));
        assert_eq!(r.field(4).unwrap().tag().as_str(), "999");
        let removed = r.remove(1).unwrap();
        assert_eq!(removed.tag().as_str(), "100");
        r.replace(0, &Field::control(tag("001"), "new")).unwrap();
        assert_eq!(r.get("001").unwrap().data(), Some("new"));
        assert_eq!(r.remove_tag("999"), 1);
        assert_eq!(r.len(), 3);
        let before = r.clone();
        r.compact();
        assert_eq!(r, before);
        assert!(r.text_len() < before.text_len());
    }

    #[test]
    fn alphabetic_tags_are_data_fields() {
        assert!(!tag("00A").is_control());
        assert!(tag("009").is_control());
        assert!(!tag("010").is_control());
        assert!(Tag::new("24").is_err());
        assert!(Tag::new("2é5").is_err());
    }

    #[test]
    fn clone_from_copies_everything_into_the_allocations_it_has() {
        let source = {
            let bytes = crate::iso2709::record_to_bytes(&sample()).unwrap();
            let mut parsed = Record::new();
            crate::iso2709::parse::parse_record(&bytes, &Default::default(), &mut parsed).unwrap();
            parsed
        };
        assert!(
            source.data_area.is_some(),
            "a parsed record keeps its verbatim span"
        );
        let mut target = Record::new();
        for _ in 0..40 {
            let note = Subfield::new('a', "a note of some length".to_string());
            target.push(&Field::data(tag("500"), ' ', ' ', vec![note]));
        }
        target.set_encoding(TextEncoding::Raw);
        let room = target.allocated_bytes();
        target.clone_from(&source);
        assert_eq!(target, source);
        assert_eq!(target.encoding(), source.encoding());
        assert_eq!(target.data_area, source.data_area);
        assert_eq!(target.allocated_bytes(), room, "no buffer was reallocated");
        assert_eq!(
            crate::iso2709::record_to_bytes(&target).unwrap(),
            crate::iso2709::record_to_bytes(&source).unwrap()
        );
    }

    #[test]
    fn prefetch_is_only_a_hint() {
        let r = sample();
        r.prefetch();
        Record::new().prefetch();
        assert_eq!(r, sample());
    }
}
