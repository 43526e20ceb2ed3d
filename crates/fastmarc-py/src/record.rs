//! `fastmarc.Record`: pymarc's Record, backed lazily by a parsed core record.
//!
//! A record from a reader holds the parsed core record (`core`) and nothing else: no field
//! objects, no leader object. The hot properties (`title`, `author`, `isbn`, …), `str()` and
//! `as_marc()` are computed from it in Rust. The first time anyone touches `fields` (or a
//! method that returns fields), the field objects are made once; from then on the Python
//! list is the truth and mutation works exactly as in pymarc.

use crate::errors::to_pymarc_error;
use crate::field::{make_indicators, Field};
use crate::gil_cell::{CellClass, GilCell, Ref, RefMut};
use crate::pyobjects::{exception_class, leader_class, raw_field_class};
use crate::reader::Home;
use crate::shared_core::SharedCore;
use crate::subclass;
use crate::untracked::{untracked, Untracked};
use fastmarc::internal::{write_field_bodies, FieldBodies};
use fastmarc::iso2709::{write_record_with_leader, Decoding, ParseOptions, Utf8Errors};
use fastmarc::{Leader as CoreLeader, Record as CoreRecord, TextEncoding};
use pyo3::exceptions::{PyKeyError, PyStopIteration, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::sync::Arc;

/// How a reader or `Record(data=...)` turns bytes into text (pymarc's keyword arguments).
#[derive(Clone, Debug)]
pub struct DecodeSettings {
    pub to_unicode: bool,
    pub force_utf8: bool,
    pub hide_utf8_warnings: bool,
    pub utf8_handling: String,
    pub file_encoding: String,
}

impl Default for DecodeSettings {
    fn default() -> Self {
        DecodeSettings {
            to_unicode: true,
            force_utf8: false,
            hide_utf8_warnings: false,
            utf8_handling: "strict".into(),
            file_encoding: "iso8859-1".into(),
        }
    }
}

impl DecodeSettings {
    fn utf8_errors(&self) -> Option<Utf8Errors> {
        match self.utf8_handling.as_str() {
            "strict" => Some(Utf8Errors::Strict),
            "replace" => Some(Utf8Errors::Replace),
            "ignore" => Some(Utf8Errors::Ignore),
            _ => None,
        }
    }

    /// True when the core decoders do everything; otherwise the core keeps raw bytes and
    /// Python's codecs decode them when the record is wrapped.
    pub fn native(&self) -> bool {
        self.to_unicode && self.file_encoding == "iso8859-1" && self.utf8_errors().is_some()
    }

    /// Core parse options: lenient structure, as pymarc.
    pub fn parse_options(&self) -> ParseOptions {
        if self.native() {
            ParseOptions {
                decoding: if self.force_utf8 {
                    Decoding::Utf8
                } else {
                    Decoding::Auto
                },
                utf8_errors: self.utf8_errors().unwrap_or_default(),
                strict: false,
                // pymarc reports no such thing, so Python readers do not pay for it.
                detect_utf8_under_marc8: false,
            }
        } else {
            ParseOptions {
                decoding: Decoding::Raw,
                utf8_errors: Utf8Errors::Strict,
                strict: false,
                detect_utf8_under_marc8: false,
            }
        }
    }
}

/// The record's leader: the parsed bytes until someone asks for a `Leader` object.
pub enum LeaderSlot {
    Native(CoreLeader),
    Py(Py<PyAny>),
}

/// `frozen`, so PyO3 keeps no atomic borrow flag: the state is borrow-checked by our
/// [`GilCell`] instead (see `crate::gil_cell`).
#[pyclass(frozen, subclass, module = "fastmarc.record", name = "Record")]
pub struct Record {
    state: GilCell<RecordState>,
}

impl CellClass for Record {
    type State = RecordState;
    fn cell(&self) -> &GilCell<RecordState> {
        &self.state
    }
    fn from_state(state: RecordState) -> Record {
        Record {
            state: GilCell::new(state),
        }
    }
}

impl Record {
    /// A shared borrow of the state.
    #[inline]
    pub fn state<'a>(&'a self, py: Python<'a>) -> PyResult<Ref<'a, RecordState>> {
        self.state.borrow(py)
    }

    /// The mutable borrow of the state.
    #[inline]
    pub fn state_mut<'a>(&'a self, py: Python<'a>) -> PyResult<RefMut<'a, RecordState>> {
        self.state.borrow_mut(py)
    }
}

/// What a `Record` object holds.
pub struct RecordState {
    /// The parsed record, the truth while `fields` is `None` (shared with the field
    /// objects made from it; it goes back to the reader thread that parsed it, to be
    /// parsed into again, when the last of them goes).
    core: Option<SharedCore>,
    /// The field list once materialised (or set by the user).
    fields: Option<Py<PyAny>>,
    /// Field objects made, by index into `core`, before the whole list was asked for: a
    /// lookup by tag makes only the fields it returns. They join the list when it is made.
    handed: Vec<(usize, Py<Field>)>,
    /// Fields added before the list was made, each with its index in the list to be
    /// (ascending): adding a field and removing it again need no field objects for the
    /// record's own fields. While any are here, the core record is not the truth.
    added: Vec<(usize, Py<PyAny>)>,
    leader: LeaderSlot,
    pos: isize,
    force_utf8: bool,
    to_unicode: bool,
    iter_pos: usize,
    /// For an object made from a parsed record, kept out of the cycle collector: whether
    /// it is still as parsed (see `crate::untracked`).
    gc: Untracked,
}

impl crate::freelist::Pooled for Record {
    fn free_list() -> &'static crate::freelist::FreeList {
        static LIST: crate::freelist::FreeList = crate::freelist::FreeList::new(64);
        &LIST
    }
}

fn raw_bytes(s: &str) -> Vec<u8> {
    // Raw records hold one char per original byte.
    s.chars().map(|c| c as u32 as u8).collect()
}

impl RecordState {
    /// Wrap a record parsed with `settings` by a reader's thread `home` (called by
    /// readers with the GIL held; cheap on the native path: no Python object but the
    /// record itself).
    pub fn from_core(
        py: Python<'_>,
        core: Arc<CoreRecord>,
        home: Option<Home>,
        settings: &DecodeSettings,
    ) -> PyResult<RecordState> {
        if !core.diagnostics().is_empty() {
            crate::diagnostics::report(py, core.diagnostics(), settings.hide_utf8_warnings)?;
        }
        let mut r = RecordState {
            leader: LeaderSlot::Native(*core.leader()),
            core: None,
            fields: None,
            pos: 0,
            force_utf8: settings.force_utf8,
            to_unicode: settings.to_unicode,
            iter_pos: 0,
            gc: Untracked::default(),
            handed: Vec::new(),
            added: Vec::new(),
        };
        if settings.native() {
            r.core = Some(SharedCore::new(py, core, home));
        } else {
            r.fields = Some(
                materialize_with_codecs(py, &core, settings)?
                    .into_any()
                    .unbind(),
            );
            if let Some(home) = home {
                home.give_back(core);
            }
        }
        Ok(r)
    }

