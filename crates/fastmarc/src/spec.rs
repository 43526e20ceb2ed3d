//! MARCspec paths and the conditions built on them: [`Spec`], [`Condition`].

use std::fmt;

use crate::field::{Tag, TagSet};
use crate::record::{FieldRef, Record};

/// A parse error: what is wrong, and where in the spec (0-based character position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    spec: String,
    position: usize,
    message: String,
}

impl SpecError {
    /// The 0-based character position of the offending character.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid MARCspec {:?} at character {}: {}",
            self.spec,
            self.position + 1,
            self.message
        )
    }
}

impl std::error::Error for SpecError {}

/// A position in an index or a character range: a number, or `#` for the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pos {
    At(usize),
    Last,
}

impl Pos {
    fn resolve(self, len: usize) -> Option<usize> {
        match self {
            Pos::At(n) => Some(n),
            Pos::Last => len.checked_sub(1),
        }
    }
}

/// `[a-b]` or `/a-b`: inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    start: Pos,
    end: Pos,
}

impl Range {
    fn is_single(&self) -> bool {
        self.start == self.end
    }

    fn needs_len(&self) -> bool {
        self.start == Pos::Last || self.end == Pos::Last
    }

    /// Whether element `i` of `len` is in the range.
    fn contains(&self, i: usize, len: usize) -> bool {
        match (self.start.resolve(len), self.end.resolve(len)) {
            (Some(a), Some(b)) => a <= i && i <= b,
            _ => false,
        }
    }

    /// The characters of `s` in the range; none when it starts past the end.
    fn slice<'s>(&self, s: &'s str) -> Option<&'s str> {
        let len = if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        };
        let start = self.start.resolve(len)?;
        let end = self.end.resolve(len)?.min(len.checked_sub(1)?);
        if start > end {
            return None;
        }
        if s.is_ascii() {
            return Some(&s[start..=end]);
        }
        let mut bounds = s.char_indices().map(|(i, _)| i).chain([s.len()]);
        let from = bounds.nth(start)?;
        let to = bounds.nth(end - start)?;
        Some(&s[from..to])
    }
}

/// Which tags a spec matches. A tag pattern is kept as a mask and the bytes it wants
/// (zero under a wildcard), so that matching a tag is one comparison: it runs for every
/// field of every record a projection reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagPattern {
    Leader,
    Tag { mask: u32, want: u32 },
}

impl TagPattern {
    /// The pattern of three bytes, `None` for a wildcard.
    fn of(bytes: [Option<u8>; 3]) -> TagPattern {
        let word = |f: fn(Option<u8>) -> u8| {
            u32::from_le_bytes([f(bytes[0]), f(bytes[1]), f(bytes[2]), 0])
        };
        TagPattern::Tag {
            mask: word(|b| if b.is_some() { 0xff } else { 0 }),
            want: word(|b| b.unwrap_or(0)),
        }
    }

    /// Add every tag the pattern matches to `set`.
    fn add_to(&self, set: &mut TagSet) {
        let TagPattern::Tag { mask, want } = *self else {
            return;
        };
        for n in 0..1000u16 {
            let tag = [
                b'0' + (n / 100) as u8,
                b'0' + (n / 10 % 10) as u8,
                b'0' + (n % 10) as u8,
            ];
            if self.matches(&tag) {
                set.insert(Tag::from_array_unchecked(tag));
            }
        }
        // A wildcard or a byte other than a digit can match a tag that is not all digits.
        let digit_wanted = want.to_le_bytes()[..3].iter().all(u8::is_ascii_digit);
        if mask != 0x00ff_ffff || !digit_wanted {
            set.insert_others();
        }
    }

    fn matches(&self, tag: &[u8; 3]) -> bool {
        match *self {
            TagPattern::Leader => false,
            TagPattern::Tag { mask, want } => {
                u32::from_le_bytes([tag[0], tag[1], tag[2], 0]) & mask == want
            }
        }
    }
}

/// What a spec's tail picks out of each field it keeps.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    /// The field's value, or some of its characters.
    Value(Option<Range>),
    /// One indicator (0 or 1).
    Indicator(usize),
    /// Subfields.
    Subfields(Vec<SubfieldSel>),
}

