//! MARCXML (the Library of Congress MARC 21 slim schema) both ways.
//!
//! Reading is a streaming pull parser over quick-xml: one `<record>` at a time, whatever the
//! document's size. It accepts what pymarc's SAX handler accepts: elements are matched by
//! local name with or without a prefix or namespace (or, with
//! [`XmlReaderOptions::marc_namespace_only`], only in the MARCXML namespace), missing
//! indicators are blanks, `<controlfield>` or `<datafield>` decides the kind of field
//! whatever the tag, a `<record>` nested in another (an OAI-PMH wrapper) replaces it, and
//! text is taken as written (no trimming; line ends normalised as XML requires). Where
//! pymarc would fail or quietly drop data (a missing `tag` or `code`, a leader that is not
//! 24 characters, a field nested in a field) it is an error. Only the five predefined
//! entities and character references are recognised: a DTD's entities are never expanded,
//! and using one is an error, so entity bombs and external entities cannot do anything.
//!
//! Writing produces the layout pymarc's `record_to_xml` and `XMLWriter` produce (through
//! ElementTree), byte for byte.
//!
//! ```
//! use fastmarc::xml::{XmlReader, XmlWriter};
//! use fastmarc::{Field, Record, Subfield, Tag};
//!
//! let mut rec = Record::new();
//! rec.push(&Field::data(Tag::new("245")?, '1', '0', vec![Subfield::new('a', "Walden")]));
//!
//! // A <collection> document, as pymarc's XMLWriter writes it.
//! let mut writer = XmlWriter::new(Vec::new());
//! writer.write_record(&rec)?;
//! let document = writer.finish()?;
//! assert!(document.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><collection"));
//!
//! // Read back one record at a time, from any BufRead.
//! let records = XmlReader::new(document.as_slice()).collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(records.len(), 1);
//! assert_eq!(records[0].title().as_deref(), Some("Walden"));
//! # Ok::<(), fastmarc::Error>(())
//! ```

use crate::error::{Error, ErrorKind, Result};
use crate::field::Tag;
use crate::leader::Leader;
use crate::record::Record;
use crate::sink::Sink;
use quick_xml::escape::{resolve_xml_entity, unescape_with};
use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};
use quick_xml::{NsReader, Reader};
use std::borrow::Cow;
use std::io::{BufRead, Write};
use unicode_normalization::UnicodeNormalization;

/// The MARCXML namespace.
pub const MARCXML_NAMESPACE: &str = "http://www.loc.gov/MARC21/slim";
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";
const MARCXML_SCHEMA_LOCATION: &str =
    "http://www.loc.gov/MARC21/slim http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd";

/// Deepest element nesting read by default. MARCXML needs 4 levels, an OAI-PMH response
/// about 8; the bound keeps a hostile document from growing the open-element stack.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// A Unicode normalisation form (Python's `unicodedata.normalize` forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnicodeForm {
    /// Canonical composition.
    Nfc,
    /// Canonical decomposition.
    Nfd,
    /// Compatibility composition.
    Nfkc,
    /// Compatibility decomposition.
    Nfkd,
}

impl UnicodeForm {
    fn apply(self, s: &str) -> String {
        match self {
            UnicodeForm::Nfc => s.nfc().collect(),
            UnicodeForm::Nfd => s.nfd().collect(),
            UnicodeForm::Nfkc => s.nfkc().collect(),
            UnicodeForm::Nfkd => s.nfkd().collect(),
        }
    }
}

/// How MARCXML is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XmlReaderOptions {
    /// Only elements in the MARCXML namespace count; others are skipped with their
    /// markup (their text still joins the enclosing element's), as pymarc's `strict=True`.
    pub marc_namespace_only: bool,
    /// Normalise leader, control field and subfield text (pymarc's `normalize_form`).
    pub normalization: Option<UnicodeForm>,
    /// Deeper element nesting is an error.
    pub max_depth: usize,
}

impl Default for XmlReaderOptions {
    fn default() -> Self {
        XmlReaderOptions {
            marc_namespace_only: false,
            normalization: None,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A field element that is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpenField {
    None,
    Control(Tag),
    Data,
}

/// Where the reader is in the document, and the text gathered for the element at hand.
struct Walk {
    depth: usize,
    seen_root: bool,
    in_record: bool,
    field: OpenField,
    subfield: Option<char>,
    /// Character data since the last element start or end that counts, as pymarc's
    /// handler collects it.
    text: String,
    /// Where the `<record>` element last started.
    record_start: u64,
    /// Whether an indicator attribute was empty (read as a blank; pymarc keeps it empty).
    empty_indicator: bool,
    /// Whether something came before the XML declaration (pymarc's parser refuses it).
    late_declaration: bool,
    /// In a document in memory, where [`first_not_xml_char`] found a character XML does
    /// not allow (`u64::MAX`: none): events ending past here are checked for one. A
    /// stream's input finds its own ([`Scanned`]).
    not_xml_from: u64,
}

/// The XML tokenizer: namespace-aware only when namespaces decide what counts (resolving
/// them costs time on every element).
enum Tokens<R> {
    Plain(Reader<R>),
    Namespaced(NsReader<R>),
}

impl<R> Tokens<R> {
    fn new(inner: R, opts: &XmlReaderOptions) -> Self {
        if opts.marc_namespace_only {
            let mut r = NsReader::from_reader(inner);
            configure(r.config_mut());
            Tokens::Namespaced(r)
        } else {
            let mut r = Reader::from_reader(inner);
            configure(r.config_mut());
            Tokens::Plain(r)
        }
    }

    fn buffer_position(&self) -> u64 {
        match self {
            Tokens::Plain(r) => r.buffer_position(),
            Tokens::Namespaced(r) => r.buffer_position(),
        }
    }

    fn error_position(&self) -> u64 {
        match self {
            Tokens::Plain(r) => r.error_position(),
            Tokens::Namespaced(r) => r.error_position(),
        }
    }

    fn input(&self) -> &R {
        match self {
            Tokens::Plain(r) => r.get_ref(),
            Tokens::Namespaced(r) => r.get_ref(),
        }
    }

    /// The element, by its local name, if it takes part in MARCXML: always, or with
    /// namespaces only in the MARCXML namespace.
    #[inline]
    fn counted_element(&self, name: QName<'_>) -> Option<Element> {
        let local = match self {
            Tokens::Plain(_) => {
                // An unprefixed MARCXML name is its own local name; otherwise what follows
                // the first colon, as `QName::local_name` has it.
                let name = name.into_inner();
                match Element::named(name) {
                    Element::Other => {}
                    known => return Some(known),
                }
                match name.iter().position(|&b| b == b':') {
                    Some(colon) => &name[colon + 1..],
                    None => name,
                }
            }
            Tokens::Namespaced(r) => match r.resolve_element(name) {
                (ResolveResult::Bound(ns), local)
                    if ns.as_ref() == MARCXML_NAMESPACE.as_bytes() =>
                {
                    local.into_inner()
                }
                _ => return None,
            },
        };
        Some(Element::named(local))
    }
}

/// A counted element, named once per tag so start and end handling compare no names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Element {
    Record,
    Leader,
    ControlField,
    DataField,
    Subfield,
    /// Any other name: it still ends the text gathered so far.
    Other,
}

impl Element {
    fn named(local: &[u8]) -> Element {
        // Each name has its own length: one compare of a fixed-size array each, which the
        // compiler does inline, where a match on slices calls memcmp.
        fn is<const N: usize>(local: &[u8], name: &[u8; N]) -> bool {
            <&[u8; N]>::try_from(local).is_ok_and(|l| l == name)
        }
        match local.len() {
            8 if is(local, b"subfield") => Element::Subfield,
            9 if is(local, b"datafield") => Element::DataField,
            12 if is(local, b"controlfield") => Element::ControlField,
            6 if is(local, b"leader") => Element::Leader,
            6 if is(local, b"record") => Element::Record,
            _ => Element::Other,
        }
    }
}

/// Where the events come from, for the event loop ([`read_until_record_end`]), which is
/// compiled once for each kind of source so that reading an event inlines into it.
trait EventSource {
    type Input;

    /// The next event, with the tokenizer that read it (which names its elements and
    /// places errors). Returned together because the event may borrow the source.
    fn next_event(&mut self) -> (quick_xml::Result<Event<'_>>, &Tokens<Self::Input>);

    /// Where the input that `tokens` read holds a character XML does not allow, if the
    /// input keeps track (`u64::MAX`: none so far); otherwise the walk's own mark holds.
    fn not_xml_from(_tokens: &Tokens<Self::Input>) -> Option<u64> {
        None
    }

    fn tokens(&self) -> &Tokens<Self::Input>;
}

/// A stream, through quick-xml's buffered reader, which copies each event into `buf`.
struct Buffered<R> {
    tokens: Tokens<Scanned<WithoutBom<R>>>,
    buf: Vec<u8>,
}

impl<R: BufRead> EventSource for Buffered<R> {
    type Input = Scanned<WithoutBom<R>>;

    #[inline]
    fn next_event(&mut self) -> (quick_xml::Result<Event<'_>>, &Tokens<Self::Input>) {
        let Buffered { tokens, buf } = self;
        buf.clear();
        let event = match tokens {
            Tokens::Plain(r) => r.read_event_into(buf),
            Tokens::Namespaced(r) => r.read_event_into(buf),
        };
        (event, tokens)
    }

    fn tokens(&self) -> &Tokens<Self::Input> {
        &self.tokens
    }

    #[inline]
    fn not_xml_from(tokens: &Tokens<Self::Input>) -> Option<u64> {
        Some(tokens.input().not_xml_from)
    }
}

/// A document in memory, through quick-xml's slice reader: events borrow from the
/// document, with no copy and less work per event.
impl<'a> EventSource for Tokens<&'a [u8]> {
    type Input = &'a [u8];

    #[inline]
    fn next_event(&mut self) -> (quick_xml::Result<Event<'_>>, &Tokens<&'a [u8]>) {
        let event = match self {
            Tokens::Plain(r) => r.read_event(),
            Tokens::Namespaced(r) => r.read_event(),
        };
        (event, self)
    }

    fn tokens(&self) -> &Tokens<&'a [u8]> {
        self
    }
}

/// The reader's source of events.
enum Source<R> {
    Stream(Buffered<R>),
    /// Only made where `R` is a slice ([`XmlReader::from_slice`]), which is where the
    /// slice reader's event loop can be named; the loop runs once per record, so calling
    /// it through a pointer costs nothing that matters.
    Slice {
        tokens: Tokens<R>,
        read: fn(&mut Tokens<R>, &mut Walk, XmlReaderOptions, &mut Record) -> Step,
    },
}

impl<R> Source<R> {
    fn buffer_position(&self) -> u64 {
        match self {
            Source::Stream(s) => s.tokens.buffer_position(),
            Source::Slice { tokens, .. } => tokens.buffer_position(),
        }
    }
}

fn configure(config: &mut quick_xml::reader::Config) {
    // `<subfield code="b"/>` is a subfield with empty text, as with a start and end tag.
    config.expand_empty_elements = true;
    config.trim_text(false);
    config.check_end_names = true;
}

/// The input less a leading UTF-8 byte order mark. quick-xml looks for the mark only in
/// the bytes its first `fill_buf` returns, so a stream that delivers them in smaller pieces
/// (a pipe, a socket) would have it read as text outside the root element.
struct WithoutBom<R> {
    inner: R,
    /// Leading bytes that began like the mark but were not one: handed out first.
    held: [u8; 3],
    held_len: usize,
    held_pos: usize,
    checked: bool,
    /// A mark was dropped and nothing has been handed out yet: a second mark right after
    /// it is content (an error), which quick-xml must not drop as a mark of its own.
    dropped_mark: bool,
}

impl<R: BufRead> WithoutBom<R> {
    fn new(inner: R) -> Self {
        WithoutBom {
            inner,
            held: [0; 3],
            held_len: 0,
            held_pos: 0,
            checked: false,
            dropped_mark: false,
        }
    }

    /// Take the mark's bytes one at a time while they match; drop them if all three do.
    fn check(&mut self) -> std::io::Result<()> {
        const BOM: &[u8; 3] = b"\xEF\xBB\xBF";
        while self.held_len < BOM.len() {
            let next = match self.inner.fill_buf() {
                Ok(buf) => buf.first().copied(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if next != Some(BOM[self.held_len]) {
                break;
            }
            self.inner.consume(1);
            self.held[self.held_len] = BOM[self.held_len];
            self.held_len += 1;
        }
        if self.held_len == BOM.len() {
            self.held_len = 0;
            self.dropped_mark = true;
        }
        self.checked = true;
        Ok(())
    }
}

/// `Read` for a wrapper whose `BufRead` does the work.
fn read_buffered(input: &mut impl BufRead, out: &mut [u8]) -> std::io::Result<usize> {
    let buf = input.fill_buf()?;
    let n = buf.len().min(out.len());
    out[..n].copy_from_slice(&buf[..n]);
    input.consume(n);
    Ok(n)
}

impl<R: BufRead> std::io::Read for WithoutBom<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        read_buffered(self, out)
    }
}

impl<R: BufRead> BufRead for WithoutBom<R> {
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        // quick-xml asks for the buffer several times per event: after the start, nothing
        // is left to do but hand on the inner reader's.
        if self.checked && !self.dropped_mark && self.held_pos == self.held_len {
            return self.inner.fill_buf();
        }
        if !self.checked {
            self.check()?;
        }
        if self.held_pos < self.held_len {
            return Ok(&self.held[self.held_pos..self.held_len]);
        }
        if std::mem::take(&mut self.dropped_mark) {
            // quick-xml drops a mark at the start of the first buffer it sees; handing out
            // a first byte of 0xEF alone keeps a second mark from looking like one (a slice
            // and a stream delivering it in pieces then agree).
            let buf = self.inner.fill_buf()?;
            return Ok(if buf.first() == Some(&0xEF) {
                &buf[..1]
            } else {
                buf
            });
        }
        self.inner.fill_buf()
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        if self.held_pos == self.held_len {
            self.inner.consume(n);
            return;
        }
        let from_held = n.min(self.held_len - self.held_pos);
        self.held_pos += from_held;
        if n > from_held {
            self.inner.consume(n - from_held);
        }
    }
}

/// A stream's input, scanned as it arrives for characters XML does not allow, as a
/// document in memory is scanned whole ([`first_not_xml_char`]): the event loop checks
/// events only from the first such character on (checking every event cost the stream
/// reader a tenth of its time).
struct Scanned<R> {
    inner: R,
    /// Bytes consumed: where the buffer `inner` hands out begins.
    pos: u64,
    /// Bytes scanned.
    scanned: u64,
    /// Where the first character XML does not allow begins, or where one may begin that
    /// the bytes scanned so far do not show whole; `u64::MAX`: none so far.
    not_xml_from: u64,
}

impl<R> Scanned<R> {
    fn new(inner: R) -> Self {
        Scanned {
            inner,
            pos: 0,
            scanned: 0,
            not_xml_from: u64::MAX,
        }
    }
}

impl<R: BufRead> std::io::Read for Scanned<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        read_buffered(self, out)
    }
}