    /// The fields list, made from the core record the first time.
    pub fn fields_obj<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.fields.is_none() {
            self.gc.touch();
            let mut fields = Vec::new();
            let mut added = std::mem::take(&mut self.added).into_iter().peekable();
            let only_fields = added.len() == 0;
            if let Some(core) = self.core.take() {
                let mut handed = std::mem::take(&mut self.handed).into_iter().peekable();
                fields.reserve_exact(core.len() + added.len());
                for i in 0..core.len() {
                    while let Some((_, f)) = added.next_if(|(at, _)| *at == fields.len()) {
                        fields.push(f.into_bound(py));
                    }
                    fields.push(match handed.next_if(|(at, _)| *at == i) {
                        Some((_, f)) => f.into_bound(py).into_any(),
                        None => Field::new_lazy_object(py, &core, i)?.into_any(),
                    });
                }
            }
            fields.extend(added.map(|(_, f)| f.into_bound(py)));
            let list = PyList::new(py, fields)?;
            // Only `Field`s, whose references the cycle collector does not follow: tracked,
            // the list would have every collection walk every field of every record read.
            // (Fields added by the program may be anything, so their list stays tracked.)
            let list = if only_fields { untracked(list) } else { list };
            self.fields = Some(list.into_any().unbind());
        }
        Ok(self.fields.as_ref().expect("set above").bind(py).clone())
    }

    /// The object for field `i` of the core record, made once (fields not materialised).
    fn field_at<'py>(
        &mut self,
        py: Python<'py>,
        core: &SharedCore,
        i: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let at = self.handed.partition_point(|(j, _)| *j < i);
        if let Some((j, f)) = self.handed.get(at) {
            if *j == i {
                return Ok(f.bind(py).clone().into_any());
            }
        }
        self.gc.touch();
        let f = Field::new_lazy_object(py, core, i)?;
        self.handed.insert(at, (i, f.clone().unbind()));
        Ok(f.into_any())
    }

    /// The fields whose tag is one of `tags`, by lookup in the core record while the list
    /// is not materialised (a field object already made is asked its tag, which may have
    /// been changed). `None` once the list exists.
    fn tag_matches<'py>(
        &mut self,
        py: Python<'py>,
        tags: &[&str],
        first_only: bool,
    ) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
        let Some(core) = self
            .core
            .as_ref()
            .filter(|_| self.fields.is_none() && self.added.is_empty())
            .map(|c| c.share(py))
        else {
            return Ok(None);
        };
        let mut out = Vec::new();
        let mut handed = 0;
        for (i, f) in core.fields().enumerate() {
            while self.handed.get(handed).is_some_and(|(j, _)| *j < i) {
                handed += 1;
            }
            let hit = match self.handed.get(handed) {
                Some((j, obj)) if *j == i => {
                    let obj = obj.bind(py).get();
                    let tag = &obj.state(py)?.tag;
                    tags.iter().any(|t| *t == &**tag)
                }
                _ => tags.contains(&f.tag().as_str()),
            };
            if hit {
                out.push(self.field_at(py, &core, i)?);
                if first_only {
                    break;
                }
            }
        }
        Ok(Some(out))
    }

    /// A record read from a file as a Python object, kept out of the cycle collector (see
    /// `crate::untracked`).
    pub fn into_object(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let pristine = self.fields.is_none() && matches!(self.leader, LeaderSlot::Native(_));
        let obj = Bound::new(py, Record::from_state(self))?;
        if pristine {
            let gc = Untracked::untrack(obj.as_any());
            obj.get().state_mut(py)?.gc = gc;
        }
        Ok(obj.into_any().unbind())
    }

    /// The core record, while no field objects exist, and the record's leader as a core
    /// leader (`None` if it is not 24 ASCII characters).
    pub fn untouched(&self, py: Python<'_>) -> PyResult<Option<(&SharedCore, Option<CoreLeader>)>> {
        let Some(core) = self.lazy(py) else {
            return Ok(None);
        };
        let leader = match &self.leader {
            LeaderSlot::Native(l) => Some(*l),
            LeaderSlot::Py(_) => CoreLeader::from_bytes(self.leader_string(py)?.as_bytes()).ok(),
        };
        Ok(Some((core, leader)))
    }

    /// The core record, while it is the truth: no field list, and every field object made
    /// so far as it was made.
    fn lazy(&self, py: Python<'_>) -> Option<&SharedCore> {
        // A field borrowed mutably right now is being changed: not pristine.
        let untouched = |(_, f): &(usize, Py<Field>)| f.get().state(py).is_ok_and(|f| f.pristine());
        if self.fields.is_some() || !self.added.is_empty() || !self.handed.iter().all(untouched) {
            return None;
        }
        self.core.as_ref()
    }

    fn leader_string(&self, py: Python<'_>) -> PyResult<String> {
        match &self.leader {
            LeaderSlot::Native(l) => Ok(l.as_str().to_string()),
            LeaderSlot::Py(o) => o.bind(py).str()?.extract(),
        }
    }

    fn leader_char(&self, py: Python<'_>, pos: usize) -> PyResult<Option<char>> {
        if let LeaderSlot::Native(l) = &self.leader {
            // A parsed leader is 24 ASCII bytes.
            return Ok(l.as_bytes().get(pos).map(|&b| b as char));
        }
        Ok(self.leader_string(py)?.chars().nth(pos))
    }

    /// pymarc's `as_marc` marks the record Unicode before serialising.
    fn mark_unicode(&mut self, py: Python<'_>) -> PyResult<()> {
        match &mut self.leader {
            LeaderSlot::Native(l) => l.set_character_coding_scheme(b'a'),
            LeaderSlot::Py(o) => {
                let obj = o.bind(py).clone();
                if obj.is_instance(leader_class(py)?)? {
                    obj.setattr(intern!(py, "coding_scheme"), "a")?;
                } else {
                    let s: String = obj.str()?.extract()?;
                    let chars: Vec<char> = s.chars().collect();
                    let mut out: String = chars.iter().take(9).collect();
                    out.push('a');
                    out.extend(chars.iter().skip(10));
                    self.leader = LeaderSlot::Py(PyString::new(py, &out).into_any().unbind());
                }
            }
        }
        Ok(())
    }

    /// The first field with `tag` (materialising the fields).
    fn first_field<'py>(
        &mut self,
        py: Python<'py>,
        tag: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        if let Some(found) = self.tag_matches(py, &[tag], true)? {
            return Ok(found.into_iter().next());
        }
        let fields = self.fields_obj(py)?;
        for f in fields.try_iter()? {
            let f = f?;
            if field_tag_is(&f, tag)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    /// `field.get(code)` for any field object, as an optional Python value.
    fn field_get<'py>(
        field: &Bound<'py, PyAny>,
        code: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = field.call_method1(intern!(field.py(), "get"), (code,))?;
        Ok(if v.is_none() { None } else { Some(v) })
    }

    fn joined_a_b(&mut self, py: Python<'_>, tag: &str) -> PyResult<Option<Py<PyAny>>> {
        if let Some(core) = self.lazy(py) {
            let t = if tag == "245" {
                core.title()
            } else {
                core.issn_title()
            };
            return Ok(t.map(|t| crate::pystr::new(py, &t).into_any().unbind()));
        }
        let Some(f) = self.first_field(py, tag)? else {
            return Ok(None);
        };
        let Some(a) = Self::field_get(&f, "a")? else {
            return Ok(None);
        };
        if !a.is_truthy()? {
            return Ok(Some(a.unbind()));
        }
        match Self::field_get(&f, "b")? {
            Some(b) if b.is_truthy()? => {
                // pymarc's `title += f" {subtitle}"`, with Python's own errors for bytes.
                let tail = PyString::new(py, &format!(" {}", b.str()?.to_str()?));
                Ok(Some(a.add(tail)?.unbind()))
            }
            _ => Ok(Some(a.unbind())),
        }
    }

    fn formatted_first(&mut self, py: Python<'_>, tags: &[&str]) -> PyResult<Option<String>> {
        if let Some(core) = self.lazy(py) {
            return Ok(tags
                .iter()
                .find_map(|t| core.get(t))
                .map(|f| f.format_field()));
        }
        for t in tags {
            if let Some(f) = self.first_field(py, t)? {
                return Ok(Some(
                    f.call_method0(intern!(py, "format_field"))?.extract()?,
                ));
            }
        }
        Ok(None)
    }

    fn fields_with_tags<'py>(
        &mut self,
        py: Python<'py>,
        tags: &[&str],
    ) -> PyResult<Bound<'py, PyList>> {
        if let Some(found) = self.tag_matches(py, tags, false)? {
            return PyList::new(py, found);
        }
        let fields = self.fields_obj(py)?;
        let out = PyList::empty(py);
        for f in fields.try_iter()? {
            let f = f?;
            let tag = field_tag(&f)?;
            if tags.iter().any(|t| *t == tag) {
                out.append(f)?;
            }
        }
        Ok(out)
    }

    fn publisher_part(&mut self, py: Python<'_>, code: &str) -> PyResult<Py<PyAny>> {
        for f in self.fields_with_tags(py, &["260", "264"])?.iter() {
            let tag = field_tag(&f)?;
            if tag == "260" {
                return Ok(f.call_method1(intern!(py, "get"), (code,))?.unbind());
            }
            if tag == "264" {
                let ind2 = f.getattr(intern!(py, "indicator2"))?;
                if str_is(&ind2, "1")? {
                    return Ok(f.call_method1(intern!(py, "get"), (code,))?.unbind());
                }
            }
        }
        Ok(py.None())
    }

    /// `as_marc` for a record whose fields are Python objects: each field's bytes (in Rust
    /// for our own `Field`, else from its `as_marc`), put behind a directory and the
    /// record's leader by the core writer.
    fn as_marc_generic(&mut self, py: Python<'_>, utf8: bool) -> PyResult<Vec<u8>> {
        let encoding = if utf8 { "utf-8" } else { "iso8859-1" };
        let fields = self.fields_obj(py)?;
        let raw_cls = raw_field_class(py)?;
        let mut bodies = FieldBodies::new();
        let mut body: Vec<u8> = Vec::new();
        for f in fields.try_iter()? {
            let f = f?;
            body.clear();
            let exact_field = f.get_type().is(py.get_type::<Field>());
            if exact_field && utf8 {
                f.cast::<Field>()?
                    .get()
                    .state(py)?
                    .marc_utf8(py, &mut body)?;
            } else {
                let chunk = if f.is_instance(raw_cls)? {
                    f.call_method0(intern!(py, "as_marc"))?
                } else {
                    let kw = PyDict::new(py);
                    kw.set_item("encoding", encoding)?;
                    f.call_method(intern!(py, "as_marc"), (), Some(&kw))?
                };
                body.extend_from_slice(chunk.cast::<PyBytes>()?.as_bytes());
            }
            bodies.push(&field_tag(&f)?, &body);
        }
        let text = if utf8 {
            TextEncoding::Unicode
        } else {
            TextEncoding::Raw
        };
        let mut out = Vec::new();
        write_field_bodies(&self.leader_string(py)?, &bodies, text, &mut out)
            .map_err(|e| crate::errors::value_error(&e))?;
        Ok(out)
    }
}