/// One `$…` of a spec: the codes it takes, which of those subfields, which characters.
#[derive(Clone, Debug, PartialEq)]
struct SubfieldSel {
    codes: Vec<(char, char)>,
    index: Option<Range>,
    chars: Option<Range>,
    filters: Vec<Vec<Condition>>,
}

impl SubfieldSel {
    fn takes(&self, code: char) -> bool {
        self.codes.iter().any(|&(a, b)| a <= code && code <= b)
    }
}

/// MARCspec paths: the community syntax for pointing into MARC data (`245$a`, `6XX$a`,
/// `008/35-37`, `LDR/06`, `245[0]$a[0]`, `650{^2=\0}$a`), and conditions built on them
/// (`008/35-37=fre`, `650$a~Fiction`) for selecting records.
///
/// One parser serves every place that takes a path: Arrow projections, the command's
/// `--select`, and anything else that points into records.
///
/// # The subset
///
/// | form | meaning |
/// |---|---|
/// | `245`, `LDR` | a field by tag; `LDR` is the leader |
/// | `6XX`, `6..` | `X`, `x` or `.` match any character of a tag |
/// | `245[0]`, `650[1-3]`, `650[#]`, `650[1-#]` | fields by index among those the tag matches (0-based, `#` is the last) |
/// | `008/35-37`, `LDR/06`, `008/#`, `245/0-#` | character positions of a field's value (0-based, inclusive) |
/// | `245$a`, `245$a$c`, `245$ab`, `600$a-d` | subfields by code: one, several, or a range of codes |
/// | `245$a[0]`, `650$a[#]` | subfields by index among those the `$` part matches in one field |
/// | `245$a/0-3` | character positions of each subfield's value |
/// | `245^1`, `245^2` | an indicator |
/// | `650{^2=\0}$a`, `245$a{$b~\Fiction}` | subspecs: keep only the fields (or subfields) for which the condition holds |
///
/// A subspec is `{LEFT OP RIGHT}`, `{LEFT}` or `{?LEFT}` (LEFT exists) or `{!LEFT}` (LEFT
/// does not exist). Without LEFT (`{OP RIGHT}`), what is tested is what the subspec filters:
/// the field's value, or the subfield's (`650$a{~\Fiction}`).
/// Several conditions in one pair of braces separated by `|` are alternatives; several pairs
/// of braces must all hold. OP is `=` (some value of LEFT equals some value of RIGHT), `!=`
/// (none does), `~` (some value of LEFT contains some value of RIGHT) or `!~` (none does).
/// LEFT and RIGHT are specs; a spec that starts with `$`, `^` or `/` is relative to the field
/// (or subfield) being tested. A RIGHT that starts with `\` is a literal string: `\` escapes
/// the next character, and `\s` is a space.
///
/// A data field referred to as a whole (`650`) gives its `value()`: the subfield values
/// joined by spaces. Values come in record order: field by field, and within a field in the
/// order its subfields stand.
///
/// A parsed path is one `Spec`; [`Condition`] selects whole records with the same syntax.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// `None` for a relative spec (inside a subspec: `$b`, `^1`, `/0-3`).
    tag: Option<TagPattern>,
    index: Option<Range>,
    filters: Vec<Vec<Condition>>,
    part: Part,
}

/// The context a relative spec is read in.
#[derive(Clone, Copy)]
enum Context<'r> {
    Field(FieldRef<'r>),
    Subfield(FieldRef<'r>, &'r str),
}