impl<R: BufRead> BufRead for Scanned<R> {
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        let end = self.pos + buf.len() as u64;
        // quick-xml asks for the buffer several times per event: new bytes are rare.
        if end > self.scanned {
            if self.not_xml_from == u64::MAX {
                let new = &buf[(self.scanned - self.pos) as usize..];
                if let Some(at) = scan_not_xml(new, false) {
                    self.not_xml_from = self.scanned + at as u64;
                }
            }
            self.scanned = end;
        }
        Ok(buf)
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.pos += n as u64;
    }
}

/// Streams records from a MARCXML `<collection>` (or a lone `<record>`).
///
/// Memory stays at one record plus quick-xml's buffer for one event. A whole document
/// already in memory reads faster through [`XmlReader::from_slice`].
pub struct XmlReader<R> {
    xml: Source<R>,
    opts: XmlReaderOptions,
    state: Walk,
    /// Records delivered so far; the number of the record being read.
    count: u64,
    /// [`Record::size`] of the record last delivered by the iterator.
    last_size: [usize; 3],
    done: bool,
}

/// What went wrong, and where (byte offset), before the record number is attached.
type Failure = (String, u64);

impl<R: BufRead> XmlReader<R> {
    /// A reader with the default options.
    pub fn new(inner: R) -> Self {
        XmlReader::with_options(inner, XmlReaderOptions::default())
    }

    /// A reader with the given options.
    pub fn with_options(inner: R, opts: XmlReaderOptions) -> Self {
        let xml = Source::Stream(Buffered {
            tokens: Tokens::new(Scanned::new(WithoutBom::new(inner)), &opts),
            buf: Vec::with_capacity(1024),
        });
        XmlReader::from_source(xml, opts)
    }

    fn from_source(xml: Source<R>, opts: XmlReaderOptions) -> Self {
        XmlReader {
            xml,
            opts,
            state: Walk {
                depth: 0,
                seen_root: false,
                in_record: false,
                field: OpenField::None,
                subfield: None,
                text: String::new(),
                record_start: 0,
                empty_indicator: false,
                late_declaration: false,
                not_xml_from: u64::MAX,
            },
            count: 0,
            last_size: [0; 3],
            done: false,
        }
    }

    /// Byte offset just past what has been parsed.
    pub fn offset(&self) -> u64 {
        self.xml.buffer_position()
    }

    /// Byte offset of the `<record>` start tag of the record last read.
    pub fn record_offset(&self) -> u64 {
        self.state.record_start
    }

    /// Records read so far.
    pub fn records_read(&self) -> u64 {
        self.count
    }

    /// Whether pymarc's parser reads the records read so far as the same records: no
    /// indicator attribute was empty (this reader takes an empty one as a blank, as it
    /// does a missing one; pymarc keeps it empty), and nothing came before the XML
    /// declaration (white space there is fine here; pymarc's parser refuses it).
    pub fn pymarc_shaped(&self) -> bool {
        !self.state.empty_indicator && !self.state.late_declaration
    }

    /// Read the next record into `rec`. `Ok(false)` at the end of the document. After an
    /// error the reader is finished.
    pub fn read_record(&mut self, rec: &mut Record) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        match self.advance(rec) {
            Ok(true) => {
                self.count += 1;
                Ok(true)
            }
            Ok(false) => {
                self.done = true;
                Ok(false)
            }
            Err((message, offset)) => {
                self.done = true;
                Err(Error::at(ErrorKind::Xml(message), self.count, offset))
            }
        }
    }

    /// Consume events until a record closes (`true`) or the document ends (`false`).
    fn advance(&mut self, rec: &mut Record) -> Step {
        match &mut self.xml {
            Source::Stream(s) => read_until_record_end(s, &mut self.state, self.opts, rec),
            Source::Slice { tokens, read } => read(tokens, &mut self.state, self.opts, rec),
        }
    }
}

/// What reading towards the next record end came to.
type Step = std::result::Result<bool, Failure>;