/// What `as_marc` serialises: the parsed core record (and the leader to write), for the
/// GIL to be released while it is serialised, or bytes already made from field objects.
pub enum MarcSource {
    /// The core record and the record's leader, when that is 24 ASCII bytes.
    Core(Arc<CoreRecord>, Option<[u8; 24]>),
    Bytes(Vec<u8>),
}

impl Record {
    /// pymarc's `as_marc` up to serialisation: marks the leader Unicode (as pymarc does) and
    /// takes what is to be written. The record is not borrowed afterwards: another thread
    /// may use it while the core record is serialised without the GIL.
    pub fn marc_source(slf: &Bound<'_, Self>) -> PyResult<MarcSource> {
        let py = slf.py();
        let mut me = slf.get().state_mut(py)?;
        if me.to_unicode {
            me.mark_unicode(py)?;
        }
        let utf8 = me.leader_char(py, 9)? == Some('a') || me.force_utf8;
        match me.lazy(py).map(|c| c.arc().clone()) {
            Some(core) if utf8 => {
                let leader = match &me.leader {
                    LeaderSlot::Native(l) => Some(*l.as_bytes()),
                    LeaderSlot::Py(_) => me.leader_string(py)?.as_bytes().try_into().ok(),
                };
                Ok(MarcSource::Core(core, leader))
            }
            _ => me.as_marc_generic(py, utf8).map(MarcSource::Bytes),
        }
    }
}

/// Append the core's ISO 2709 bytes to `out`, under the record's own leader where it is
/// one (pure Rust: callers may run it with the GIL released).
pub fn write_core_marc(
    core: &CoreRecord,
    leader: Option<[u8; 24]>,
    out: &mut Vec<u8>,
) -> fastmarc::Result<()> {
    match leader.and_then(|l| CoreLeader::from_bytes(&l).ok()) {
        Some(l) => write_record_with_leader(core, &l, out),
        None => fastmarc::iso2709::write_record_to_vec(core, out),
    }
}

/// Work on one record below this many bytes keeps the GIL. Releasing it costs little alone,
/// but with other threads running Python it hands the GIL over and waits to get it back,
/// which takes far longer than serialising a typical record: two threads releasing it once
/// per record run slower than one. Batches (the readers,
/// `MARCWriter(path)`) release the GIL once for many records instead.
const RELEASE_GIL_ABOVE: usize = 64 * 1024;