impl Spec {
    /// Parses a spec, with the position of the first offending character on error.
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        let mut p = Parser::new(text);
        let spec = p.spec(false)?;
        p.end()?;
        Ok(spec)
    }

    /// True when the spec matches at most once per record (the leader, or a field index
    /// of one position and at most one subfield part with an index of one position), so a
    /// column of it holds one nullable value rather than a list.
    pub fn is_single(&self) -> bool {
        if self.tag == Some(TagPattern::Leader) {
            return true;
        }
        let field_single = self.index.is_some_and(|i| i.is_single());
        field_single
            && match &self.part {
                Part::Value(_) | Part::Indicator(_) => true,
                Part::Subfields(sels) => {
                    sels.len() == 1 && sels[0].index.is_some_and(|i| i.is_single())
                }
            }
    }

    /// Add the tags of every field the spec may read (its subspecs' fields included) to
    /// `set`: a record parsed with only those fields gives the same values.
    pub fn add_tags(&self, set: &mut TagSet) {
        if let Some(pattern) = self.tag {
            pattern.add_to(set);
        }
        self.conditions().for_each(|c| c.add_tags(set));
    }

    /// Whether the spec, or one of its subspecs, reads the leader.
    pub fn reads_leader(&self) -> bool {
        self.tag == Some(TagPattern::Leader) || self.conditions().any(Condition::reads_leader)
    }

    /// The conditions of the spec's subspecs, on its fields and on its subfields.
    fn conditions(&self) -> impl Iterator<Item = &Condition> {
        let sels: &[SubfieldSel] = match &self.part {
            Part::Subfields(sels) => sels,
            _ => &[],
        };
        let on_subfields = sels.iter().flat_map(|s| &s.filters);
        self.filters.iter().chain(on_subfields).flatten()
    }

    /// Calls `f` with every value the spec matches in `record`, in record order.
    pub fn for_each(&self, record: &Record, mut f: impl FnMut(&str)) {
        self.each(record, None, &mut f);
    }

    /// The relative spec of what a subspec filters: the field's value, or the subfield's.
    fn filtered() -> Spec {
        Spec {
            tag: None,
            index: None,
            filters: Vec::new(),
            part: Part::Value(None),
        }
    }

    /// Every value the spec matches in `record`, in record order.
    pub fn values(&self, record: &Record) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each(record, |v| out.push(v.to_string()));
        out
    }

    /// The first value the spec matches in `record`.
    pub fn first(&self, record: &Record) -> Option<String> {
        let mut out = None;
        self.for_each(record, |v| {
            if out.is_none() {
                out = Some(v.to_string());
            }
        });
        out
    }

    fn each(&self, record: &Record, context: Option<Context<'_>>, f: &mut dyn FnMut(&str)) {
        match (self.tag, context) {
            (Some(TagPattern::Leader), _) => {
                if let Part::Value(chars) = &self.part {
                    emit(record.leader().as_str(), chars.as_ref(), f);
                }
            }
            (Some(pattern), _) => {
                let matching = || {
                    record
                        .fields()
                        .filter(move |field| pattern.matches(field.tag().as_bytes()))
                };
                let total = match self.index {
                    Some(range) if range.needs_len() => matching().count(),
                    _ => 0,
                };
                for (i, field) in matching().enumerate() {
                    if let Some(range) = self.index {
                        if !range.contains(i, total) {
                            if !range.needs_len() && matches!(range.end, Pos::At(e) if i > e) {
                                break;
                            }
                            continue;
                        }
                    }
                    if all_hold(&self.filters, record, Context::Field(field)) {
                        self.each_in_field(record, field, f);
                    }
                }
            }
            (None, Some(Context::Field(field))) => self.each_in_field(record, field, f),
            (None, Some(Context::Subfield(field, value))) => match &self.part {
                Part::Value(chars) => emit(value, chars.as_ref(), f),
                _ => self.each_in_field(record, field, f),
            },
            (None, None) => {}
        }
    }

    fn each_in_field(&self, record: &Record, field: FieldRef<'_>, f: &mut dyn FnMut(&str)) {
        match &self.part {
            Part::Value(chars) => match field.data() {
                Some(data) => emit(data, chars.as_ref(), f),
                None => emit(&field.value(), chars.as_ref(), f),
            },
            Part::Indicator(i) => {
                if !field.is_control() {
                    let mut buf = [0u8; 4];
                    f(field.indicators()[*i].encode_utf8(&mut buf));
                }
            }
            Part::Subfields(sels) => {
                for sel in sels {
                    let total = match sel.index {
                        Some(range) if range.needs_len() => {
                            field.subfields().filter(|s| sel.takes(s.code)).count()
                        }
                        _ => 0,
                    };
                    let taken = field.subfields().filter(|s| sel.takes(s.code));
                    for (i, sub) in taken.enumerate() {
                        if sel.index.is_some_and(|r| !r.contains(i, total)) {
                            continue;
                        }
                        let context = Context::Subfield(field, sub.value);
                        if all_hold(&sel.filters, record, context) {
                            emit(sub.value, sel.chars.as_ref(), f);
                        }
                    }
                }
            }
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

fn emit(value: &str, chars: Option<&Range>, f: &mut dyn FnMut(&str)) {
    match chars {
        None => f(value),
        Some(range) => {
            if let Some(part) = range.slice(value) {
                f(part)
            }
        }
    }
}

fn all_hold(filters: &[Vec<Condition>], record: &Record, context: Context<'_>) -> bool {
    filters
        .iter()
        .all(|any| any.iter().any(|c| c.holds(record, Some(context))))
}

/// How a condition compares its two sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Exists,
    NotExists,
    Equal,
    NotEqual,
    Contains,
    NotContains,
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
enum Term {
    Spec(Spec),
    Literal(String),
}

impl Term {
    fn values(&self, record: &Record, context: Option<Context<'_>>) -> Vec<String> {
        match self {
            Term::Literal(s) => vec![s.clone()],
            Term::Spec(spec) => {
                let mut out = Vec::new();
                spec.each(record, context, &mut |v| out.push(v.to_string()));
                out
            }
        }
    }
}

/// A test of a record: `SPEC`, `!SPEC`, or `SPEC OP VALUE` with OP one of `=`, `!=`, `~`,
/// `!~`. Used for subspecs inside a spec, and on its own to select records
/// (`Condition::parse("008/35-37=fre")`, where VALUE is plain text).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    left: Term,
    op: Op,
    right: Option<Term>,
}

impl Condition {
    /// Parses `SPEC`, `!SPEC` or `SPEC OP VALUE`, VALUE being plain text to the end.
    pub fn parse(text: &str) -> Result<Condition, SpecError> {
        let mut p = Parser::new(text);
        let negated = p.eat('!');
        let spec = p.spec(false)?;
        let op = if p.at_end() {
            if negated {
                Op::NotExists
            } else {
                Op::Exists
            }
        } else if negated {
            return Err(p.error("a condition with '!' in front takes no operator"));
        } else {
            p.operator()?
        };
        let right = match op {
            Op::Exists | Op::NotExists => None,
            _ => Some(Term::Literal(p.rest())),
        };
        Ok(Condition {
            left: Term::Spec(spec),
            op,
            right,
        })
    }

    /// Add the tags of every field the condition may read to `set` (see [`Spec::add_tags`]).
    pub fn add_tags(&self, set: &mut TagSet) {
        self.specs().for_each(|spec| spec.add_tags(set));
    }

    /// Whether the condition reads the leader (see [`Spec::reads_leader`]).
    pub fn reads_leader(&self) -> bool {
        self.specs().any(Spec::reads_leader)
    }

    /// The specs on either side (a literal is none).
    fn specs(&self) -> impl Iterator<Item = &Spec> {
        [Some(&self.left), self.right.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|term| match term {
                Term::Spec(spec) => Some(spec),
                _ => None,
            })
    }

    /// Whether the record passes the test.
    pub fn matches(&self, record: &Record) -> bool {
        self.holds(record, None)
    }

    fn holds(&self, record: &Record, context: Option<Context<'_>>) -> bool {
        let left = self.left.values(record, context);
        let right = || {
            self.right
                .as_ref()
                .map(|r| r.values(record, context))
                .unwrap_or_default()
        };
        let any = |test: &dyn Fn(&str, &str) -> bool| {
            let right = right();
            left.iter()
                .any(|l| right.iter().any(|r| test(l.as_str(), r.as_str())))
        };
        match self.op {
            Op::Exists => !left.is_empty(),
            Op::NotExists => left.is_empty(),
            Op::Equal => any(&|l, r| l == r),
            Op::NotEqual => !any(&|l, r| l == r),
            Op::Contains => any(&|l, r| l.contains(r)),
            Op::NotContains => !any(&|l, r| l.contains(r)),
        }
    }
}

/// A recursive-descent parser over the spec's characters.
struct Parser<'t> {
    text: &'t str,
    chars: Vec<char>,
    at: usize,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        Parser {
            text,
            chars: text.chars().collect(),
            at: 0,
        }
    }

    fn error(&self, message: impl Into<String>) -> SpecError {
        SpecError {
            spec: self.text.to_string(),
            position: self.at,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn at_end(&self) -> bool {
        self.at >= self.chars.len()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn end(&self) -> Result<(), SpecError> {
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(self.error(format!("unexpected {c:?}"))),
        }
    }

    fn rest(&mut self) -> String {
        let s: String = self.chars[self.at..].iter().collect();
        self.at = self.chars.len();
        s
    }

    /// A spec; a relative one (no tag) only inside subspecs.
    fn spec(&mut self, relative_allowed: bool) -> Result<Spec, SpecError> {
        let starts_relative = matches!(self.peek(), Some('$' | '^' | '/'));
        let tag = if starts_relative {
            if !relative_allowed {
                return Err(self.error("a spec starts with a field tag (such as 245 or LDR)"));
            }
            None
        } else {
            Some(self.tag()?)
        };
        let mut spec = Spec {
            tag,
            index: None,
            filters: Vec::new(),
            part: Part::Value(None),
        };
        if tag.is_some() && self.peek() == Some('[') {
            spec.index = Some(self.range('[')?);
        }
        if tag == Some(TagPattern::Leader) && matches!(self.peek(), Some('^' | '$')) {
            return Err(self.error("the leader has no indicators or subfields"));
        }
        match self.peek() {
            Some('/') => spec.part = Part::Value(Some(self.range('/')?)),
            Some('^') => {
                self.at += 1;
                spec.part = match self.peek() {
                    Some('1') => Part::Indicator(0),
                    Some('2') => Part::Indicator(1),
                    _ => return Err(self.error("an indicator is ^1 or ^2")),
                };
                self.at += 1;
            }
            _ => {}
        }
        if tag.is_some() {
            spec.filters = self.subspecs()?;
        }
        if self.peek() == Some('$') {
            if !matches!(spec.part, Part::Value(None)) {
                return Err(self.error("subfields cannot follow a character range or indicator"));
            }
            let mut sels = Vec::new();
            while self.peek() == Some('$') {
                sels.push(self.subfield()?);
            }
            spec.part = Part::Subfields(sels);
        }
        if tag == Some(TagPattern::Leader) && !matches!(spec.part, Part::Value(_)) {
            return Err(self.error("the leader has no indicators or subfields"));
        }
        Ok(spec)
    }

    fn tag(&mut self) -> Result<TagPattern, SpecError> {
        let start = self.at;
        let mut pattern = [None; 3];
        for slot in &mut pattern {
            match self.peek() {
                Some('X' | 'x' | '.') => {}
                Some(c) if c.is_ascii_alphanumeric() => *slot = Some(c as u8),
                _ => return Err(self.error("a field tag is three letters, digits or X")),
            }
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        Ok(if text == "LDR" {
            TagPattern::Leader
        } else {
            TagPattern::of(pattern)
        })
    }

    /// `[a-b]` or `/a-b`, `open` being `[` or `/`.
    fn range(&mut self, open: char) -> Result<Range, SpecError> {
        self.at += 1;
        let start = self.pos()?;
        let end = if self.eat('-') { self.pos()? } else { start };
        if let (Pos::At(a), Pos::At(b)) = (start, end) {
            if b < a {
                return Err(self.error("a range ends before it starts"));
            }
        }
        if start == Pos::Last && end != Pos::Last {
            return Err(self.error("a range that starts at # ends at #"));
        }
        if open == '[' && !self.eat(']') {
            return Err(self.error("expected ']'"));
        }
        Ok(Range { start, end })
    }

    fn pos(&mut self) -> Result<Pos, SpecError> {
        if self.eat('#') {
            return Ok(Pos::Last);
        }
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("expected a position (digits or #)"));
        }
        let digits: String = self.chars[start..self.at].iter().collect();
        digits.parse().map(Pos::At).map_err(|_| SpecError {
            spec: self.text.to_string(),
            position: start,
            message: "position too large".into(),
        })
    }

    fn subfield(&mut self) -> Result<SubfieldSel, SpecError> {
        self.at += 1; // '$'
        let mut codes = Vec::new();
        let code = |p: &mut Self| match p.peek() {
            Some(c) if c.is_ascii_alphanumeric() => {
                p.at += 1;
                Ok(c)
            }
            _ => Err(p.error("expected a subfield code (a letter or digit)")),
        };
        let first = code(self)?;
        if self.eat('-') {
            let last = code(self)?;
            if last < first {
                return Err(self.error("a range of subfield codes ends before it starts"));
            }
            codes.push((first, last));
        } else {
            codes.push((first, first));
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                let c = code(self)?;
                codes.push((c, c));
            }
        }
        let index = match self.peek() {
            Some('[') => Some(self.range('[')?),
            _ => None,
        };
        let chars = match self.peek() {
            Some('/') => Some(self.range('/')?),
            _ => None,
        };
        let filters = self.subspecs()?;
        Ok(SubfieldSel {
            codes,
            index,
            chars,
            filters,
        })
    }

    /// Zero or more `{…}`: each a list of alternatives.
    fn subspecs(&mut self) -> Result<Vec<Vec<Condition>>, SpecError> {
        let mut all = Vec::new();
        while self.eat('{') {
            let mut any = vec![self.subspec()?];
            while self.eat('|') {
                any.push(self.subspec()?);
            }
            if !self.eat('}') {
                return Err(self.error("expected '}' or '|'"));
            }
            all.push(any);
        }
        Ok(all)
    }

    /// `[LEFT] OP RIGHT`, `?TERM`, `!TERM` or `TERM`. Without LEFT, the test is of what the
    /// subspec filters (the field, or the subfield value: `650$a{~\Fiction}`).
    fn subspec(&mut self) -> Result<Condition, SpecError> {
        if self.eat('?') {
            return Ok(Condition {
                left: self.term()?,
                op: Op::Exists,
                right: None,
            });
        }
        let omitted = matches!(
            (self.peek(), self.chars.get(self.at + 1)),
            (Some('=' | '~'), _) | (Some('!'), Some('=' | '~'))
        );
        if omitted {
            let op = self.operator()?;
            return Ok(Condition {
                left: Term::Spec(Spec::filtered()),
                op,
                right: Some(self.term()?),
            });
        }
        let negated = self.eat('!');
        let left = self.term()?;
        if negated {
            return Ok(Condition {
                left,
                op: Op::NotExists,
                right: None,
            });
        }
        if matches!(self.peek(), Some('}' | '|')) {
            return Ok(Condition {
                left,
                op: Op::Exists,
                right: None,
            });
        }
        let op = self.operator()?;
        let right = self.term()?;
        Ok(Condition {
            left,
            op,
            right: Some(right),
        })
    }

    fn operator(&mut self) -> Result<Op, SpecError> {
        let op = match (self.peek(), self.chars.get(self.at + 1)) {
            (Some('!'), Some('=')) => Op::NotEqual,
            (Some('!'), Some('~')) => Op::NotContains,
            (Some('='), _) => Op::Equal,
            (Some('~'), _) => Op::Contains,
            _ => return Err(self.error("expected an operator: =, !=, ~ or !~")),
        };
        self.at += if matches!(op, Op::NotEqual | Op::NotContains) {
            2
        } else {
            1
        };
        Ok(op)
    }

    fn term(&mut self) -> Result<Term, SpecError> {
        if !self.eat('\\') {
            return self.spec(true).map(Term::Spec);
        }
        let mut literal = String::new();
        while let Some(c) = self.peek() {
            match c {
                '}' | '|' => break,
                '\\' => {
                    self.at += 1;
                    match self.peek() {
                        Some('s') => literal.push(' '),
                        Some(c) => literal.push(c),
                        None => return Err(self.error("a '\\' at the end escapes nothing")),
                    }
                }
                c => literal.push(c),
            }
            self.at += 1;
        }
        Ok(Term::Literal(literal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, Subfield, Tag};

    fn record() -> Record {
        let mut r = Record::new();
        r.leader_mut().set(6, b'a');
        r.push(&Field::control(Tag::new("001").unwrap(), "ocm123"));
        r.push(&Field::control(
            Tag::new("008").unwrap(),
            "080202r20031813enk           000 1 fre d",
        ));
        r.push(&Field::data(
            Tag::new("245").unwrap(),
            '1',
            '0',
            vec![
                Subfield::new('a', "Pride and prejudice /"),
                Subfield::new('c', "Jane Austen."),
            ],
        ));
        for (ind2, a, v) in [
            ('0', "Courtship", "Fiction."),
            ('7', "Sisters", "Fiction."),
            ('0', "England", "Novels."),
        ] {
            r.push(&Field::data(
                Tag::new("650").unwrap(),
                ' ',
                ind2,
                vec![Subfield::new('a', a), Subfield::new('v', v)],
            ));
        }
        r.push(&Field::data(
            Tag::new("651").unwrap(),
            ' ',
            '0',
            vec![Subfield::new('a', "Bath (England)")],
        ));
        r
    }

    fn values(spec: &str) -> Vec<String> {
        Spec::parse(spec).unwrap().values(&record())
    }

    #[test]
    fn tags_subfields_and_wildcards() {
        assert_eq!(values("001"), ["ocm123"]);
        assert_eq!(values("245$a"), ["Pride and prejudice /"]);
        assert_eq!(values("245$ac"), ["Pride and prejudice /", "Jane Austen."]);
        assert_eq!(values("245$a$c"), values("245$ac"));
        assert_eq!(values("245$a-c"), values("245$ac"));
        assert_eq!(
            values("6XX$a"),
            ["Courtship", "Sisters", "England", "Bath (England)"]
        );
        assert_eq!(values("65.$a"), values("6XX$a"));
        assert_eq!(
            values("650"),
            ["Courtship Fiction.", "Sisters Fiction.", "England Novels."]
        );
        assert!(values("700$a").is_empty());
    }

    #[test]
    fn character_positions() {
        assert_eq!(values("008/35-37"), ["fre"]);
        assert_eq!(values("LDR/06"), ["a"]);
        assert_eq!(values("001/#"), ["3"]);
        assert_eq!(values("001/3-#"), ["123"]);
        assert_eq!(values("001/4-99"), ["23"]);
        assert!(values("001/40").is_empty());
        assert_eq!(values("245$a/0-4"), ["Pride"]);
        let mut r = Record::new();
        r.push(&Field::control(Tag::new("001").unwrap(), "ÉtéX"));
        assert_eq!(Spec::parse("001/1-2").unwrap().values(&r), ["té"]);
    }

    #[test]
    fn indexes() {
        assert_eq!(values("650[0]$a"), ["Courtship"]);
        assert_eq!(values("650[#]$a"), ["England"]);
        assert_eq!(values("650[1-#]$a"), ["Sisters", "England"]);
        assert_eq!(values("6XX[3]$a"), ["Bath (England)"]);
        assert_eq!(values("245$ac[1]"), ["Jane Austen."]);
        assert_eq!(values("650$a[0]").len(), 3);
        assert!(values("650[7]$a").is_empty());
    }

    #[test]
    fn single_or_list() {
        for (spec, single) in [
            ("LDR/06", true),
            ("245[0]$a[0]", true),
            ("245[0]", true),
            ("245[#]^1", true),
            ("245$a", false),
            ("245[0]$a", false),
            ("245$a[0]", false),
            ("650[0-1]$a[0]", false),
            ("001", false),
        ] {
            assert_eq!(Spec::parse(spec).unwrap().is_single(), single, "{spec}");
        }
    }

    #[test]
    fn indicators_and_subspecs() {
        assert_eq!(values("245^1"), ["1"]);
        assert_eq!(values("650^2"), ["0", "7", "0"]);
        assert_eq!(values("650{^2=\\0}$a"), ["Courtship", "England"]);
        assert_eq!(values("650{^2!=\\0}$a"), ["Sisters"]);
        assert_eq!(values("650{$v~\\Fict}$a"), ["Courtship", "Sisters"]);
        assert_eq!(values("650{$v!~\\Fict}$a"), ["England"]);
        assert_eq!(
            values("650{$a=\\Sisters|$a=\\England}$a"),
            ["Sisters", "England"]
        );
        assert_eq!(values("650{^2=\\0}{$v=\\Novels.}$a"), ["England"]);
        assert_eq!(values("650$a{/0=\\S}"), ["Sisters"]);
        assert_eq!(values("650{$x}$a").len(), 0);
        assert_eq!(values("650{!$x}$a").len(), 3);
        assert_eq!(values("245{008/35-37=\\fre}$c"), ["Jane Austen."]);
        assert_eq!(values("651$a{$a~\\Bath\\s(}"), ["Bath (England)"]);
        // The left subterm left out: the test is of what the subspec filters.
        assert_eq!(values("650$a{~\\Court}"), ["Courtship"]);
        assert_eq!(values("650$a{!~\\Court}"), ["Sisters", "England"]);
        assert_eq!(values("650$v{=\\Novels.}"), ["Novels."]);
        assert_eq!(values("650$v{!=\\Novels.}"), ["Fiction.", "Fiction."]);
        assert_eq!(values("650{~\\Novels}$a"), ["England"]);
        assert_eq!(values("650{?$v}$a").len(), 3);
        assert_eq!(values("650{?$x}$a").len(), 0);
    }

    #[test]
    fn a_spec_reads_the_leader_itself_or_in_a_subspec() {
        let reads = |spec: &str| Spec::parse(spec).unwrap().reads_leader();
        assert!(reads("LDR/06"));
        assert!(reads("245$a{LDR/09=\\a}"));
        assert!(reads("650$a{$x|LDR/06=\\a}"));
        assert!(reads("650{008/35-37=\\fre|LDR/07=\\m}$a"));
        assert!(!reads("650{008/35-37=\\fre}$a{$x}"));
        assert!(!reads("008/35-37"));
    }

    #[test]
    fn tags_read_include_the_subspecs_fields() {
        let tags = |spec: &str| {
            let mut set = TagSet::new();
            Spec::parse(spec).unwrap().add_tags(&mut set);
            let numbered = (0..1000)
                .map(|n| format!("{n:03}"))
                .filter(|t| set.contains(Tag::new(t).unwrap()))
                .collect::<Vec<_>>();
            (numbered, set.contains(Tag::new("CAT").unwrap()))
        };
        assert_eq!(tags("LDR/06"), (vec![], false));
        assert_eq!(tags("650{^2=\\0}$a"), (vec!["650".into()], false));
        assert_eq!(
            tags("245{008/35-37=\\fre}$c{$b~\\x|020$a}"),
            (vec!["008".into(), "020".into(), "245".into()], false)
        );
        let mut every = TagSet::new();
        Spec::parse("XXX").unwrap().add_tags(&mut every);
        assert!(every.is_full());
        assert!(!TagSet::new().is_full());
        let (six, others) = tags("6XX$a");
        assert_eq!((six.len(), six[0].as_str(), others), (100, "600", true));
        assert_eq!(tags("CAT$a"), (vec![], true));
    }

    #[test]
    fn conditions_select_records() {
        let r = record();
        let holds = |c: &str| Condition::parse(c).unwrap().matches(&r);
        assert!(holds("008/35-37=fre"));
        assert!(!holds("008/35-37=eng"));
        assert!(holds("008/35-37!=eng"));
        assert!(holds("650$a~Court"));
        assert!(!holds("650$a!~Court"));
        assert!(holds("245"));
        assert!(!holds("700"));
        assert!(holds("!700"));
        assert!(holds("245$a=Pride and prejudice /"));
    }

    #[test]
    fn errors_point_at_the_character() {
        for (spec, at) in [
            ("24", 2),
            ("245$", 4),
            ("245[0", 5),
            ("245[x]", 4),
            ("245^3", 4),
            ("$a", 0),
            ("245$a{^1=\\1", 11),
            ("008/5-3", 7),
            ("LDR$a", 3),
            ("LDR^1", 3),
            ("245$a{=}", 7),
            ("245$a!", 5),
            ("245/0$a", 5),
        ] {
            let err = Spec::parse(spec).unwrap_err();
            assert_eq!(err.position(), at, "{spec}: {err}");
            assert!(err.to_string().contains(&format!("character {}", at + 1)));
        }
        let err = Condition::parse("650$a?x").unwrap_err();
        assert_eq!(err.position(), 5);
    }
}