/// The event loop: consume events until a record closes (`true`) or the document ends
/// (`false`).
fn read_until_record_end<S: EventSource>(
    xml: &mut S,
    st: &mut Walk,
    opts: XmlReaderOptions,
    rec: &mut Record,
) -> Step {
    loop {
        let event_start = xml.tokens().buffer_position();
        let (event, tokens) = xml.next_event();
        let event = match event {
            Ok(event) => event,
            Err(e) => return Err((e.to_string(), tokens.error_position())),
        };
        let fail = |message: String| (message, event_start);
        // Nearly every document has no such character: one test of a constant then.
        let not_xml_from = S::not_xml_from(tokens).unwrap_or(st.not_xml_from);
        if not_xml_from != u64::MAX && tokens.buffer_position() > not_xml_from {
            if let Some(failure) = check_event(&event, event_start) {
                return Err(failure);
            }
        }
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                // Empty elements are expanded by the reader's configuration; should one
                // arrive anyway it is a start and an end.
                let empty = matches!(event, Event::Empty(_));
                if st.depth == 0 {
                    if st.seen_root {
                        return Err(fail("content after the root element".into()));
                    }
                    st.seen_root = true;
                }
                st.depth += 1;
                if st.depth > opts.max_depth {
                    return Err(fail(format!(
                        "elements nested deeper than {} levels",
                        opts.max_depth
                    )));
                }
                if empty {
                    st.depth -= 1;
                }
                let Some(local) = tokens.counted_element(e.name()) else {
                    check_start_tag(e).map_err(fail)?;
                    continue;
                };
                st.text.clear();
                let was_in_record = st.in_record;
                start_element(st, local, e, rec).map_err(fail)?;
                if st.in_record && !was_in_record {
                    st.record_start = event_start;
                }
                if empty {
                    let closed = end_element(st, local, opts.normalization, rec).map_err(fail)?;
                    st.text.clear();
                    if closed {
                        return Ok(true);
                    }
                }
            }
            Event::End(e) => {
                // quick-xml rejects an end tag without its start, so this stays >= 0.
                st.depth = st.depth.saturating_sub(1);
                let Some(local) = tokens.counted_element(e.name()) else {
                    continue;
                };
                let closed_record =
                    end_element(st, local, opts.normalization, rec).map_err(fail)?;
                st.text.clear();
                if closed_record {
                    return Ok(true);
                }
            }
            Event::Text(t) => {
                let text = match plain_text(&t) {
                    Some(text) => Cow::Borrowed(text),
                    None => t.xml10_content().map_err(|e| fail(not_utf8(e)))?,
                };
                take_text(st, &text).map_err(fail)?;
            }
            Event::CData(t) => {
                let text = t.xml10_content().map_err(|e| fail(not_utf8(e)))?;
                take_text(st, &text).map_err(fail)?;
            }
            Event::GeneralRef(r) => {
                let mut utf8 = [0u8; 4];
                let text = resolve_reference(&r, &mut utf8).map_err(fail)?;
                take_text(st, text).map_err(fail)?;
            }
            Event::Eof => {
                if st.depth > 0 {
                    return Err(fail(format!(
                        "document ends inside an element ({} still open)",
                        st.depth
                    )));
                }
                if !st.seen_root {
                    return Err(fail("document has no root element".into()));
                }
                return Ok(false);
            }
            // Declarations, DOCTYPE (its entities are never used), comments and
            // processing instructions carry no record data.
            Event::Decl(d) => {
                if event_start != 0 {
                    // White space before it is fine here (the command takes such input);
                    // pymarc's parser refuses it, and so anything else before it.
                    if st.seen_root {
                        return Err(fail("an XML declaration inside the document".into()));
                    }
                    st.late_declaration = true;
                }
                check_declaration(&d).map_err(fail)?;
            }
            Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
}

impl<'a> XmlReader<&'a [u8]> {
    /// A reader of a whole document in memory, with the given options: the same records
    /// and errors as [`XmlReader::with_options`] on the same bytes, read faster (events
    /// borrow from `data` rather than being copied out of it).
    pub fn from_slice(data: &'a [u8], opts: XmlReaderOptions) -> Self {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        let Some(rest) = data.strip_prefix(BOM) else {
            // No mark to drop: quick-xml's own check finds none either.
            return XmlReader::over_slice(data, opts);
        };
        if rest.starts_with(BOM) {
            // A second mark is content, which quick-xml's slice reader would drop as a
            // mark of its own; the stream reading keeps it (rare enough not to matter).
            return XmlReader::with_options(data, opts);
        }
        XmlReader::over_slice(rest, opts)
    }

    fn over_slice(doc: &'a [u8], opts: XmlReaderOptions) -> Self {
        let mut reader = XmlReader::from_source(
            Source::Slice {
                tokens: Tokens::new(doc, &opts),
                read: read_until_record_end,
            },
            opts,
        );
        reader.state.not_xml_from = first_not_xml_char(doc);
        reader
    }
}

impl<R: BufRead> Iterator for XmlReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        let mut rec = Record::new();
        // Consecutive records are alike in size: sizing each from the one before saves
        // most of the reallocation as its text and fields arrive.
        rec.reserve_for(self.last_size);
        match self.read_record(&mut rec) {
            Ok(true) => {
                self.last_size = rec.size();
                Some(Ok(rec))
            }
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// Read every record of a MARCXML document in memory; the first error ends it.
pub fn parse_xml(data: &[u8]) -> Result<Vec<Record>> {
    XmlReader::from_slice(data, XmlReaderOptions::default()).collect()
}

fn start_element(
    st: &mut Walk,
    local: Element,
    e: &BytesStart<'_>,
    rec: &mut Record,
) -> std::result::Result<(), String> {
    match local {
        Element::Record => {
            check_attributes(e.attributes_raw())?;
            // A record inside a record (an OAI-PMH wrapper called `record`): the inner one
            // is the MARC record, as with pymarc.
            rec.clear();
            st.in_record = true;
            st.field = OpenField::None;
            st.subfield = None;
        }
        Element::ControlField if st.in_record => {
            if st.field != OpenField::None {
                return Err("<controlfield> inside another field".into());
            }
            let tag = match Layout::CONTROL.read(e.attributes_raw()).and_then(|v| v.tag) {
                Some(tag) => tag,
                None => {
                    let [tag] = attributes(e, ["tag"])?;
                    parse_tag(&required(tag, "tag", "controlfield")?)?
                }
            };
            st.field = OpenField::Control(tag);
        }
        Element::DataField if st.in_record => {
            if st.field != OpenField::None {
                return Err("<datafield> inside another field".into());
            }
            let raw = e.attributes_raw();
            let laid_out = Layout::DATA.iter().find_map(|layout| layout.read(raw));
            match laid_out.and_then(|v| Some((v.tag?, v.chars))) {
                Some((tag, [ind1, ind2])) => rec.start_data_field(tag, ind1, ind2),
                None => {
                    let [tag, ind1, ind2] = attributes(e, ["tag", "ind1", "ind2"])?;
                    let tag = parse_tag(&required(tag, "tag", "datafield")?)?;
                    st.empty_indicator |=
                        ind1.as_deref() == Some("") || ind2.as_deref() == Some("");
                    let ind1 = indicator(ind1.as_deref(), "ind1", tag)?;
                    let ind2 = indicator(ind2.as_deref(), "ind2", tag)?;
                    rec.start_data_field(tag, ind1, ind2);
                }
            }
            st.field = OpenField::Data;
        }
        Element::Subfield if st.field == OpenField::Data => {
            if st.subfield.is_some() {
                return Err("<subfield> inside another <subfield>".into());
            }
            let code = match Layout::SUBFIELD.read(e.attributes_raw()) {
                Some(v) => v.chars[0],
                None => {
                    let [code] = attributes(e, ["code"])?;
                    subfield_code(&required(code, "code", "subfield")?)?
                }
            };
            st.subfield = Some(code);
        }
        Element::Other => check_start_tag(e)?,
        _ => {
            check_attributes(e.attributes_raw())?;
        }
    }
    Ok(())
}

/// A start tag's attributes exactly as MARCXML writers lay them out, `?` standing for a
/// value byte. Nearly every tag matches one, and reading the values from known places
/// spares the general attribute reading; any other tag (or value) takes that instead,
/// which gives the same values for these and words every error.
struct Layout {
    bytes: &'static [u8],
    /// Where the three bytes of `tag` start, if it has one.
    tag: Option<usize>,
    /// Where the one-byte values are: `ind1` and `ind2`, or `code` (twice); unused for a
    /// control field.
    chars: [usize; 2],
}

/// What a [`Layout`] holds.
struct LaidOut {
    tag: Option<Tag>,
    chars: [char; 2],
}

impl Layout {
    const CONTROL: Layout = Layout {
        bytes: b" tag=\"???\"",
        tag: Some(6),
        chars: [6, 6],
    };
    /// pymarc's (ElementTree's) order, then the Library of Congress's.
    const DATA: [Layout; 2] = [
        Layout {
            bytes: b" ind1=\"?\" ind2=\"?\" tag=\"???\"",
            tag: Some(24),
            chars: [7, 16],
        },
        Layout {
            bytes: b" tag=\"???\" ind1=\"?\" ind2=\"?\"",
            tag: Some(6),
            chars: [17, 26],
        },
    ];
    const SUBFIELD: Layout = Layout {
        bytes: b" code=\"?\"",
        tag: None,
        chars: [7, 7],
    };

    fn read(&self, raw: &[u8]) -> Option<LaidOut> {
        // A value byte is one the attribute reading takes as it stands and every value
        // check accepts: printable ASCII or a space, other than a quote, `&` or `<`.
        let value_byte =
            |b: u8| (b.is_ascii_graphic() || b == b' ') && !matches!(b, b'"' | b'&' | b'<');
        let fits = raw.len() == self.bytes.len()
            && raw
                .iter()
                .zip(self.bytes)
                .all(|(&r, &l)| if l == b'?' { value_byte(r) } else { r == l });
        if !fits {
            return None;
        }
        let tag = match self.tag {
            Some(at) => Some(Tag::from_bytes(&raw[at..at + 3]).ok()?),
            None => None,
        };
        Some(LaidOut {
            tag,
            chars: self.chars.map(|at| char::from(raw[at])),
        })
    }
}

/// Handle a counted end tag; `true` when it closes a record.
fn end_element(
    st: &mut Walk,
    local: Element,
    form: Option<UnicodeForm>,
    rec: &mut Record,
) -> std::result::Result<bool, String> {
    match local {
        Element::Record if st.in_record => {
            st.in_record = false;
            st.field = OpenField::None;
            st.subfield = None;
            return Ok(true);
        }
        Element::Leader if st.in_record => {
            let text = element_text(&st.text, form);
            let leader = Leader::from_bytes(text.as_bytes()).map_err(|_| {
                format!(
                    "leader {:?} is not 24 ASCII characters",
                    abbreviate(&text, 40)
                )
            })?;
            rec.set_leader(leader);
        }
        Element::ControlField if st.in_record => {
            if let OpenField::Control(tag) = st.field {
                rec.push_control(tag, &element_text(&st.text, form));
                st.field = OpenField::None;
            }
        }
        Element::DataField if st.in_record && st.field == OpenField::Data => {
            st.field = OpenField::None;
        }
        Element::Subfield => {
            if let Some(code) = st.subfield.take() {
                rec.push_subfield(code, &element_text(&st.text, form));
            }
        }
        _ => {}
    }
    Ok(false)
}

fn element_text(text: &str, form: Option<UnicodeForm>) -> Cow<'_, str> {
    match form {
        Some(f) => Cow::Owned(f.apply(text)),
        None => Cow::Borrowed(text),
    }
}