thread_local! {
    /// Where `as_marc()` serialises a record before copying it into the `bytes` object:
    /// reused, so a call costs no allocation of its own.
    static MARC_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Serialise a record that is still only the core record into a `bytes` object (a large
/// one with the GIL released).
fn core_as_marc<'py>(
    py: Python<'py>,
    core: Arc<CoreRecord>,
    leader: Option<[u8; 24]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let to_py = |e: fastmarc::Error| crate::errors::value_error(&e);
    if core.marc_size_hint() > RELEASE_GIL_ABOVE {
        let mut bytes = Vec::new();
        py.detach(|| write_core_marc(&core, leader, &mut bytes))
            .map_err(to_py)?;
        return Ok(PyBytes::new(py, &bytes));
    }
    MARC_BUF.with_borrow_mut(|buf| {
        buf.clear();
        write_core_marc(&core, leader, buf).map_err(to_py)?;
        Ok(PyBytes::new(py, buf))
    })
}

fn str_is(obj: &Bound<'_, PyAny>, s: &str) -> PyResult<bool> {
    match obj.cast::<PyString>() {
        Ok(p) => Ok(p.to_str()? == s),
        Err(_) => obj.eq(s),
    }
}

/// A field object's tag as a Rust string (fast for our own Field class).
pub fn field_tag(f: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(field) = f.cast::<Field>() {
        return Ok(field.get().state(f.py())?.tag.to_string());
    }
    f.getattr(intern!(f.py(), "tag"))?.str()?.extract()
}

fn field_tag_is(f: &Bound<'_, PyAny>, tag: &str) -> PyResult<bool> {
    if let Ok(field) = f.cast::<Field>() {
        return Ok(&*field.get().state(f.py())?.tag == tag);
    }
    str_is(&f.getattr(intern!(f.py(), "tag"))?, tag)
}

/// Field objects for a record whose bytes the core kept raw: RawField with bytes
/// (`to_unicode=False`), or text decoded with Python's codecs (`file_encoding`,
/// unusual `utf8_handling`), as pymarc decodes.
fn materialize_with_codecs<'py>(
    py: Python<'py>,
    core: &CoreRecord,
    s: &DecodeSettings,
) -> PyResult<Bound<'py, PyList>> {
    let leader_a = core.leader().character_coding_scheme() == b'a';
    let utf8 = leader_a || s.force_utf8;
    let encoding = if utf8 {
        "utf-8"
    } else {
        s.file_encoding.as_str()
    };
    let decode = |bytes: &[u8], errors: &str| -> PyResult<Bound<'py, PyAny>> {
        PyBytes::new(py, bytes).call_method1(intern!(py, "decode"), (encoding, errors))
    };
    let decode_subfield = |bytes: &[u8]| -> PyResult<Bound<'py, PyAny>> {
        if utf8 {
            decode(bytes, &s.utf8_handling)
        } else if encoding == "iso8859-1" {
            crate::marc8::marc8_to_unicode(py, bytes, s.hide_utf8_warnings)
                .map(|t| crate::pystr::new(py, &t).into_any())
        } else {
            decode(bytes, "strict")
        }
    };
    let raw_cls = raw_field_class(py)?;
    let list = PyList::empty(py);
    for f in core.fields() {
        let tag = f.tag().as_str().to_string();
        let field = if let Some(d) = f.data() {
            let bytes = raw_bytes(d);
            let data = if s.to_unicode {
                decode(&bytes, "strict")?
            } else {
                PyBytes::new(py, &bytes).into_any()
            };
            let kw = PyDict::new(py);
            kw.set_item("tag", &tag)?;
            kw.set_item("data", data)?;
            if s.to_unicode {
                py.get_type::<Field>().call((), Some(&kw))?
            } else {
                raw_cls.call((), Some(&kw))?
            }
        } else {
            let [i1, i2] = f.indicators();
            let subs = PyList::empty(py);
            for sf in f.subfields() {
                let bytes = raw_bytes(sf.value);
                let value = if s.to_unicode {
                    decode_subfield(&bytes)?
                } else {
                    PyBytes::new(py, &bytes).into_any()
                };
                let code = PyString::new(py, &sf.code.to_string()).into_any();
                subs.append(crate::pyobjects::subfield_class(py)?.call1((code, value))?)?;
            }
            let a = PyString::new(py, &i1.to_string()).into_any();
            let b = PyString::new(py, &i2.to_string()).into_any();
            let kw = PyDict::new(py);
            kw.set_item("tag", &tag)?;
            kw.set_item("indicators", make_indicators(py, &a, &b)?)?;
            kw.set_item("subfields", subs)?;
            if s.to_unicode {
                py.get_type::<Field>().call((), Some(&kw))?
            } else {
                raw_cls.call((), Some(&kw))?
            }
        };
        list.append(field)?;
    }
    Ok(list)
}

/// Parse one record's bytes as pymarc's `Record(data=...)` would.
pub fn parse_pymarc(
    py: Python<'_>,
    data: &[u8],
    settings: &DecodeSettings,
) -> PyResult<CoreRecord> {
    let opts = settings.parse_options();
    let parse = |bytes: &[u8]| {
        let mut rec = CoreRecord::new();
        fastmarc::iso2709::parse_record(bytes, &opts, &mut rec).map(|_| rec)
    };
    // As for serialising: one record's parse only releases the GIL when it is large.
    let result = if data.len() > RELEASE_GIL_ABOVE {
        let owned = data.to_vec();
        py.detach(move || parse(&owned))
    } else {
        parse(data)
    };
    result.map_err(|e| match e.kind() {
        // What pymarc's `int(leader[:5])` raises; a reader reports the same bytes as
        // RecordLengthInvalid before it gets this far.
        fastmarc::ErrorKind::RecordLengthNotDigits => crate::errors::int_error(
            py,
            PyString::new(py, &String::from_utf8_lossy(&data[..5])).into_any(),
        ),
        _ => to_pymarc_error(py, &e, data, 0),
    })
}

fn default_leader() -> String {
    " ".repeat(24)
}

/// The leader of `Record()`: pymarc's default leader with its fixed positions set.
const BLANK_LEADER: &[u8; 24] = b"          22        4500";

#[pymethods]
impl Record {
    #[classmethod]
    #[pyo3(signature = (**kwargs))]
    fn __init_subclass__(
        cls: &Bound<'_, pyo3::types::PyType>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        subclass::adapt(cls, &cls.py().get_type::<Record>(), kwargs)
    }

    /// A blank record; `__init__` fills it. Split as in a Python class, so that a subclass
    /// whose `__init__` takes arguments of its own can forward the rest to this one.
    #[new]
    #[pyo3(
        text_signature = "(data='', fields=None, to_unicode=True, force_utf8=False, hide_utf8_warnings=False, utf8_handling='strict', leader='                        ', file_encoding='iso8859-1')"
    )]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        Record::from_state(RecordState::blank(LeaderSlot::Native(
            CoreLeader::from_bytes(BLANK_LEADER).expect("ASCII"),
        )))
    }

    #[pyo3(signature = (
        data = None,
        fields = None,
        to_unicode = true,
        force_utf8 = false,
        hide_utf8_warnings = false,
        utf8_handling = "strict".to_string(),
        leader = default_leader(),
        file_encoding = "iso8859-1".to_string()
    ))]
    #[allow(clippy::too_many_arguments)]
    fn __init__(
        slf: &Bound<'_, Self>,
        data: Option<Bound<'_, PyAny>>,
        fields: Option<Bound<'_, PyAny>>,
        to_unicode: bool,
        force_utf8: bool,
        hide_utf8_warnings: bool,
        utf8_handling: String,
        leader: String,
        file_encoding: String,
    ) -> PyResult<()> {
        let py = slf.py();
        let chars: Vec<char> = leader.chars().collect();
        let take = |a: usize, b: usize| -> String {
            chars.iter().skip(a).take(b.saturating_sub(a)).collect()
        };
        let fixed = format!("{}22{}4500", take(0, 10), take(12, 20));
        let leader = match CoreLeader::from_bytes(fixed.as_bytes()) {
            Ok(l) => LeaderSlot::Native(l),
            Err(_) => LeaderSlot::Py(leader_class(py)?.call1((fixed,))?.unbind()),
        };
        let mut fresh = RecordState::blank(leader);
        fresh.force_utf8 = force_utf8;
        fresh.to_unicode = to_unicode;
        let old = {
            let mut me = slf.get().state_mut(py)?;
            // Whatever the object held goes (pymarc's __init__ starts afresh too), dropped
            // once the borrow is over.
            me.gc.touch();
            std::mem::replace(&mut *me, fresh)
        };
        drop(old);
        if let Some(f) = fields.filter(|f| f.is_truthy().unwrap_or(false)) {
            slf.get().state_mut(py)?.fields = Some(f.unbind());
        } else if let Some(d) = data.filter(|d| d.len().map(|n| n > 0).unwrap_or(false)) {
            let decode_marc = intern!(py, "decode_marc");
            if subclass::overrides(slf.as_any(), &py.get_type::<Record>(), decode_marc)? {
                // pymarc's __init__ decodes through the method, so a subclass's runs.
                let kwargs = PyDict::new(py);
                kwargs.set_item("to_unicode", to_unicode)?;
                kwargs.set_item("force_utf8", force_utf8)?;
                kwargs.set_item("hide_utf8_warnings", hide_utf8_warnings)?;
                kwargs.set_item("utf8_handling", utf8_handling)?;
                kwargs.set_item("encoding", file_encoding)?;
                slf.call_method(decode_marc, (d,), Some(&kwargs))?;
                return Ok(());
            }
            let settings = DecodeSettings {
                to_unicode,
                force_utf8,
                hide_utf8_warnings,
                utf8_handling,
                file_encoding,
            };
            let core = RecordState::parse_marc_arg(py, &d, &settings)?;
            Record::install_parsed_into(slf, core, &settings)?;
        } else if force_utf8 {
            slf.get().state_mut(py)?.mark_unicode(py)?;
        }
        Ok(())
    }

    #[pyo3(
        text_signature = "($self, marc, to_unicode=True, force_utf8=False, hide_utf8_warnings=False, utf8_handling='strict', encoding='iso8859-1')"
    )]
    #[pyo3(signature = (marc, to_unicode = true, force_utf8 = false, hide_utf8_warnings = false, utf8_handling = "strict".to_string(), encoding = "iso8859-1".to_string()))]
    #[allow(clippy::too_many_arguments)]
    fn decode_marc(
        slf: &Bound<'_, Self>,
        marc: &Bound<'_, PyAny>,
        to_unicode: bool,
        force_utf8: bool,
        hide_utf8_warnings: bool,
        utf8_handling: String,
        encoding: String,
    ) -> PyResult<()> {
        let py = slf.py();
        let settings = DecodeSettings {
            to_unicode,
            force_utf8: force_utf8 || slf.get().state(py)?.force_utf8,
            hide_utf8_warnings,
            utf8_handling,
            file_encoding: encoding,
        };
        let core = RecordState::parse_marc_arg(py, marc, &settings)?;
        Record::install_parsed_into(slf, core, &settings)
    }

    #[getter]
    fn get_pos(&self, py: Python<'_>) -> PyResult<isize> {
        Ok(self.state(py)?.pos)
    }

    #[setter]
    fn set_pos(&self, py: Python<'_>, value: isize) -> PyResult<()> {
        self.state_mut(py)?.pos = value;
        Ok(())
    }

    #[getter]
    fn get_force_utf8(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state(py)?.force_utf8)
    }

    #[setter]
    fn set_force_utf8(&self, py: Python<'_>, value: bool) -> PyResult<()> {
        self.state_mut(py)?.force_utf8 = value;
        Ok(())
    }

    #[getter]
    fn get_to_unicode(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state(py)?.to_unicode)
    }

    #[setter]
    fn set_to_unicode(&self, py: Python<'_>, value: bool) -> PyResult<()> {
        self.state_mut(py)?.to_unicode = value;
        Ok(())
    }

    #[getter(leader)]
    fn get_leader(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut guard = self.state_mut(py)?;
        let me = &mut *guard;
        if let LeaderSlot::Native(l) = &me.leader {
            me.gc.touch();
            let obj = leader_class(py)?.call1((l.as_str(),))?.unbind();
            me.leader = LeaderSlot::Py(obj);
        }
        match &me.leader {
            LeaderSlot::Py(o) => Ok(o.clone_ref(py)),
            LeaderSlot::Native(_) => unreachable!("replaced above"),
        }
    }

    #[setter(leader)]
    fn set_leader(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.gc.touch();
        let old = std::mem::replace(&mut me.leader, LeaderSlot::Py(value));
        drop(me);
        drop(old);
        Ok(())
    }

    #[getter(fields)]
    fn get_fields_attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut me = self.state_mut(py)?;
        me.fields_obj(py)
    }

    #[setter(fields)]
    fn set_fields_attr(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.gc.touch();
        // What the record held goes once the borrow is over.
        let old = (
            me.core.take(),
            std::mem::take(&mut me.handed),
            std::mem::take(&mut me.added),
            me.fields.replace(value),
        );
        drop(me);
        drop(old);
        Ok(())
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        let mut me = self.state_mut(py)?;
        let mut out = format!("=LDR  {}\n", me.leader_string(py)?);
        if let Some(core) = me.lazy(py) {
            for f in core.fields() {
                out.push_str(&f.to_string());
                out.push('\n');
            }
            return Ok(out);
        }
        let fields = me.fields_obj(py)?;
        for f in fields.try_iter()? {
            let f = f?;
            match f.cast::<Field>() {
                Ok(field) if f.get_type().is(py.get_type::<Field>()) => {
                    out.push_str(&field.get().state(py)?.text(py)?)
                }
                _ => out.push_str(f.str()?.to_str()?),
            }
            out.push('\n');
        }
        Ok(out)
    }

    #[pyo3(signature = (tag, default = None))]
    fn get(&self, py: Python<'_>, tag: &str, default: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        Ok(match me.first_field(py, tag)? {
            Some(f) => f.unbind(),
            None => default.unwrap_or_else(|| py.None()),
        })
    }

    fn __getitem__(&self, py: Python<'_>, tag: &str) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        me.first_field(py, tag)?
            .map(|f| f.unbind())
            .ok_or_else(|| PyKeyError::new_err(()))
    }

    fn __contains__(&self, py: Python<'_>, tag: &str) -> PyResult<bool> {
        let mut me = self.state_mut(py)?;
        if let Some(core) = me.lazy(py) {
            return Ok(core.position(tag).is_some());
        }
        Ok(me.first_field(py, tag)?.is_some())
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        slf.get().state_mut(slf.py())?.iter_pos = 0;
        Ok(slf.clone())
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        let fields = me.fields_obj(py)?;
        if me.iter_pos >= fields.len()? {
            return Err(PyStopIteration::new_err(()));
        }
        me.iter_pos += 1;
        Ok(fields.get_item(me.iter_pos - 1)?.unbind())
    }

    #[pyo3(signature = (*fields))]
    fn add_field(&self, py: Python<'_>, fields: &Bound<'_, PyTuple>) -> PyResult<()> {
        let mut guard = self.state_mut(py)?;
        let me = &mut *guard;
        if let (None, Some(core)) = (&me.fields, &me.core) {
            // At the end of the list to be: no field objects needed yet.
            me.gc.touch();
            let end = core.len() + me.added.len();
            let new = fields
                .iter()
                .enumerate()
                .map(|(k, f)| (end + k, f.unbind()));
            me.added.extend(new);
            return Ok(());
        }
        let list = me.fields_obj(py)?;
        list.call_method1(intern!(py, "extend"), (fields,))?;
        Ok(())
    }

    #[pyo3(signature = (*fields))]
    fn add_grouped_field(&self, py: Python<'_>, fields: &Bound<'_, PyTuple>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.add_sorted(py, fields, true)
    }

    #[pyo3(signature = (*fields))]
    fn add_ordered_field(&self, py: Python<'_>, fields: &Bound<'_, PyTuple>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.add_sorted(py, fields, false)
    }

    #[pyo3(signature = (*fields))]
    fn remove_field(&self, py: Python<'_>, fields: &Bound<'_, PyTuple>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        for (k, f) in fields.iter().enumerate() {
            match me.remove_added(py, &f) {
                Some(true) => continue,
                Some(false) => {
                    return Err(PyErr::from_value(
                        exception_class(py, "FieldNotFound")?.call0()?,
                    ))
                }
                None => {
                    let list = me.fields_obj(py)?;
                    for f in fields.iter().skip(k) {
                        if let Err(e) = list.call_method1(intern!(py, "remove"), (f,)) {
                            if e.is_instance_of::<PyValueError>(py) {
                                return Err(PyErr::from_value(
                                    exception_class(py, "FieldNotFound")?.call0()?,
                                ));
                            }
                            return Err(e);
                        }
                    }
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    #[pyo3(signature = (*tags))]
    fn remove_fields(&self, py: Python<'_>, tags: Vec<String>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        if tags.is_empty() {
            return Ok(());
        }
        let list = me.fields_obj(py)?;
        let keep = PyList::empty(py);
        for f in list.try_iter()? {
            let f = f?;
            let tag = field_tag(&f)?;
            if !tags.contains(&tag) {
                keep.append(f)?;
            }
        }
        let all = pyo3::types::PySlice::full(py);
        list.set_item(all, keep)?;
        Ok(())
    }

    #[pyo3(signature = (*args))]
    fn get_fields<'py>(&self, py: Python<'py>, args: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
        let mut me = self.state_mut(py)?;
        if args.is_empty() {
            return me.fields_obj(py);
        }
        let tags: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(me.fields_with_tags(py, &tags)?.into_any())
    }

    fn get_linked_fields<'py>(
        &self,
        py: Python<'py>,
        field: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        let num = field.call_method0(intern!(py, "linkage_occurrence_num"))?;
        let out = PyList::empty(py);
        for f in me.fields_with_tags(py, &["880"])?.iter() {
            let n = f.call_method0(intern!(py, "linkage_occurrence_num"))?;
            if n.eq(&num)? {
                out.append(f)?;
            }
        }
        if !num.is_none() && out.is_empty() {
            return Err(PyErr::from_value(
                exception_class(py, "MissingLinkedFields")?.call1((field,))?,
            ));
        }
        Ok(out)
    }

    fn as_marc<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyBytes>> {
        let py = slf.py();
        match Record::marc_source(slf)? {
            MarcSource::Core(core, leader) => core_as_marc(py, core, leader),
            MarcSource::Bytes(bytes) => Ok(PyBytes::new(py, &bytes)),
        }
    }

    fn as_marc21<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyBytes>> {
        Self::as_marc(slf)
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let mut me = self.state_mut(py)?;
        if let Some(core) = me.lazy(py) {
            let d = PyDict::new(py);
            d.set_item(intern!(py, "leader"), me.leader_string(py)?)?;
            d.set_item(intern!(py, "fields"), lazy_field_dicts(py, core)?)?;
            return Ok(untracked(d));
        }
        let d = PyDict::new(py);
        d.set_item(intern!(py, "leader"), me.leader_string(py)?)?;
        let out = PyList::empty(py);
        let fields = me.fields_obj(py)?;
        for f in fields.try_iter()? {
            let f = f?;
            let tag = f.getattr(intern!(py, "tag"))?;
            let entry = PyDict::new(py);
            if f.getattr(intern!(py, "control_field"))?.is_truthy()? {
                entry.set_item(tag, f.getattr(intern!(py, "data"))?)?;
            } else {
                let body = PyDict::new(py);
                body.set_item("ind1", f.getattr(intern!(py, "indicator1"))?)?;
                body.set_item("ind2", f.getattr(intern!(py, "indicator2"))?)?;
                let subs = PyList::empty(py);
                for s in f.getattr(intern!(py, "subfields"))?.try_iter()? {
                    let s = s?;
                    let one = PyDict::new(py);
                    one.set_item(
                        s.getattr(intern!(py, "code"))?,
                        s.getattr(intern!(py, "value"))?,
                    )?;
                    subs.append(one)?;
                }
                body.set_item("subfields", subs)?;
                entry.set_item(tag, body)?;
            }
            out.append(entry)?;
        }
        d.set_item("fields", out)?;
        Ok(d)
    }

    #[pyo3(signature = (**kwargs))]
    fn as_json(slf: &Bound<'_, Self>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        // Default layout: the core writes exactly json.dumps(as_dict()).
        let own_as_dict = slf.get_type().is(py.get_type::<Record>());
        if own_as_dict && kwargs.is_none_or(|k| k.is_empty()) {
            if let Some(text) = crate::formats::record_json(slf.as_any(), false)? {
                return Ok(text.into_any().unbind());
            }
        }
        let d = slf.call_method0(intern!(py, "as_dict"))?;
        Ok(py
            .import("json")?
            .call_method("dumps", (d,), kwargs)?
            .unbind())
    }

    /// pymarc's shallow copy: the copy shares the `fields` list (made now if the record
    /// had none yet) and the leader object; a subclass's copy is of that subclass, with its
    /// attributes.
    fn __copy__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        slf.get().state_mut(py)?.fields_obj(py)?;
        slf.get().get_leader(py)?;
        let copy = slf.get().state(py)?.copy_with(|o| Ok(o.clone_ref(py)))?;
        subclass::new_like::<Record>(slf.as_any(), copy, |d| d.call_method0("copy"))
    }

    fn __deepcopy__<'py>(
        slf: &Bound<'py, Self>,
        memo: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // The parsed core record is immutable, so copies share it.
        subclass::deep_copy(slf, memo, |me, part| me.copy_with(part))
    }

    /// Pickled as its parts, as pymarc's record is: the leader as it stands (not recomputed
    /// from the fields), the fields, `pos`, the flags, and a subclass's attributes.
    fn __getstate__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let mut me = slf.get().state_mut(py)?;
        let fields = me.fields_obj(py)?;
        let leader = match &me.leader {
            LeaderSlot::Native(l) => PyString::new(py, l.as_str()).into_any(),
            LeaderSlot::Py(o) => o.bind(py).clone(),
        };
        let state = (
            leader,
            fields,
            me.pos,
            me.force_utf8,
            me.to_unicode,
            subclass::instance_dict(slf.as_any()),
        );
        state.into_pyobject(py)
    }

    fn __setstate__(slf: &Bound<'_, Self>, state: &Bound<'_, PyTuple>) -> PyResult<()> {
        let py = slf.py();
        let (leader, fields, pos, force_utf8, to_unicode, dict): (
            Bound<'_, PyAny>,
            Py<PyAny>,
            isize,
            bool,
            bool,
            Bound<'_, PyAny>,
        ) = state.extract()?;
        let leader = match leader.cast::<PyString>() {
            Ok(text) => match CoreLeader::from_bytes(text.to_str()?.as_bytes()) {
                Ok(l) => LeaderSlot::Native(l),
                Err(_) => LeaderSlot::Py(leader.unbind()),
            },
            Err(_) => LeaderSlot::Py(leader.unbind()),
        };
        let mut fresh = RecordState::blank(leader);
        fresh.fields = Some(fields);
        fresh.pos = pos;
        fresh.force_utf8 = force_utf8;
        fresh.to_unicode = to_unicode;
        // The old state goes once the borrow is over.
        let old = slf.get().cell().replace(py, fresh)?;
        drop(old);
        subclass::restore_dict(slf.as_any(), &dict)
    }

    #[getter]
    fn title(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        Ok(me.joined_a_b(py, "245")?.unwrap_or_else(|| py.None()))
    }

    #[getter]
    fn issn_title(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        Ok(me.joined_a_b(py, "222")?.unwrap_or_else(|| py.None()))
    }

    #[getter]
    fn isbn(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let mut me = self.state_mut(py)?;
        if let Some(core) = me.lazy(py) {
            return Ok(core.isbn());
        }
        let Some(f) = me.first_field(py, "020")? else {
            return Ok(None);
        };
        match RecordState::field_get(&f, "a")? {
            Some(a) if a.is_truthy()? => match a.cast::<PyString>() {
                Ok(s) => Ok(fastmarc::internal::extract_isbn(s.to_str()?)),
                Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(
                    "cannot use a string pattern on a bytes-like object",
                )),
            },
            _ => Ok(None),
        }
    }

    #[getter]
    fn issn(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        me.subfield_of_first(py, "022", "a")
    }

    #[getter]
    fn issnl(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        me.subfield_of_first(py, "022", "l")
    }

    #[getter]
    fn sudoc(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let mut me = self.state_mut(py)?;
        me.formatted_first(py, &["086"])
    }

    #[getter]
    fn author(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let mut me = self.state_mut(py)?;
        me.formatted_first(py, &["100", "110", "111"])
    }

    #[getter]
    fn uniformtitle(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let mut me = self.state_mut(py)?;
        me.formatted_first(py, &["130", "240"])
    }

    #[getter]
    fn series<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        me.fields_with_tags(py, &["440", "490", "800", "810", "811", "830"])
    }

    #[getter]
    fn subjects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        me.fields_with_tags(
            py,
            &[
                "600", "610", "611", "630", "648", "650", "651", "653", "654", "655", "656", "657",
                "658", "662", "690", "691", "696", "697", "698", "699",
            ],
        )
    }

    #[getter]
    fn addedentries<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        me.fields_with_tags(
            py,
            &[
                "700", "710", "711", "720", "730", "740", "752", "753", "754", "790", "791", "792",
                "793", "796", "797", "798", "799",
            ],
        )
    }

    #[getter]
    fn location<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        me.fields_with_tags(py, &["852"])
    }

    #[getter]
    fn notes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        me.fields_with_tags(
            py,
            &[
                "500", "501", "502", "504", "505", "506", "507", "508", "510", "511", "513", "514",
                "515", "516", "518", "520", "521", "522", "524", "525", "526", "530", "533", "534",
                "535", "536", "538", "540", "541", "544", "545", "546", "547", "550", "552", "555",
                "556", "561", "562", "563", "565", "567", "580", "581", "583", "584", "585", "586",
                "590", "591", "592", "593", "594", "595", "596", "597", "598", "599",
            ],
        )
    }

    #[getter]
    fn physicaldescription<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut me = self.state_mut(py)?;
        me.fields_with_tags(py, &["300"])
    }

    #[getter]
    fn publisher(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        if let Some(core) = me.lazy(py) {
            return Ok(lazy_publisher(py, core, 'b'));
        }
        me.publisher_part(py, "b")
    }

    #[getter]
    fn pubyear(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut me = self.state_mut(py)?;
        if let Some(core) = me.lazy(py) {
            return Ok(lazy_publisher(py, core, 'c'));
        }
        me.publisher_part(py, "c")
    }
}