/// [`not_xml_char`] of an event that starts at `at`. Kept out of the event loop: in a
/// document in memory it runs only from the first such character on.
#[cold]
#[inline(never)]
fn check_event(event: &Event<'_>, at: u64) -> Option<Failure> {
    not_xml_char(event).map(|(i, c)| not_allowed(c, at + i as u64))
}

fn not_allowed(c: char, at: u64) -> Failure {
    let message = format!("character U+{:04X} is not allowed in XML", c as u32);
    (message, at)
}

/// Whether a byte may start a character XML 1.0 does not allow: a C0 control other than
/// tab, LF and CR, or 0xEF (which starts U+F000-U+FFFF, U+FFFE and U+FFFF among them).
#[inline(always)]
fn suspect(b: u8) -> bool {
    ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0xEF)
}

/// The first character of `raw` that XML 1.0 does not allow (a C0 control other than tab,
/// LF and CR; U+FFFE; U+FFFF), and where it is. An XML parser must reject the document
/// (pymarc's does), wherever in it the character stands. Other bad UTF-8 is reported
/// where text is decoded.
#[inline]
fn not_xml_char(raw: &[u8]) -> Option<(usize, char)> {
    // One branch-free pass; only bytes with a suspect one are looked at closer.
    if !raw.iter().fold(false, |seen, &b| seen | suspect(b)) {
        return None;
    }
    raw.iter().enumerate().find_map(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' => None,
        0..0x20 => Some((i, char::from(b))),
        0xEF => match raw.get(i + 1..i + 3) {
            Some([0xBF, 0xBE]) => Some((i, '\u{FFFE}')),
            Some([0xBF, 0xBF]) => Some((i, '\u{FFFF}')),
            _ => None,
        },
        _ => None,
    })
}

/// Where the first character of a whole document that XML does not allow starts
/// ([`not_xml_char`]), `u64::MAX` for none: a document in memory is scanned once, so that
/// its events need checking only from there on.
fn first_not_xml_char(doc: &[u8]) -> u64 {
    scan_not_xml(doc, true).map_or(u64::MAX, |at| at as u64)
}

/// Where the first character of `bytes` that XML does not allow starts, found in blocks
/// the compiler vectorises. Unless `bytes` is `complete`, more may follow: a character it
/// does not show whole may be one, and where its block starts is given.
fn scan_not_xml(bytes: &[u8], complete: bool) -> Option<usize> {
    const BLOCK: usize = 64;
    fn seen<'a>(block: impl IntoIterator<Item = &'a u8>) -> u8 {
        block
            .into_iter()
            .fold(0u8, |seen, &b| seen | u8::from(suspect(b)))
    }
    let blocks = bytes.chunks_exact(BLOCK);
    let tail = blocks.remainder();
    // Each block as an array: its length known, the fold is vectorised.
    let whole = blocks.map(|block| seen(<&[u8; BLOCK]>::try_from(block).unwrap()));
    for (k, seen) in whole.chain([seen(tail)]).enumerate() {
        if seen != 0 {
            let from = k * BLOCK;
            // Two bytes more: U+FFFE or U+FFFF may start at the block's end.
            let upto = from + BLOCK + 2;
            if let Some((at, _)) = not_xml_char(&bytes[from..upto.min(bytes.len())]) {
                return Some(from + at);
            }
            if !complete && upto > bytes.len() {
                return Some(from);
            }
        }
    }
    None
}

/// Text that is valid UTF-8 and has no carriage return, as it stands: what quick-xml's
/// `xml10_content` would give, without its slower decoding. `None` for the rest, which
/// `xml10_content` decodes (and words the error for).
fn plain_text(t: &[u8]) -> Option<&str> {
    // One branch-free pass over the bytes (most texts are short and ASCII) finds both a
    // carriage return and any byte that needs UTF-8 validation.
    let seen = t
        .iter()
        .fold(0u8, |seen, &b| seen | (b & 0x80) | u8::from(b == b'\r'));
    match seen {
        // SAFETY: every byte is ASCII, so the bytes are UTF-8.
        0 => Some(unsafe { std::str::from_utf8_unchecked(t) }),
        0x80 => simdutf8::basic::from_utf8(t).ok(),
        _ => None,
    }
}

/// Character data: kept while a record is open; outside the root only whitespace may appear.
fn take_text(st: &mut Walk, text: &str) -> std::result::Result<(), String> {
    if st.depth == 0 {
        if text
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            return Ok(());
        }
        return Err("text outside the root element".into());
    }
    if st.in_record {
        st.text.push_str(text);
    }
    Ok(())
}

/// A character reference or one of the five predefined entities. Anything else would need
/// a DTD, whose entities are deliberately never expanded.
fn resolve_reference<'a>(
    r: &BytesRef<'_>,
    utf8: &'a mut [u8; 4],
) -> std::result::Result<&'a str, String> {
    let name = r.decode().map_err(not_utf8)?;
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| format!("bad character reference &{name};: {e}"))?
    {
        if !is_xml_char(c) {
            return Err(format!(
                "character reference &{name}; is to U+{:04X}, which XML does not allow",
                c as u32
            ));
        }
        return Ok(c.encode_utf8(utf8));
    }
    match resolve_xml_entity(&name) {
        Some(s) => Ok(s),
        None => Err(format!(
            "entity &{name}; is not a predefined XML entity (DTD entities are not expanded)"
        )),
    }
}

fn not_utf8(e: impl std::fmt::Display) -> String {
    format!("text is not valid UTF-8 (only UTF-8 MARCXML is read): {e}")
}

/// A start tag of an element that does not count as XML 1.0 has it: its name an XML name,
/// then [`check_attributes`].
fn check_start_tag(e: &BytesStart<'_>) -> std::result::Result<(), String> {
    let name = e.name().into_inner();
    if name_end(name, 0) != Some(name.len()) {
        return Err(format!(
            "element name {:?} is not an XML name",
            String::from_utf8_lossy(name)
        ));
    }
    check_attributes(e.attributes_raw()).map(drop)
}

/// A start tag's attributes (what follows its name) as XML 1.0 has them: each after white
/// space, a name, `=` and a quoted value with no `<`, whose `&` start references to the
/// predefined entities or to characters XML allows; no name twice. pymarc's parser refuses
/// a document otherwise. (Tags read from known places, [`Layout`], are well formed by
/// their shape; only the others come here.) The names, in order.
fn check_attributes(raw: &[u8]) -> std::result::Result<Vec<&[u8]>, String> {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let skip_space = |mut i: usize| {
        while i < raw.len() && space(raw[i]) {
            i += 1;
        }
        i
    };
    let mut names: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    loop {
        let after_space = skip_space(i);
        if after_space == raw.len() {
            return Ok(names);
        }
        if after_space == i {
            return Err("attributes must be separated by white space".into());
        }
        i = after_space;
        let end = name_end(raw, i).ok_or("an attribute name is not an XML name")?;
        let name = &raw[i..end];
        if names.contains(&name) {
            let name = String::from_utf8_lossy(name);
            return Err(format!("duplicate attribute {name}"));
        }
        names.push(name);
        i = skip_space(end);
        if raw.get(i) != Some(&b'=') {
            let name = String::from_utf8_lossy(name);
            return Err(format!("attribute {name} has no value"));
        }
        i = skip_space(i + 1);
        let quote = *raw
            .get(i)
            .filter(|&&q| q == b'"' || q == b'\'')
            .ok_or("an attribute value is not quoted")?;
        let len = raw[i + 1..]
            .iter()
            .position(|&b| b == quote)
            .ok_or("an attribute value is not closed")?;
        check_attribute_value(&raw[i + 1..i + 1 + len])?;
        i += len + 2;
    }
}

/// An attribute value has no `<`, and each `&` starts a reference to a predefined entity
/// or to a character XML allows.
fn check_attribute_value(value: &[u8]) -> std::result::Result<(), String> {
    if value.contains(&b'<') {
        return Err("an attribute value holds '<'".into());
    }
    let mut rest = value;
    while let Some(at) = rest.iter().position(|&b| b == b'&') {
        let after = &rest[at + 1..];
        let len = after
            .iter()
            .position(|&b| b == b';')
            .ok_or("'&' in an attribute value starts no reference")?;
        let name = std::str::from_utf8(&after[..len]).unwrap_or("");
        let number = match name.strip_prefix("#x") {
            Some(hex) => u32::from_str_radix(hex, 16)
                .ok()
                .filter(|_| !hex.starts_with('+')),
            None => name
                .strip_prefix('#')
                .and_then(|n| n.parse().ok().filter(|_| !n.starts_with('+'))),
        };
        let known = match number {
            Some(n) => char::from_u32(n).is_some_and(is_xml_char),
            None => !name.starts_with('#') && resolve_xml_entity(name).is_some(),
        };
        if !known {
            return Err(format!(
                "attribute value: &{name}; is not a reference XML allows here (DTD entities \
                 are not expanded)"
            ));
        }
        rest = &after[len + 1..];
    }
    Ok(())
}