/// pymarc's `as_dict()["fields"]` straight from the core record.
fn lazy_field_dicts<'py>(py: Python<'py>, core: &CoreRecord) -> PyResult<Bound<'py, PyList>> {
    let mut buf = [0u8; 4];
    let mut entries = Vec::with_capacity(core.len());
    for f in core.fields() {
        let entry = PyDict::new(py);
        let tag = crate::pyobjects::tag_string(py, f.tag().as_str());
        if let Some(data) = f.data() {
            entry.set_item(tag, crate::pystr::new(py, data))?;
        } else {
            let [i1, i2] = f.indicators();
            let body = PyDict::new(py);
            body.set_item(intern!(py, "ind1"), i1.encode_utf8(&mut buf) as &str)?;
            body.set_item(intern!(py, "ind2"), i2.encode_utf8(&mut buf) as &str)?;
            let subs = f
                .subfields()
                .map(|s| {
                    let one = PyDict::new(py);
                    one.set_item(
                        s.code.encode_utf8(&mut [0u8; 4]) as &str,
                        crate::pystr::new(py, s.value),
                    )?;
                    Ok(one)
                })
                .collect::<PyResult<Vec<_>>>()?;
            body.set_item(intern!(py, "subfields"), untracked(PyList::new(py, subs)?))?;
            entry.set_item(tag, untracked(body))?;
        }
        entries.push(untracked(entry));
    }
    Ok(untracked(PyList::new(py, entries)?))
}

/// A field's place in pymarc's ordering: its tag's number, or with `grouped` its first
/// digit; `None` for a tag that is not all digits.
fn sort_key(tag: &str, grouped: bool) -> Option<u64> {
    if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if grouped {
        tag[..1].parse().ok()
    } else {
        tag.parse().ok()
    }
}

/// [`sort_key`] of any field object; our own fields' tags are read without copying them.
fn sort_key_of(f: &Bound<'_, PyAny>, grouped: bool) -> PyResult<Option<u64>> {
    match f.cast::<Field>() {
        Ok(field) => Ok(sort_key(&field.get().state(f.py())?.tag, grouped)),
        Err(_) => Ok(sort_key(&field_tag(f)?, grouped)),
    }
}

fn lazy_publisher(py: Python<'_>, core: &CoreRecord, code: char) -> Py<PyAny> {
    for f in core.fields() {
        let tag = f.tag();
        if tag.as_str() == "260" || (tag.as_str() == "264" && f.indicator2() == '1') {
            return match f.subfield(code) {
                Some(v) => crate::pystr::new(py, v).into_any().unbind(),
                None => py.None(),
            };
        }
    }
    py.None()
}

impl RecordState {
    /// Parse `marc` (bytes, or a str of byte values) as `decode_marc` does; needs no
    /// record, so no record is borrowed while the parse runs with the GIL released.
    fn parse_marc_arg(
        py: Python<'_>,
        marc: &Bound<'_, PyAny>,
        settings: &DecodeSettings,
    ) -> PyResult<CoreRecord> {
        let bytes: Vec<u8> = if let Ok(b) = marc.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(s) = marc.cast::<PyString>() {
            s.to_str()?.as_bytes().to_vec()
        } else {
            marc.extract()?
        };
        parse_pymarc(py, &bytes, settings)
    }

    /// Take a parsed record's leader and fields, as `decode_marc` does: the fields are
    /// added after any the record already has.
    fn install_parsed(
        &mut self,
        py: Python<'_>,
        core: CoreRecord,
        settings: &DecodeSettings,
    ) -> PyResult<()> {
        self.gc.touch();
        let mut wrapped = RecordState::from_core(py, Arc::new(core), None, settings)?;
        self.leader = std::mem::replace(&mut wrapped.leader, LeaderSlot::Py(py.None()));
        let had_fields = match &self.fields {
            Some(f) => f.bind(py).is_truthy()?,
            None => self.core.as_ref().is_some_and(|c| !c.is_empty()) || !self.added.is_empty(),
        };
        if had_fields {
            let mine = self.fields_obj(py)?;
            let mut tmp = RecordState::blank(LeaderSlot::Py(py.None()));
            tmp.core = wrapped.core.take();
            tmp.fields = wrapped.fields.take();
            let theirs = tmp.fields_obj(py)?;
            mine.call_method1(intern!(py, "extend"), (theirs,))?;
        } else {
            self.core = wrapped.core.take();
            self.handed.clear();
            self.added.clear();
            self.fields = wrapped.fields.take();
        }
        Ok(())
    }