/// Where the XML name starting at `raw[from]` ends; `None` when none starts there.
fn name_end(raw: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some((c, len)) = char_at(raw, i) {
        let fits = if i == from {
            is_name_start_char(c)
        } else {
            is_name_char(c)
        };
        if !fits {
            break;
        }
        i += len;
    }
    (i > from).then_some(i)
}

/// The UTF-8 character at `raw[i]` and its length; `None` at the end or at bad UTF-8.
fn char_at(raw: &[u8], i: usize) -> Option<(char, usize)> {
    let first = *raw.get(i)?;
    let len = match first {
        0..0x80 => return Some((char::from(first), 1)),
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        0xF0..0xF8 => 4,
        _ => return None,
    };
    let c = std::str::from_utf8(raw.get(i..i + len)?)
        .ok()?
        .chars()
        .next()?;
    Some((c, len))
}

/// XML 1.0's `NameStartChar`.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0's `NameChar`.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// The XML declaration as XML 1.0 has it: `version` (1.x), then `encoding` and
/// `standalone` if present, nothing else.
fn check_declaration(d: &BytesDecl<'_>) -> std::result::Result<(), String> {
    let raw: &[u8] = d;
    let attrs = raw.strip_prefix(b"xml").unwrap_or(raw);
    let names = check_attributes(attrs).map_err(|e| format!("XML declaration: {e}"))?;
    let bad = || "XML declaration: version, then encoding and standalone if present".to_string();
    let version = d.version().map_err(|_| bad())?;
    let digits = version.strip_prefix(b"1.").ok_or_else(bad)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let mut order = vec![b"version".as_slice()];
    if let Some(encoding) = d.encoding() {
        let encoding = encoding.map_err(|_| bad())?;
        let fits = encoding.first().is_some_and(u8::is_ascii_alphabetic)
            && encoding
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !fits {
            return Err(bad());
        }
        order.push(b"encoding");
    }
    if let Some(standalone) = d.standalone() {
        let standalone = standalone.map_err(|_| bad())?;
        if !matches!(&*standalone, b"yes" | b"no") {
            return Err(bad());
        }
        order.push(b"standalone");
    }
    // The names, in the order they came, must be exactly those.
    if names != order {
        return Err(bad());
    }
    Ok(())
}

/// The values of the named unprefixed attributes: unescaped (predefined entities and
/// character references only) after XML attribute-value normalisation of literal tabs and
/// newlines. A repeated one is an error.
fn attributes<'a, const N: usize>(
    e: &'a BytesStart<'a>,
    names: [&str; N],
) -> std::result::Result<[Option<Cow<'a, str>>; N], String> {
    // The values read first: their errors say more than the general check's.
    let values = read_attributes(e, names)?;
    check_attributes(e.attributes_raw())?;
    Ok(values)
}

fn read_attributes<'a, const N: usize>(
    e: &'a BytesStart<'a>,
    names: [&str; N],
) -> std::result::Result<[Option<Cow<'a, str>>; N], String> {
    if let Some(found) = plain_attributes(e.attributes_raw(), names) {
        let mut values = [const { None }; N];
        let mut ok = true;
        for (i, raw) in found.into_iter().enumerate() {
            if let Some(raw) = raw {
                match attribute_value(raw, names[i]) {
                    Ok(value) => values[i] = Some(value),
                    Err(_) => ok = false,
                }
            }
        }
        // A bad value: which error comes first depends on the document's order of the
        // attributes, which the checked reading follows.
        if ok {
            return Ok(values);
        }
    }
    attributes_checked(e, names)
}

/// The raw values of the named attributes, read the way quick-xml reads attributes, when
/// the tag is well formed and names none of them twice; `None` otherwise, for
/// [`attributes_checked`] to give quick-xml's verdict. quick-xml's iterator costs more than
/// the rest of an element's handling, and nearly every tag takes this path.
fn plain_attributes<'a, const N: usize>(
    raw: &'a [u8],
    names: [&str; N],
) -> Option<[Option<&'a [u8]>; N]> {
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let mut found = [None; N];
    let mut i = 0;
    loop {
        while i < raw.len() && space(raw[i]) {
            i += 1;
        }
        if i == raw.len() {
            return Some(found);
        }
        // The first byte belongs to the key whatever it is (even `=`), as with quick-xml.
        let key_start = i;
        i += 1;
        while i < raw.len() && raw[i] != b'=' && !space(raw[i]) {
            i += 1;
        }
        let key = &raw[key_start..i];
        while i < raw.len() && space(raw[i]) {
            i += 1;
        }
        if raw.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while i < raw.len() && space(raw[i]) {
            i += 1;
        }
        let quote = *raw.get(i).filter(|&&q| q == b'"' || q == b'\'')?;
        let value_start = i + 1;
        // Values are a few bytes: a loop costs less than memchr's setup.
        let value_len = raw[value_start..].iter().position(|&b| b == quote)?;
        i = value_start + value_len + 1;
        if let Some(n) = names.iter().position(|n| same_bytes(key, n.as_bytes())) {
            if found[n].is_some() {
                return None;
            }
            found[n] = Some(&raw[value_start..value_start + value_len]);
        }
    }
}

/// Slice equality inlined: for names of a few bytes, a call to memcmp costs more.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// [`attributes`] through quick-xml's attribute iterator, which words every error.
fn attributes_checked<'a, const N: usize>(
    e: &'a BytesStart<'a>,
    names: [&str; N],
) -> std::result::Result<[Option<Cow<'a, str>>; N], String> {
    let mut values = [const { None }; N];
    // quick-xml's own duplicate check allocates for every element; the attributes that
    // matter are checked here instead.
    for attr in e.attributes().with_checks(false) {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        let Some(i) = names.iter().position(|n| attr.key.as_ref() == n.as_bytes()) else {
            continue;
        };
        let name = names[i];
        if values[i].is_some() {
            return Err(format!("duplicate attribute {name}"));
        }
        values[i] = Some(match attr.value {
            Cow::Borrowed(raw) => attribute_value(raw, name)?,
            Cow::Owned(raw) => Cow::Owned(attribute_value(&raw, name)?.into_owned()),
        });
    }
    Ok(values)
}

fn attribute_value<'v>(raw: &'v [u8], name: &str) -> std::result::Result<Cow<'v, str>, String> {
    // Nearly every value is a few ASCII characters with nothing to replace, which one pass
    // over the bytes settles.
    if raw
        .iter()
        .all(|&b| b.is_ascii() && !matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
    {
        // SAFETY: every byte is ASCII, so the bytes are UTF-8.
        return Ok(Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) }));
    }
    let raw = std::str::from_utf8(raw).map_err(not_utf8)?;
    if !raw.contains(['&', '\t', '\n', '\r']) {
        return Ok(Cow::Borrowed(raw));
    }
    let normalised = raw.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ");
    let value = unescape_with(&normalised, resolve_xml_entity)
        .map_err(|e| format!("attribute {name}: {e} (DTD entities are not expanded)"))?;
    if let Some(c) = value.chars().find(|&c| !is_xml_char(c)) {
        return Err(format!(
            "attribute {name}: a character reference is to U+{:04X}, which XML does not allow",
            c as u32
        ));
    }
    Ok(Cow::Owned(value.into_owned()))
}

fn required<'a>(
    value: Option<Cow<'a, str>>,
    name: &str,
    element: &str,
) -> std::result::Result<Cow<'a, str>, String> {
    value.ok_or_else(|| format!("<{element}> has no {name} attribute"))
}

/// A tag as pymarc's `Field` takes it: three characters, or digits that are zero-padded
/// to three (`"42"` is `042`).
pub(crate) fn parse_tag(text: &str) -> std::result::Result<Tag, String> {
    if text.len() == 3 {
        if let Ok(tag) = Tag::new(text) {
            return Ok(tag);
        }
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(n) = text.parse::<u64>().ok().filter(|n| *n < 1000) {
            let padded = format!("{n:03}");
            if let Ok(tag) = Tag::new(&padded) {
                return Ok(tag);
            }
        }
    }
    Err(format!(
        "tag {:?} is not three ASCII characters",
        abbreviate(text, 20)
    ))
}

/// An indicator: one character; missing or empty is a blank.
pub(crate) fn indicator(
    value: Option<&str>,
    which: &str,
    tag: Tag,
) -> std::result::Result<char, String> {
    let value = value.unwrap_or("");
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(' '),
        (Some(c), None) => Ok(c),
        _ => Err(format!(
            "field {tag}: {which} {:?} is not one character",
            abbreviate(value, 20)
        )),
    }
}

/// A subfield code: exactly one character.
pub(crate) fn subfield_code(value: &str) -> std::result::Result<char, String> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(format!(
            "subfield code {:?} is not one character",
            abbreviate(value, 20)
        )),
    }
}

/// The start of a long string, for error messages.
pub(crate) fn abbreviate(s: &str, max_chars: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => Cow::Owned(format!("{}...", &s[..cut])),
        None => Cow::Borrowed(s),
    }
}

// ---- writing --------------------------------------------------------------------------

/// How records are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XmlWriteOptions {
    /// Declare the MARCXML namespace and schema location on `<record>` (pymarc's
    /// `namespace=True`).
    pub namespace: bool,
    /// Write non-ASCII characters as decimal character references (`&#233;`), as pymarc's
    /// `record_to_xml` does; otherwise as UTF-8, as pymarc's `XMLWriter` does.
    pub ascii: bool,
}