    /// A record with `leader` and nothing else (pymarc's defaults for the rest).
    fn blank(leader: LeaderSlot) -> RecordState {
        RecordState {
            core: None,
            fields: None,
            leader,
            pos: 0,
            force_utf8: false,
            to_unicode: true,
            iter_pos: 0,
            gc: Untracked::default(),
            handed: Vec::new(),
            added: Vec::new(),
        }
    }

    fn copy_with(&self, copy: impl Fn(&Py<PyAny>) -> PyResult<Py<PyAny>>) -> PyResult<RecordState> {
        // Field objects already made go with the copy (shared or copied, as the list would
        // be): they may have been changed, and the core record alone no longer says so.
        let handed = if self.handed.is_empty() {
            Vec::new()
        } else {
            Python::attach(|py| {
                self.handed
                    .iter()
                    .map(|(i, f)| {
                        let copied = copy(&f.clone_ref(py).into_any())?;
                        Ok((*i, copied.bind(py).cast::<Field>()?.clone().unbind()))
                    })
                    .collect::<PyResult<Vec<_>>>()
            })?
        };
        let added = Python::attach(|py| {
            self.added
                .iter()
                .map(|(at, f)| Ok((*at, copy(&f.clone_ref(py))?)))
                .collect::<PyResult<Vec<_>>>()
        })?;
        Ok(RecordState {
            added,
            core: Python::attach(|py| self.core.as_ref().map(|c| c.share(py))),
            fields: self.fields.as_ref().map(&copy).transpose()?,
            leader: match &self.leader {
                LeaderSlot::Native(l) => LeaderSlot::Native(*l),
                LeaderSlot::Py(o) => LeaderSlot::Py(copy(o)?),
            },
            pos: self.pos,
            force_utf8: self.force_utf8,
            to_unicode: self.to_unicode,
            iter_pos: 0,
            gc: Untracked::default(),
            handed,
        })
    }

    fn subfield_of_first(&mut self, py: Python<'_>, tag: &str, code: &str) -> PyResult<Py<PyAny>> {
        let Some(f) = self.first_field(py, tag)? else {
            return Ok(py.None());
        };
        if f.contains(code)? {
            return Ok(f.get_item(code)?.unbind());
        }
        Ok(py.None())
    }

    /// Add `f` where pymarc's ordering puts it (see `add_sorted`) to a record whose list is
    /// not made yet: the keys of the record's own fields come from the core record (or
    /// from their objects, whose tags may have been changed).
    fn add_sorted_to_core(
        &mut self,
        py: Python<'_>,
        core: &CoreRecord,
        f: Bound<'_, PyAny>,
        grouped: bool,
    ) -> PyResult<()> {
        self.gc.touch();
        let len = core.len() + self.added.len();
        let mut place = len;
        if let Some(n) = sort_key_of(&f, grouped)?.filter(|_| len > 0) {
            let (mut next_core, mut next_added, mut handed) = (0, 0, 0);
            for pos in 0..len {
                let key = match self.added.get(next_added) {
                    Some((at, o)) if *at == pos => {
                        next_added += 1;
                        sort_key_of(o.bind(py), grouped)?
                    }
                    _ => {
                        let i = next_core;
                        next_core += 1;
                        while self.handed.get(handed).is_some_and(|(j, _)| *j < i) {
                            handed += 1;
                        }
                        match self.handed.get(handed) {
                            Some((j, h)) if *j == i => sort_key(&h.get().state(py)?.tag, grouped),
                            _ => core
                                .field(i)
                                .and_then(|c| sort_key(c.tag().as_str(), grouped)),
                        }
                    }
                };
                if key.is_none_or(|k| k > n) {
                    place = pos;
                    break;
                }
            }
        }
        let k = self.added.partition_point(|(at, _)| *at < place);
        for (at, _) in &mut self.added[k..] {
            *at += 1;
        }
        self.added.insert(k, (place, f.unbind()));
        Ok(())
    }

    /// `remove_field` of `f` without making the field list: `Some(true)` when `f` was one
    /// of the fields added before the list was made (it is taken out), `Some(false)` when
    /// nothing in the list can be `f`. `None` when only the list can tell: the list exists,
    /// `f` is one of the record's own field objects, or an object whose equality is not
    /// identity (`list.remove` compares with `==`) is involved.
    fn remove_added(&mut self, py: Python<'_>, f: &Bound<'_, PyAny>) -> Option<bool> {
        let field_type = py.get_type::<Field>();
        let plain = |o: &Bound<'_, PyAny>| o.get_type().is(&field_type);
        if self.fields.is_some()
            || !plain(f)
            || !self.added.iter().all(|(_, o)| plain(o.bind(py)))
            || self.handed.iter().any(|(_, h)| h.bind(py).is(f))
        {
            return None;
        }
        let Some(k) = self.added.iter().position(|(_, o)| o.bind(py).is(f)) else {
            return Some(false);
        };
        self.added.remove(k);
        for (at, _) in &mut self.added[k..] {
            *at -= 1;
        }
        Some(true)
    }

    /// pymarc's `add_grouped_field` (by hundreds) and `add_ordered_field` (by tag number).
    fn add_sorted(
        &mut self,
        py: Python<'_>,
        fields: &Bound<'_, PyTuple>,
        grouped: bool,
    ) -> PyResult<()> {
        if self.fields.is_none() {
            if let Some(core) = self.core.as_ref().map(|c| c.share(py)) {
                for f in fields.iter() {
                    self.add_sorted_to_core(py, &core, f, grouped)?;
                }
                return Ok(());
            }
        }
        let list = self.fields_obj(py)?;
        let key_of = |f: &Bound<'_, PyAny>| sort_key_of(f, grouped);
        for f in fields.iter() {
            let n = match key_of(&f)? {
                Some(n) if list.is_truthy()? => n,
                _ => {
                    list.call_method1(intern!(py, "append"), (&f,))?;
                    continue;
                }
            };
            let len = list.len()?;
            for i in 0..len {
                let other = list.get_item(i)?;
                let other_key = key_of(&other)?;
                match other_key {
                    None => {
                        list.call_method1(intern!(py, "insert"), (i, &f))?;
                        break;
                    }
                    Some(k) if k > n => {
                        list.call_method1(intern!(py, "insert"), (i, &f))?;
                        break;
                    }
                    _ => {}
                }
                if i + 1 == len {
                    list.call_method1(intern!(py, "append"), (&f,))?;
                    break;
                }
            }
        }
        Ok(())
    }
}

impl Record {
    /// `decode_marc`'s last step: the parsed leader and fields go into the record. A
    /// subclass that overrides `add_field` gets each field through it, as pymarc's
    /// `decode_marc` calls it.
    fn install_parsed_into(
        slf: &Bound<'_, Self>,
        core: CoreRecord,
        settings: &DecodeSettings,
    ) -> PyResult<()> {
        let py = slf.py();
        let add_field = intern!(py, "add_field");
        if !subclass::overrides(slf.as_any(), &py.get_type::<Record>(), add_field)? {
            return slf.get().state_mut(py)?.install_parsed(py, core, settings);
        }
        let mut wrapped = RecordState::from_core(py, Arc::new(core), None, settings)?;
        let leader = std::mem::replace(&mut wrapped.leader, LeaderSlot::Py(py.None()));
        {
            let mut me = slf.get().state_mut(py)?;
            me.gc.touch();
            me.leader = leader;
        }
        for field in wrapped.fields_obj(py)?.try_iter()? {
            slf.call_method1(add_field, (field?,))?;
        }
        Ok(())
    }
}