/// How records are laid out in the document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XmlLayout {
    /// Everything on one line with no final newline, as pymarc's `XMLWriter` writes it.
    #[default]
    Pymarc,
    /// The declaration, the collection start tag, each record and the end tag on a line of
    /// their own: one record per line, easy to `grep` and to split.
    RecordPerLine,
    /// Every element on its own line, indented by two spaces per level.
    Indented,
}

/// The character XML 1.0 cannot carry, as [`write_record_xml`] writes it instead.
pub const XML_REPLACEMENT: char = char::REPLACEMENT_CHARACTER;

/// Whether XML 1.0 can carry `c` at all (as text or as a character reference): not the C0
/// controls other than tab, LF and CR, and not U+FFFE or U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// A character of a record that XML 1.0 cannot carry, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnwritableChar {
    /// `leader`, a tag (`001`), a tag and subfield code (`245$a`), or the indicators or code
    /// of a field (`245 indicators`, `245 subfield code`).
    pub place: String,
    /// Position of the character in that value, counted in characters from 0.
    pub position: usize,
    /// The character.
    pub ch: char,
}

impl std::fmt::Display for UnwritableChar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: character U+{:04X} at position {} cannot be written in XML",
            self.place,
            u32::from(self.ch),
            self.position
        )
    }
}

/// The first character of `rec` that XML 1.0 cannot carry, if any. The writers replace such
/// characters with [`XML_REPLACEMENT`]; this says what and where, for an error or a warning.
pub fn find_unwritable_xml(rec: &Record) -> Option<UnwritableChar> {
    fn first_bad(place: impl FnOnce() -> String, s: &str) -> Option<UnwritableChar> {
        let (position, ch) = s.chars().enumerate().find(|&(_, c)| !is_xml_char(c))?;
        Some(UnwritableChar {
            place: place(),
            position,
            ch,
        })
    }
    if let Some(bad) = first_bad(|| "leader".into(), rec.leader().as_str()) {
        return Some(bad);
    }
    for field in rec.fields() {
        let tag = field.tag();
        if let Some(bad) = first_bad(|| tag.to_string(), tag.as_str()) {
            return Some(bad);
        }
        if let Some(data) = field.data() {
            if let Some(bad) = first_bad(|| tag.to_string(), data) {
                return Some(bad);
            }
            continue;
        }
        let [i1, i2] = field.indicators();
        if let Some(bad) = first_bad(|| format!("{tag} indicators"), &format!("{i1}{i2}")) {
            return Some(bad);
        }
        for sf in field.subfields() {
            if !is_xml_char(sf.code) {
                return Some(UnwritableChar {
                    place: format!("{tag} subfield code"),
                    position: 0,
                    ch: sf.code,
                });
            }
            if let Some(bad) = first_bad(|| format!("{tag}${}", sf.code), sf.value) {
                return Some(bad);
            }
        }
    }
    None
}

/// One record as pymarc's `record_to_xml(record)` gives it: no XML declaration, no
/// namespace, ASCII only.
pub fn record_to_xml(rec: &Record) -> String {
    record_to_xml_with(
        rec,
        XmlWriteOptions {
            namespace: false,
            ascii: true,
        },
    )
}

/// One record, with the given options.
pub fn record_to_xml_with(rec: &Record, opts: XmlWriteOptions) -> String {
    let mut out = String::with_capacity(rec.text_len() + 64 + rec.len() * 48);
    write_record_xml(rec, opts, &mut out);
    out
}

/// Append one `<record>` element to `out`, byte for byte as pymarc writes it. Attributes
/// come in pymarc's order (`ind1`, `ind2`, `tag`), empty elements are written `<x />`, text
/// escapes `&`, `<`, `>` and attributes also `"`, tab, CR and LF, exactly as ElementTree
/// does; like pymarc, it copies into the document a control character XML cannot carry
/// (use [`write_record_xml_as`] with another layout for output that is well-formed
/// whatever the record holds). A raw-encoded record's text is written as the Latin-1
/// characters it holds.
pub fn write_record_xml(rec: &Record, opts: XmlWriteOptions, out: &mut String) {
    write_record_xml_as(rec, opts, XmlLayout::Pymarc, out);
}

/// [`write_record_xml`] in `layout` (the record's own lines and indentation, without a
/// newline after it). Every layout but [`XmlLayout::Pymarc`] is well-formed XML 1.0 whatever
/// the record holds: a carriage return in text is written `&#13;` (so it reads back as
/// itself, where a raw one would become a line feed), and a character XML cannot carry at
/// all (see [`is_xml_char`]) is written as [`XML_REPLACEMENT`]. Returns how many characters
/// were replaced ([`find_unwritable_xml`] says which).
pub fn write_record_xml_as(
    rec: &Record,
    opts: XmlWriteOptions,
    layout: XmlLayout,
    out: &mut String,
) -> usize {
    write_element(rec, opts, layout, layout != XmlLayout::Pymarc, out)
}

/// [`write_record_xml`]'s bytes (pymarc's layout) made well-formed by the rule of the other
/// layouts: a carriage return in text is written `&#13;` and a character XML cannot carry
/// as [`XML_REPLACEMENT`]. A record that needs neither comes out byte for byte as pymarc
/// writes it. Returns how many characters were replaced.
pub fn write_record_xml_well_formed(
    rec: &Record,
    opts: XmlWriteOptions,
    out: &mut String,
) -> usize {
    write_element(rec, opts, XmlLayout::Pymarc, true, out)
}

fn write_element(
    rec: &Record,
    opts: XmlWriteOptions,
    layout: XmlLayout,
    well_formed: bool,
    out: &mut String,
) -> usize {
    let mut w = ElementWriter {
        out,
        ascii: opts.ascii,
        indent: layout == XmlLayout::Indented,
        // A line feed in text would break a record's line.
        lf_as_reference: layout != XmlLayout::Pymarc,
        well_formed,
        replaced: 0,
    };
    w.newline(1);
    w.out.push_str("<record");
    if opts.namespace {
        w.out.push_str(" xmlns=\"");
        w.out.push_str(MARCXML_NAMESPACE);
        w.out.push_str("\" xmlns:xsi=\"");
        w.out.push_str(XSI_NAMESPACE);
        w.out.push_str("\" xsi:schemaLocation=\"");
        w.out.push_str(MARCXML_SCHEMA_LOCATION);
        w.out.push('"');
    }
    w.out.push('>');
    w.newline(2);
    w.out.push_str("<leader>");
    w.escaped(rec.leader().as_str(), false);
    w.out.push_str("</leader>");
    for field in rec.fields() {
        w.newline(2);
        if let Some(data) = field.data() {
            w.out.push_str("<controlfield tag=\"");
            w.escaped(field.tag().as_str(), true);
            w.out.push('"');
            w.element_text(data, "controlfield");
            continue;
        }
        let [ind1, ind2] = field.indicators();
        w.out.push_str("<datafield ind1=\"");
        w.escaped(ind1.encode_utf8(&mut [0; 4]), true);
        w.out.push_str("\" ind2=\"");
        w.escaped(ind2.encode_utf8(&mut [0; 4]), true);
        w.out.push_str("\" tag=\"");
        w.escaped(field.tag().as_str(), true);
        w.out.push('"');
        if field.subfields().len() == 0 {
            w.out.push_str(" />");
            continue;
        }
        w.out.push('>');
        for sf in field.subfields() {
            w.newline(3);
            w.out.push_str("<subfield code=\"");
            w.escaped(sf.code.encode_utf8(&mut [0; 4]), true);
            w.out.push('"');
            w.element_text(sf.value, "subfield");
        }
        w.newline(2);
        w.out.push_str("</datafield>");
    }
    w.newline(1);
    w.out.push_str("</record>");
    w.replaced
}

/// Writes elements into a string: escaping, replacement of what XML cannot carry, and the
/// line breaks and indentation of [`XmlLayout::Indented`].
struct ElementWriter<'a> {
    out: &'a mut String,
    ascii: bool,
    indent: bool,
    lf_as_reference: bool,
    well_formed: bool,
    replaced: usize,
}

impl ElementWriter<'_> {
    /// Start a line at `depth` (the record itself is at 1, inside a collection), when
    /// indenting; the record's first line starts where the caller put it.
    fn newline(&mut self, depth: usize) {
        if self.indent {
            let at_start = self.out.is_empty() || self.out.ends_with('\n');
            if !at_start {
                self.out.push('\n');
            }
            for _ in 0..depth {
                self.out.push_str("  ");
            }
        }
    }

    /// Close a start tag whose attributes are written: text and end tag, or ` />` if empty.
    fn element_text(&mut self, text: &str, name: &str) {
        if text.is_empty() {
            self.out.push_str(" />");
            return;
        }
        self.out.push('>');
        self.escaped(text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    fn escaped(&mut self, s: &str, attribute: bool) {
        self.replaced += push_escaped(
            self.out,
            s,
            attribute,
            self.lf_as_reference,
            self.well_formed,
            self.ascii,
        );
    }
}

/// ElementTree's escaping: `&`, `<`, `>` in text; also `"`, CR, LF, tab in attributes; LF
/// in text too with `lf_as_reference`; with `ascii`, every non-ASCII character as a decimal
/// reference. With `well_formed`, CR in text is a reference too and characters XML cannot
/// carry become [`XML_REPLACEMENT`]; returns how many did.
fn push_escaped(
    out: &mut String,
    s: &str,
    attribute: bool,
    lf_as_reference: bool,
    well_formed: bool,
    ascii: bool,
) -> usize {
    // One compare per byte decides the common case: nothing to do.
    let special = |b: u8| match b {
        b'&' | b'<' | b'>' => true,
        b'\r' => attribute || well_formed,
        b'\n' => attribute || lf_as_reference,
        b'"' | b'\t' => attribute,
        0..=0x1F | 0xEF => well_formed || (ascii && b >= 0x80),
        _ => ascii && b >= 0x80,
    };
    let bytes = s.as_bytes();
    let mut replaced = 0;
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !special(b) {
            i += 1;
            continue;
        }
        out.push_str(&s[done..i]);
        // `i` is on a char boundary: every byte before it was consumed whole.
        let c = s[i..].chars().next().unwrap_or(XML_REPLACEMENT);
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#09;"),
            c if well_formed && !is_xml_char(c) => {
                replaced += 1;
                if ascii {
                    out.push_str("&#65533;");
                } else {
                    out.push(XML_REPLACEMENT);
                }
            }
            c if ascii && !c.is_ascii() => {
                out.push_str("&#");
                out.push_str(&u32::from(c).to_string());
                out.push(';');
            }
            // A 0xEF lead byte of an ordinary character, or a control character written as
            // pymarc writes it.
            c => out.push(c),
        }
        i += c.len_utf8();
        done = i;
    }
    out.push_str(&s[done..]);
    replaced
}

/// Writes a MARCXML `<collection>` as pymarc's `XMLWriter` does: an XML declaration, the
/// collection start tag, one `<record>` per call with no whitespace between, and the end tag
/// on [`XmlWriter::finish`] (without it the document is incomplete). Another
/// [`XmlLayout`] puts each record on a line of its own, or indents every element.
pub struct XmlWriter<W: Write> {
    sink: Sink<W, String>,
    opts: XmlWriteOptions,
    layout: XmlLayout,
    started: bool,
    replaced: usize,
}

impl<W: Write> XmlWriter<W> {
    /// UTF-8 records without their own namespace declaration (pymarc's `XMLWriter`).
    pub fn new(inner: W) -> Self {
        XmlWriter::with_options(inner, XmlWriteOptions::default())
    }

    /// A writer with the given options.
    pub fn with_options(inner: W, opts: XmlWriteOptions) -> Self {
        XmlWriter::with_layout(inner, opts, XmlLayout::Pymarc)
    }

    /// A writer with the given options and layout.
    pub fn with_layout(inner: W, opts: XmlWriteOptions, layout: XmlLayout) -> Self {
        XmlWriter {
            sink: Sink::new(inner),
            opts,
            layout,
            started: false,
            replaced: 0,
        }
    }

    fn line_end(&self) -> &'static str {
        match self.layout {
            XmlLayout::Pymarc => "",
            XmlLayout::RecordPerLine | XmlLayout::Indented => "\n",
        }
    }

    fn start(&mut self) -> Result<()> {
        if !self.started {
            let nl = self.line_end().as_bytes();
            self.sink.write_parts(&[
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                nl,
                b"<collection xmlns=\"",
                MARCXML_NAMESPACE.as_bytes(),
                b"\">",
                nl,
            ])?;
            self.started = true;
        }
        Ok(())
    }

    /// Serialise and write one `<record>` (the collection opens before the first).
    pub fn write_record(&mut self, rec: &Record) -> Result<()> {
        self.start()?;
        let (opts, layout, nl) = (self.opts, self.layout, self.line_end());
        self.replaced += self.sink.write_with(|buf| {
            let replaced = write_record_xml_as(rec, opts, layout, buf);
            buf.push_str(nl);
            Ok(replaced)
        })?;
        Ok(())
    }

    /// Write one `<record>` already serialised by [`write_record_xml_as`] with this writer's
    /// options and layout (on another thread, say).
    pub fn write_serialised(&mut self, record_xml: &[u8]) -> Result<()> {
        self.start()?;
        self.sink
            .write_parts(&[record_xml, self.line_end().as_bytes()])
    }

    /// The options records are written with.
    pub fn options(&self) -> XmlWriteOptions {
        self.opts
    }

    /// The layout records are written in.
    pub fn layout(&self) -> XmlLayout {
        self.layout
    }

    /// Characters [`XmlWriter::write_record`] has replaced by [`XML_REPLACEMENT`] so far.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// Flush the underlying writer (the collection stays open).
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    /// Close the collection, flush, and hand back the output.
    pub fn finish(mut self) -> Result<W> {
        self.start()?;
        let nl = self.line_end().as_bytes();
        self.sink.finish(&[b"</collection>", nl])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{Field, Subfield};
    use proptest::prelude::*;

    /// The first event quick-xml reads from `doc`, configured as the reader configures it.
    fn first_events(doc: &[u8], n: usize) -> Vec<Event<'static>> {
        let mut r = Reader::from_reader(doc);
        configure(r.config_mut());
        let mut events = Vec::new();
        let mut buf = Vec::new();
        while events.len() < n {
            match r.read_event_into(&mut buf) {
                Ok(Event::Eof) | Err(_) => break,
                Ok(e) => events.push(e.into_owned()),
            }
            buf.clear();
        }
        events
    }

    fn same_attributes(doc: &[u8]) {
        let Some(Event::Start(e)) = first_events(doc, 1).pop() else {
            return;
        };
        let names = ["tag", "ind1", "ind2"];
        assert_eq!(
            read_attributes(&e, names),
            attributes_checked(&e, names),
            "{:?}",
            String::from_utf8_lossy(doc)
        );
        assert_eq!(
            read_attributes(&e, ["code"]),
            attributes_checked(&e, ["code"])
        );
    }

    /// Bytes that make attribute lists interesting: names, separators, quotes, entities,
    /// multi-byte and invalid UTF-8.
    fn attribute_soup() -> impl Strategy<Value = Vec<u8>> {
        let pieces: Vec<&'static [u8]> = vec![
            b"tag",
            b"ind1",
            b"ind2",
            b"code",
            b"x:tag",
            b"=",
            b"\"",
            b"'",
            b" ",
            b"\t",
            b"\n",
            b"\r",
            b"a",
            b"245",
            b"&amp;",
            b"&lt",
            b"&#65;",
            b"&bad;",
            b"\xC3\xA9",
            b"\xFF",
            b"\xC3",
            b"/",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..16).prop_map(|p| p.concat())
    }

    #[test]
    fn plain_attributes_agree_with_quick_xml_on_written_cases() {
        for attrs in [
            &b" tag=\"245\" ind1=\"1\" ind2=\"0\""[..],
            b"  tag = '245'\tind1\n=\r\"a\" ",
            b" ind1=\"1\" tag=\"&bad;\" ind2=\"&worse;\"",
            b" tag=\"1\" tag=\"2\"",
            b" tag=\"1\" ind1",
            b" tag=\"1\" ind1=",
            b" tag=\"1\" ind1=x",
            b" tag=\"1\" ind1=\"x",
            b" =\"1\" tag=\"2\"",
            b" tag=\"\xFF\"",
            b" tag=\"&#x32;45\" code=\"a&#9;b\"",
            b" x:tag=\"9\" tag=\"245\"",
            b" code=\"a\"/",
        ] {
            let mut doc = b"<e".to_vec();
            doc.extend_from_slice(attrs);
            doc.push(b'>');
            same_attributes(&doc);
        }
    }

    /// The general reading of a control field's tag, a data field's tag and indicators,
    /// and a subfield's code.
    fn read_generally(e: &BytesStart<'_>) -> [std::result::Result<(Tag, [char; 2]), String>; 3] {
        let blank = Tag::new("   ").unwrap();
        let control = attributes(e, ["tag"])
            .and_then(|[tag]| parse_tag(&required(tag, "tag", "controlfield")?))
            .map(|tag| (tag, [' '; 2]));
        let data = attributes(e, ["tag", "ind1", "ind2"]).and_then(|[tag, ind1, ind2]| {
            let tag = parse_tag(&required(tag, "tag", "datafield")?)?;
            let ind1 = indicator(ind1.as_deref(), "ind1", tag)?;
            Ok((tag, [ind1, indicator(ind2.as_deref(), "ind2", tag)?]))
        });
        let code = attributes(e, ["code"])
            .and_then(|[code]| subfield_code(&required(code, "code", "subfield")?))
            .map(|code| (blank, [code; 2]));
        [control, data, code]
    }

    /// Where a layout reads a tag, its values are what the general reading gives.
    fn layout_agrees(layout: &Layout, which: usize, raw: &[u8]) -> bool {
        let Some(laid_out) = layout.read(raw) else {
            return false;
        };
        let doc = [&b"<e"[..], raw, b">"].concat();
        let Some(Event::Start(e)) = first_events(&doc, 1).pop() else {
            panic!(
                "a laid-out tag is well formed: {:?}",
                String::from_utf8_lossy(raw)
            );
        };
        let general = read_generally(&e)[which].clone();
        let tag = laid_out.tag.unwrap_or(Tag::new("   ").unwrap());
        // A control field has no one-byte values.
        let chars = if which == 0 { [' '; 2] } else { laid_out.chars };
        assert_eq!(
            general,
            Ok((tag, chars)),
            "{:?}",
            String::from_utf8_lossy(raw)
        );
        true
    }

    #[test]
    fn layouts_read_what_writers_write() {
        assert!(layout_agrees(&Layout::CONTROL, 0, b" tag=\"001\""));
        assert!(layout_agrees(
            &Layout::DATA[0],
            1,
            b" ind1=\" \" ind2=\"0\" tag=\"245\""
        ));
        assert!(layout_agrees(
            &Layout::DATA[1],
            1,
            b" tag=\"245\" ind1=\"1\" ind2=\" \""
        ));
        assert!(layout_agrees(&Layout::SUBFIELD, 2, b" code=\"a\""));
        // Anything else is left to the general reading.
        for raw in [
            &b" tag=\"01\""[..],
            b" tag='001'",
            b" tag=\"0&1\"",
            b" tag=\"0\t1\"",
            b" code=\"\xC3\"",
            b" code=\"\"\"",
            b"  code=\"a\"",
            b" ind1=\" \" ind2=\"0\" tag=\"245\" ",
        ] {
            let layouts = [&Layout::CONTROL, &Layout::SUBFIELD, &Layout::DATA[0]];
            assert!(layouts.iter().all(|l| l.read(raw).is_none()), "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn layouts_agree_with_the_general_reading(
            which in 0usize..4,
            values in prop::collection::vec(
                prop_oneof![any::<u8>(), prop::sample::select(b" 0aZ&\"'<>=\t".to_vec())],
                5,
            ),
        ) {
            let (layout, kind) = match which {
                0 => (&Layout::CONTROL, 0),
                1 | 2 => (&Layout::DATA[which - 1], 1),
                _ => (&Layout::SUBFIELD, 2),
            };
            let mut values = values.into_iter();
            let raw: Vec<u8> = layout
                .bytes
                .iter()
                .map(|&b| if b == b'?' { values.next().unwrap() } else { b })
                .collect();
            layout_agrees(layout, kind, &raw);
        }

        #[test]
        fn plain_attributes_agree_with_quick_xml(attrs in attribute_soup()) {
            let mut doc = b"<e ".to_vec();
            doc.extend_from_slice(&attrs);
            doc.push(b'>');
            same_attributes(&doc);
        }

        #[test]
        fn plain_text_agrees_with_quick_xml(
            text in prop::collection::vec(
                prop::sample::select(b"ab \r\n\t\xC3\xA9\xFF\x80\xE2\x82\xAC".to_vec()),
                0..24,
            )
        ) {
            let mut doc = b"<e>".to_vec();
            doc.extend_from_slice(&text);
            doc.extend_from_slice(b"</e>");
            if let Some(Event::Text(t)) = first_events(&doc, 2).pop() {
                if let Some(plain) = plain_text(&t) {
                    let decoded = t.xml10_content();
                    prop_assert_eq!(decoded.as_deref().ok(), Some(plain));
                }
            }
        }

        #[test]
        fn a_document_is_scanned_as_a_whole_as_it_would_be_in_pieces(
            doc in prop::collection::vec(
                prop::sample::select(b"a<>\t\n\r\x01\x1f\xEF\xBF\xBE\xC3\xA9".to_vec()),
                0..300,
            )
        ) {
            let expected = not_xml_char(&doc).map_or(u64::MAX, |(at, _)| at as u64);
            prop_assert_eq!(first_not_xml_char(&doc), expected);
        }

        #[test]
        fn not_xml_char_finds_the_first_character_xml_does_not_allow(
            chars in prop::collection::vec(
                prop::sample::select(vec!['a', ' ', '\t', '\n', '\r', '\u{1}', '\u{1f}', 'é',
                    '\u{fff0}', '\u{fffd}', '\u{fffe}', '\u{ffff}', '€', '\u{10000}']),
                0..20,
            )
        ) {
            let text: String = chars.iter().collect();
            let expected = text.char_indices().find(|&(_, c)| !is_xml_char(c));
            prop_assert_eq!(not_xml_char(text.as_bytes()), expected);
        }
    }

    #[test]
    fn tags_follow_pymarc_normalisation() {
        assert_eq!(parse_tag("245").unwrap().as_str(), "245");
        assert_eq!(parse_tag("42").unwrap().as_str(), "042");
        assert_eq!(parse_tag("0001").unwrap().as_str(), "001");
        assert_eq!(parse_tag("abc").unwrap().as_str(), "abc");
        assert!(parse_tag("1000").is_err());
        assert!(parse_tag("").is_err());
        assert!(parse_tag("ab").is_err());
        assert!(parse_tag("é1").is_err());
    }

    #[test]
    fn escaping_matches_element_tree() {
        let mut out = String::new();
        push_escaped(&mut out, "a&b<c>\"d\te\r\nf é😀", true, false, false, true);
        assert_eq!(
            out,
            "a&amp;b&lt;c&gt;&quot;d&#09;e&#13;&#10;f &#233;&#128512;"
        );
        out.clear();
        push_escaped(
            &mut out,
            "a&b<c>\"d\te\r\nf é\u{1f}",
            false,
            false,
            false,
            false,
        );
        assert_eq!(out, "a&amp;b&lt;c&gt;\"d\te\r\nf é\u{1f}");
        out.clear();
        push_escaped(&mut out, "a\te\r\nf é\u{1f}", false, false, true, false);
        assert_eq!(out, "a\te&#13;\nf é\u{fffd}");
    }

    #[test]
    fn empty_elements_are_self_closed_with_a_space() {
        let mut r = Record::new();
        r.push(&Field::control(Tag::new("001").unwrap(), ""));
        r.push(&Field::data(Tag::new("500").unwrap(), ' ', ' ', vec![]));
        r.push(&Field::data(
            Tag::new("245").unwrap(),
            '1',
            '0',
            vec![Subfield::new('b', "")],
        ));
        let xml = record_to_xml(&r);
        assert!(xml.contains("<controlfield tag=\"001\" />"), "{xml}");
        assert!(
            xml.contains("<datafield ind1=\" \" ind2=\" \" tag=\"500\" />"),
            "{xml}"
        );
        assert!(xml.contains("<subfield code=\"b\" /></datafield>"), "{xml}");
    }

    fn awkward_record() -> Record {
        let mut r = Record::new();
        r.push(&Field::control(Tag::new("001").unwrap(), "ocm123\u{1f}"));
        r.push(&Field::data(
            Tag::new("245").unwrap(),
            '1',
            '0',
            vec![
                Subfield::new('a', "line\r\nend"),
                Subfield::new('b', "esc \u{1b}(B and \u{fffe}"),
            ],
        ));
        r
    }

    #[test]
    fn what_xml_cannot_carry_is_replaced_and_found() {
        let r = awkward_record();
        let bad = find_unwritable_xml(&r).unwrap();
        assert_eq!(
            (bad.place.as_str(), bad.position, bad.ch),
            ("001", 6, '\u{1f}')
        );
        assert_eq!(
            bad.to_string(),
            "001: character U+001F at position 6 cannot be written in XML"
        );
        for ascii in [false, true] {
            let mut out = String::new();
            let opts = XmlWriteOptions {
                namespace: false,
                ascii,
            };
            let replaced = write_record_xml_as(&r, opts, XmlLayout::RecordPerLine, &mut out);
            assert_eq!(replaced, 3, "{out}");
            assert!(!out.bytes().any(|b| b < 0x20 && b != b'\n'), "{out:?}");
            assert!(out.contains("line&#13;&#10;end"), "{out}");
            let back = parse_xml(format!("<collection>{out}</collection>").as_bytes()).unwrap();
            let f = back[0].get("245").unwrap();
            assert_eq!(f.subfield('a'), Some("line\r\nend"), "CR round-trips");
            assert_eq!(back[0].get("001").unwrap().data(), Some("ocm123\u{fffd}"));
        }
        let mut clean = Record::new();
        clean.push(&Field::control(Tag::new("001").unwrap(), "tab\tok"));
        assert_eq!(find_unwritable_xml(&clean), None);
    }

    #[test]
    fn pymarc_bytes_made_well_formed_change_only_what_xml_cannot_carry() {
        let opts = XmlWriteOptions::default();
        let mut out = String::new();
        assert_eq!(
            write_record_xml_well_formed(&awkward_record(), opts, &mut out),
            3
        );
        let mut pymarc = String::new();
        write_record_xml(&awkward_record(), opts, &mut pymarc);
        let expected = pymarc
            .replace(['\u{1f}', '\u{1b}', '\u{fffe}'], "\u{fffd}")
            .replace('\r', "&#13;");
        assert_eq!(out, expected);
        let back = parse_xml(format!("<collection>{out}</collection>").as_bytes()).unwrap();
        assert_eq!(
            back[0].get("245").unwrap().subfield('a'),
            Some("line\r\nend")
        );
        let mut clean = Record::new();
        clean.push(&Field::control(
            Tag::new("001").unwrap(),
            "tab\tok & <more>",
        ));
        let (mut a, mut b) = (String::new(), String::new());
        assert_eq!(write_record_xml_well_formed(&clean, opts, &mut a), 0);
        write_record_xml(&clean, opts, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn every_layout_reads_back_the_same_records() {
        let records = vec![awkward_record(), awkward_record()];
        for layout in [
            XmlLayout::Pymarc,
            XmlLayout::RecordPerLine,
            XmlLayout::Indented,
        ] {
            let mut w = XmlWriter::with_layout(Vec::new(), XmlWriteOptions::default(), layout);
            for r in &records {
                w.write_record(r).unwrap();
            }
            let expected = if layout == XmlLayout::Pymarc { 0 } else { 6 };
            assert_eq!(w.replaced(), expected);
            let doc = w.finish().unwrap();
            let text = String::from_utf8(doc.clone()).unwrap();
            if layout == XmlLayout::Pymarc {
                // pymarc's bytes: the control characters are in the document.
                assert!(text.contains("ocm123\u{1f}"));
                continue;
            }
            let back = parse_xml(&doc).unwrap();
            assert_eq!(back.len(), 2);
            assert_eq!(
                back[0].get("245").unwrap().subfield('a'),
                Some("line\r\nend")
            );
            match layout {
                XmlLayout::Pymarc => unreachable!("checked above"),
                XmlLayout::RecordPerLine => {
                    assert_eq!(text.lines().count(), 5, "{text}");
                    assert!(text.lines().nth(2).unwrap().starts_with("<record><leader>"));
                    assert!(text.ends_with("</collection>\n"));
                }
                XmlLayout::Indented => {
                    assert!(text.contains("\n  <record>\n    <leader>"), "{text}");
                    assert!(text.contains("\n      <subfield code=\"a\">"), "{text}");
                    assert!(text.ends_with("  </record>\n</collection>\n"), "{text}");
                }
            }
        }
    }
}
