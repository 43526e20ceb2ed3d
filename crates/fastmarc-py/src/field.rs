//! `fastmarc.Field`: pymarc's Field, backed lazily by the parsed core record.
//!
//! A field read from a file keeps pointing into the parsed record (`Subs::Lazy`) until
//! someone asks for its `subfields` list or changes it; `value()`, `get()`, `format_field()`,
//! `str()` and `as_marc()` are answered from the core record without making Python objects.
//! Once materialised, the Python list is the truth, exactly as in pymarc.

use crate::formats::one_char;
use crate::gil_cell::{CellClass, GilCell, Ref, RefMut};
use crate::pyobjects::{char_string, indicators_class, string_pair, subfield_class};
use crate::shared_core::SharedCore;
use crate::subclass;
use crate::untracked::{untracked, Untracked};
use pyo3::exceptions::{PyAttributeError, PyIndexError, PyKeyError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// Where a field's subfields live.
pub enum Subs {
    /// Still in the parsed record (field number given); no Python objects yet.
    Lazy(SharedCore, usize),
    /// A Python object set by the user or materialised: normally a list of Subfield.
    Py(Py<PyAny>),
}

/// A field's indicators.
pub enum Inds {
    /// Control fields have none (pymarc: `indicators is None`).
    None,
    /// From the parsed record, not yet asked for as an `Indicators` tuple.
    Native([char; 2]),
    /// Whatever was set: normally an `Indicators`.
    Py(Py<PyAny>),
}

thread_local! {
    static VALUE_BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// A field's tag: the parsed tag (no allocation) or whatever string was set.
#[derive(Clone)]
pub enum FieldTag {
    Core(fastmarc::Tag),
    Owned(String),
}

impl std::ops::Deref for FieldTag {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            FieldTag::Core(t) => t.as_str(),
            FieldTag::Owned(s) => s,
        }
    }
}

impl std::fmt::Display for FieldTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// `frozen`, so PyO3 keeps no atomic borrow flag: the state is borrow-checked by our
/// [`GilCell`] instead (see `crate::gil_cell`).
#[pyclass(frozen, subclass, module = "fastmarc.field", name = "Field")]
pub struct Field {
    state: GilCell<FieldState>,
}

impl CellClass for Field {
    type State = FieldState;
    fn cell(&self) -> &GilCell<FieldState> {
        &self.state
    }
    fn from_state(state: FieldState) -> Field {
        Field {
            state: GilCell::new(state),
        }
    }
}

/// What a `Field` object holds.
pub struct FieldState {
    pub tag: FieldTag,
    pub data: Py<PyAny>,
    pub inds: Inds,
    pub subs: Subs,
    pub control_field: bool,
    pos: usize,
    /// For an object made from a parsed record, kept out of the cycle collector: whether
    /// it is still as parsed (see `crate::untracked`).
    pub gc: Untracked,
    /// Made whole by `__new__`: the `__init__` call that follows has nothing to do.
    made_by_new: bool,
}

impl crate::freelist::Pooled for Field {
    fn free_list() -> &'static crate::freelist::FreeList {
        static LIST: crate::freelist::FreeList = crate::freelist::FreeList::new(256);
        &LIST
    }
}

fn is_py_digit_str(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// pymarc's rule: control fields are all-digit tags below "010".
pub fn is_control_tag(tag: &str) -> bool {
    // `tag < "010"` for a string of digits, spelt out: str comparison calls memcmp, which
    // was a visible share of making field objects.
    is_py_digit_str(tag) && matches!(tag.as_bytes(), [b'0'] | [b'0', b'1'] | [b'0', b'0', ..])
}

/// A subfield's code and value as Python objects (tuple fast path, else attributes).
fn code_value<'py>(item: &Bound<'py, PyAny>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if let Ok(t) = item.cast::<PyTuple>() {
        if t.len() == 2 {
            return Ok((t.get_item(0)?, t.get_item(1)?));
        }
    }
    let py = item.py();
    Ok((
        item.getattr(intern!(py, "code"))?,
        item.getattr(intern!(py, "value"))?,
    ))
}

fn str_eq(obj: &Bound<'_, PyAny>, s: &str) -> PyResult<bool> {
    match obj.cast::<PyString>() {
        Ok(p) => Ok(p.to_str()? == s),
        Err(_) => obj.eq(s),
    }
}

pub fn make_indicators<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    b: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    indicators_class(py)?.call1((a, b))
}

impl Field {
    /// A shared borrow of the state.
    #[inline]
    pub fn state<'a>(&'a self, py: Python<'a>) -> PyResult<Ref<'a, FieldState>> {
        self.state.borrow(py)
    }

    /// The mutable borrow of the state.
    #[inline]
    pub fn state_mut<'a>(&'a self, py: Python<'a>) -> PyResult<RefMut<'a, FieldState>> {
        self.state.borrow_mut(py)
    }

    /// A lazy field as a Python object, kept out of the cycle collector (see
    /// `crate::untracked`).
    pub fn new_lazy_object<'py>(
        py: Python<'py>,
        rec: &SharedCore,
        index: usize,
    ) -> PyResult<Bound<'py, Field>> {
        let obj = Bound::new(py, Field::from_state(FieldState::lazy(py, rec, index)))?;
        let gc = Untracked::untrack(obj.as_any());
        obj.get().state.borrow_mut(py)?.gc = gc;
        Ok(obj)
    }
}

impl FieldState {
    /// A field backed by field `index` of a parsed record.
    pub fn lazy(py: Python<'_>, rec: &SharedCore, index: usize) -> FieldState {
        let f = rec
            .field(index)
            .expect("field index from the record itself");
        let tag = FieldTag::Core(f.tag());
        match f.data() {
            Some(d) => FieldState {
                tag,
                data: crate::pystr::new(py, d).into_any().unbind(),
                inds: Inds::None,
                // A control field's subfields: an empty list, made when asked for.
                subs: Subs::Lazy(rec.share(py), index),
                control_field: true,
                pos: 0,
                gc: Untracked::default(),
                made_by_new: false,
            },
            None => FieldState {
                control_field: is_control_tag(&tag),
                tag,
                data: py.None(),
                inds: Inds::Native(f.indicators()),
                subs: Subs::Lazy(rec.share(py), index),
                pos: 0,
                gc: Untracked::default(),
                made_by_new: false,
            },
        }
    }

    /// As made from the parsed record, nothing set or materialised since: what the record
    /// says about this field is still true. (Every change touches the marker.)
    pub fn pristine(&self) -> bool {
        self.gc.is_pristine()
    }

    /// The subfields as a Python object, materialising them from the core record once.
    pub fn subfields_obj<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Subs::Lazy(rec, i) = &self.subs {
            let f = rec.field(*i).expect("field index from the record itself");
            let cls = subfield_class(py)?;
            let list = PyList::empty(py);
            for s in f.subfields() {
                let code = char_string(py, s.code);
                list.append(string_pair(cls, code, crate::pystr::new(py, s.value))?)?;
            }
            self.gc.touch();
            // Only subfields, pairs of strings: like the record's list of fields, the list
            // is kept out of the cycle collector, which would otherwise walk every field's
            // list at every full collection (a container put in it later only misses being
            // collected as part of a cycle).
            self.subs = Subs::Py(untracked(list).into_any().unbind());
        }
        match &self.subs {
            Subs::Py(o) => Ok(o.bind(py).clone()),
            Subs::Lazy(..) => unreachable!("materialised above"),
        }
    }

    fn lazy_field(&self) -> Option<fastmarc::FieldRef<'_>> {
        match &self.subs {
            Subs::Lazy(rec, i) => rec.field(*i),
            Subs::Py(_) => None,
        }
    }

    fn indicator(&self, py: Python<'_>, which: usize) -> PyResult<Py<PyAny>> {
        match &self.inds {
            Inds::None => Ok(PyString::new(py, "").into_any().unbind()),
            Inds::Native(i) => Ok(char_string(py, i[which]).into_any().unbind()),
            Inds::Py(o) => {
                let o = o.bind(py);
                if !o.is_truthy()? {
                    return Ok(PyString::new(py, "").into_any().unbind());
                }
                Ok(o.get_item(which)?.unbind())
            }
        }
    }

    fn indicators_obj(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match &self.inds {
            Inds::None => Ok(py.None()),
            Inds::Native(i) => {
                let (a, b) = (char_string(py, i[0]), char_string(py, i[1]));
                let obj = string_pair(indicators_class(py)?, a, b)?.unbind();
                self.gc.touch();
                self.inds = Inds::Py(obj.clone_ref(py));
                Ok(obj)
            }
            Inds::Py(o) => Ok(o.clone_ref(py)),
        }
    }

    fn set_indicator(
        &mut self,
        py: Python<'_>,
        which: usize,
        value: Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if self.control_field {
            self.inds = Inds::None;
        }
        let current = self.indicators_obj(py)?;
        let current = current.bind(py);
        if current.is_none() {
            return Err(PyAttributeError::new_err(
                "'NoneType' object has no attribute '_replace'",
            ));
        }
        let kw = pyo3::types::PyDict::new(py);
        kw.set_item(if which == 0 { "first" } else { "second" }, value)?;
        let replaced = current.call_method(intern!(py, "_replace"), (), Some(&kw))?;
        self.gc.touch();
        self.inds = Inds::Py(replaced.unbind());
        Ok(())
    }

    /// The `indicators` setter: an `Indicators`, or a pair made into one (None: no change).
    fn set_indicators(&mut self, py: Python<'_>, value: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let Some(value) = value.filter(|v| !v.is_none()) else {
            return Ok(());
        };
        let is_seq = value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>();
        if value.is_truthy()? && is_seq && value.len()? != 2 {
            return Err(PyValueError::new_err(ARBITRARY_INDICATORS));
        }
        self.gc.touch();
        let cls = indicators_class(py)?;
        if value.is_instance(cls)? {
            self.inds = Inds::Py(value.unbind());
        } else {
            let items: Vec<Bound<'_, PyAny>> = value.try_iter()?.collect::<PyResult<_>>()?;
            let made = cls.call1(PyTuple::new(py, items)?)?;
            self.inds = Inds::Py(made.unbind());
        }
        Ok(())
    }

    /// Write the MARC text form (pymarc's `str(field)`).
    pub fn text(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = format!("={}  ", self.tag);
        if self.control_field {
            let d = self.data.bind(py);
            if let Ok(s) = d.cast::<PyString>() {
                out.push_str(&s.to_str()?.replace(' ', "\\"));
            } else if d.is_truthy()? {
                // Whatever Python does with a non-str (bytes raise TypeError, as in pymarc).
                let replaced = d.call_method1(intern!(py, "replace"), (" ", "\\"))?;
                out.push_str(replaced.str()?.to_str()?);
            }
            return Ok(out);
        }
        for w in 0..2 {
            let ind = self.indicator(py, w)?;
            let ind = ind.bind(py).str()?;
            let ind = ind.to_str()?;
            out.push_str(if ind == " " || ind == "\\" { "\\" } else { ind });
        }
        if let Some(f) = self.lazy_field() {
            for s in f.subfields() {
                out.push('$');
                out.push(s.code);
                out.push_str(s.value);
            }
        } else if let Subs::Py(list) = &self.subs {
            for item in list.bind(py).try_iter()? {
                let (c, v) = code_value(&item?)?;
                out.push('$');
                out.push_str(c.str()?.to_str()?);
                out.push_str(v.str()?.to_str()?);
            }
        }
        Ok(out)
    }

    /// The value of the first subfield with `code`, if any (control fields have none).
    fn first_value(&self, py: Python<'_>, code: &str) -> PyResult<Option<Py<PyAny>>> {
        if self.control_field {
            return Ok(None);
        }
        if let Some(f) = self.lazy_field() {
            let mut chars = code.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Ok(None);
            };
            return Ok(f
                .subfield(c)
                .map(|v| crate::pystr::new(py, v).into_any().unbind()));
        }
        if let Subs::Py(list) = &self.subs {
            for item in list.bind(py).try_iter()? {
                let (c, v) = code_value(&item?)?;
                if str_eq(&c, code)? {
                    return Ok(Some(v.unbind()));
                }
            }
        }
        Ok(None)
    }

    /// pymarc's `value()` as a Rust string (str values only).
    pub fn value_string(&self, py: Python<'_>) -> PyResult<Option<String>> {
        if self.control_field {
            return Ok(None);
        }
        if let Some(f) = self.lazy_field() {
            return Ok(Some(f.value()));
        }
        let mut out = String::new();
        if let Subs::Py(list) = &self.subs {
            for (i, item) in list.bind(py).try_iter()?.enumerate() {
                let (_, v) = code_value(&item?)?;
                if i > 0 {
                    out.push(' ');
                }
                match v.cast::<PyString>() {
                    Ok(s) => out.push_str(fastmarc::internal::py_strip(s.to_str()?)),
                    Err(_) => {
                        let stripped = v.call_method0(intern!(py, "strip"))?;
                        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                            "sequence item {i}: expected str instance, {} found",
                            stripped.get_type().name()?
                        )));
                    }
                }
            }
        }
        Ok(Some(out))
    }

    /// pymarc's `format_field()` as a Rust string.
    pub fn format_string(&self, py: Python<'_>) -> PyResult<String> {
        if self.control_field {
            let d = self.data.bind(py);
            return if d.is_truthy()? {
                Ok(d.str()?.to_str()?.to_string())
            } else {
                Ok(String::new())
            };
        }
        if let Some(f) = self.lazy_field() {
            if f.tag().as_str() == &*self.tag {
                return Ok(f.format_field());
            }
        }
        let subject = self.tag.starts_with('6');
        let mut out = String::new();
        let mut push = |code: &str, value: &str| {
            if code == "6" {
                return;
            }
            if subject && matches!(code, "v" | "x" | "y" | "z") {
                out.push_str(" -- ");
            } else {
                out.push(' ');
            }
            out.push_str(value);
        };
        if let Some(f) = self.lazy_field() {
            let mut buf = [0u8; 4];
            for s in f.subfields() {
                push(s.code.encode_utf8(&mut buf), s.value);
            }
        } else if let Subs::Py(list) = &self.subs {
            for item in list.bind(py).try_iter()? {
                let (c, v) = code_value(&item?)?;
                push(c.str()?.to_str()?, v.str()?.to_str()?);
            }
        }
        Ok(fastmarc::internal::py_strip(&out).to_string())
    }

    /// The field's bytes in ISO 2709 (without directory), UTF-8 text.
    pub fn marc_utf8(&self, py: Python<'_>, out: &mut Vec<u8>) -> PyResult<()> {
        if self.control_field {
            out.extend_from_slice(self.data.bind(py).str()?.to_str()?.as_bytes());
            out.push(0x1e);
            return Ok(());
        }
        for w in 0..2 {
            let ind = self.indicator(py, w)?;
            out.extend_from_slice(ind.bind(py).str()?.to_str()?.as_bytes());
        }
        if let Some(f) = self.lazy_field() {
            let mut buf = [0u8; 4];
            for s in f.subfields() {
                out.push(0x1f);
                out.extend_from_slice(s.code.encode_utf8(&mut buf).as_bytes());
                out.extend_from_slice(s.value.as_bytes());
            }
        } else if let Subs::Py(list) = &self.subs {
            for item in list.bind(py).try_iter()? {
                let (c, v) = code_value(&item?)?;
                out.push(0x1f);
                out.extend_from_slice(c.str()?.to_str()?.as_bytes());
                out.extend_from_slice(v.str()?.to_str()?.as_bytes());
            }
        }
        out.push(0x1e);
        Ok(())
    }

    /// pymarc's string form before encoding: data + terminator, or indicators, subfields and
    /// terminator.
    fn marc_text(&self, py: Python<'_>) -> PyResult<String> {
        let mut v = Vec::new();
        self.marc_utf8(py, &mut v)?;
        String::from_utf8(v).map_err(|e| PyValueError::new_err(e.to_string()))
    }
}

/// pymarc's `ValueError` texts, word for word (programs match them).
const LEGACY_SUBFIELDS: &str =
    "The subfield input no longer accepts strings, and should use Subfield.
                   Please consult the documentation for details.
                ";
const ARBITRARY_INDICATORS: &str =
    "The indicators input no longer accepts an iterable of arbitrary length. Use
                   the Indicators() named tuple instead. Please consult the documentation
                   for details.
                ";

fn is_utf8_name(encoding: &str) -> bool {
    matches!(
        encoding.to_ascii_lowercase().replace('_', "-").as_str(),
        "utf-8" | "utf8" | "u8"
    )
}

#[pymethods]
impl Field {
    #[classmethod]
    #[pyo3(signature = (**kwargs))]
    fn __init_subclass__(
        cls: &Bound<'_, pyo3::types::PyType>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<()> {
        subclass::adapt(cls, &cls.py().get_type::<Field>(), kwargs)
    }

    /// `Field(...)` is made whole here, once. A subclass's object (and one made with no
    /// arguments, as pickle and copy make them) is made blank instead: a subclass's own
    /// `__init__` decides what its arguments mean and fills it through `Field.__init__`.
    #[new]
    #[classmethod]
    #[pyo3(signature = (*args, **kwargs))]
    fn new(
        cls: &Bound<'_, pyo3::types::PyType>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<Self> {
        let py = cls.py();
        let no_arguments = args.is_empty() && kwargs.is_none_or(|k| k.is_empty());
        if no_arguments || !cls.is(py.get_type::<Field>()) {
            let mut unset = FieldState::blank(py, String::new());
            unset.subs = Subs::Py(py.None());
            return Ok(Field::from_state(unset));
        }
        let mut field = FieldState::from_arguments(py, args, kwargs)?;
        field.made_by_new = true;
        Ok(Field::from_state(field))
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __init__(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<()> {
        if std::mem::take(&mut self.state_mut(py)?.made_by_new) {
            // The call that follows `Field(...)`: __new__ did the work.
            return Ok(());
        }
        // A subclass's (or a repeated) __init__.
        let field = FieldState::from_arguments(py, args, kwargs)?;
        let mut me = self.state_mut(py)?;
        // Whatever the object held goes (pymarc's __init__ starts afresh too), dropped once
        // the borrow is over.
        me.gc.touch();
        let old = std::mem::replace(&mut *me, field);
        drop(me);
        drop(old);
        Ok(())
    }

    #[getter]
    fn get_tag<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        Ok(crate::pyobjects::tag_string(py, &self.state(py)?.tag))
    }

    #[setter]
    fn set_tag(&self, py: Python<'_>, value: String) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.gc.touch();
        me.tag = FieldTag::Owned(value);
        Ok(())
    }

    #[getter]
    fn get_data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.state(py)?.data.clone_ref(py))
    }

    #[setter]
    fn set_data(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.gc.touch();
        let old = std::mem::replace(&mut me.data, value);
        drop(me);
        drop(old);
        Ok(())
    }

    #[getter(control_field)]
    fn get_control_field(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state(py)?.control_field)
    }

    #[setter(control_field)]
    fn set_control_field(&self, py: Python<'_>, value: bool) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.gc.touch();
        me.control_field = value;
        Ok(())
    }

    #[getter(indicators)]
    fn get_indicators(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.state_mut(py)?.indicators_obj(py)
    }

    #[setter(indicators)]
    fn set_indicators(&self, py: Python<'_>, value: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        self.state_mut(py)?.set_indicators(py, value)
    }

    #[getter]
    fn get_indicator1(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.state(py)?.indicator(py, 0)
    }

    #[setter]
    fn set_indicator1(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        self.state_mut(py)?.set_indicator(py, 0, value)
    }

    #[getter]
    fn get_indicator2(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.state(py)?.indicator(py, 1)
    }

    #[setter]
    fn set_indicator2(&self, py: Python<'_>, value: Bound<'_, PyAny>) -> PyResult<()> {
        self.state_mut(py)?.set_indicator(py, 1, value)
    }

    #[getter(subfields)]
    fn get_subfields_attr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.state_mut(py)?.subfields_obj(py)
    }

    #[setter(subfields)]
    fn set_subfields_attr(&self, py: Python<'_>, value: Py<PyAny>) -> PyResult<()> {
        let mut me = self.state_mut(py)?;
        me.gc.touch();
        let old = std::mem::replace(&mut me.subs, Subs::Py(value));
        drop(me);
        drop(old);
        Ok(())
    }

    #[classmethod]
    fn convert_legacy_subfields<'py>(
        _cls: &Bound<'py, pyo3::types::PyType>,
        subfields: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let py = subfields.py();
        let items: Vec<Bound<'py, PyAny>> = subfields.try_iter()?.collect::<PyResult<_>>()?;
        if !items.len().is_multiple_of(2) {
            return Err(PyValueError::new_err(
                "legacy subfields must come in code, value pairs",
            ));
        }
        let cls = subfield_class(py)?;
        let out = PyList::empty(py);
        for pair in items.chunks(2) {
            out.append(cls.call1((&pair[0], &pair[1]))?)?;
        }
        Ok(out)
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, Self>> {
        slf.get().state_mut(slf.py())?.pos = 0;
        Ok(slf.clone())
    }

    /// The next subfield, or `None` at the end: PyO3 ends the iteration without making a
    /// `StopIteration` (or, for the usual list, an `IndexError`) per field.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut me = self.state_mut(py)?;
        if me.control_field {
            return Ok(None);
        }
        let subs = me.subfields_obj(py)?;
        let item = match subs.cast::<PyList>() {
            Ok(list) if me.pos < list.len() => Some(list.get_item(me.pos)?),
            Ok(_) => None,
            // A sequence set by the program: indexed as pymarc indexes it.
            Err(_) => match subs.get_item(me.pos) {
                Ok(item) => Some(item),
                Err(e) if e.is_instance_of::<PyIndexError>(py) => None,
                Err(e) => return Err(e),
            },
        };
        if item.is_some() {
            me.pos += 1;
        }
        Ok(item.map(Bound::unbind))
    }

    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.state(py)?.text(py)
    }

    #[pyo3(signature = (code, default = None))]
    fn get(&self, py: Python<'_>, code: &str, default: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        Ok(match self.state(py)?.first_value(py, code)? {
            Some(v) => v,
            None => default.unwrap_or_else(|| py.None()),
        })
    }

    fn __getitem__(&self, py: Python<'_>, code: &str) -> PyResult<Py<PyAny>> {
        // A bare KeyError, as pymarc raises.
        self.state(py)?
            .first_value(py, code)?
            .ok_or_else(|| PyKeyError::new_err(()))
    }

    fn __contains__(&self, py: Python<'_>, code: &str) -> PyResult<bool> {
        Ok(self.state(py)?.first_value(py, code)?.is_some())
    }

    fn __setitem__(&self, py: Python<'_>, code: &str, value: Bound<'_, PyAny>) -> PyResult<()> {
        // Borrowed only to materialise the list; the rest works on the list object.
        let subs = {
            let mut me = self.state_mut(py)?;
            if me.control_field {
                return Err(PyKeyError::new_err("field is a control field"));
            }
            me.subfields_obj(py)?
        };
        let mut found: Option<(usize, Bound<'_, PyAny>)> = None;
        for (i, item) in subs.try_iter()?.enumerate() {
            let (c, _) = code_value(&item?)?;
            if str_eq(&c, code)? {
                if found.is_some() {
                    return Err(PyKeyError::new_err(format!("more than one code '{code}'")));
                }
                found = Some((i, c));
            }
        }
        let Some((i, c)) = found else {
            return Err(PyKeyError::new_err(format!("no code '{code}'")));
        };
        let sf = subfield_class(py)?.call1((c, value))?;
        subs.set_item(i, sf)
    }

    fn value(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let me = self.state(py)?;
        if me.control_field {
            let d = me.data.bind(py);
            return Ok(if d.is_truthy()? {
                d.clone().unbind()
            } else {
                PyString::new(py, "").into_any().unbind()
            });
        }
        if let Some(f) = me.lazy_field() {
            // The common case, one subfield, needs no intermediate String; otherwise join
            // into a reused per-thread buffer rather than allocating one per call.
            let mut subs = f.subfields();
            if subs.len() == 1 {
                let only = subs.next().map_or("", |s| s.value);
                return Ok(crate::pystr::new(py, fastmarc::internal::py_strip(only))
                    .into_any()
                    .unbind());
            }
            return VALUE_BUF.with_borrow_mut(|buf| {
                buf.clear();
                f.write_value(buf);
                Ok(crate::pystr::new(py, buf).into_any().unbind())
            });
        }
        let s = me.value_string(py)?.unwrap_or_default();
        Ok(crate::pystr::new(py, &s).into_any().unbind())
    }

    #[pyo3(signature = (*codes))]
    fn get_subfields<'py>(
        &self,
        py: Python<'py>,
        codes: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyList>> {
        let me = self.state(py)?;
        let out = PyList::empty(py);
        if me.control_field || codes.is_empty() {
            return Ok(out);
        }
        if let Some(f) = me.lazy_field() {
            // A parsed subfield's code is one character: only such a code can equal it.
            let mut wanted = Vec::with_capacity(codes.len());
            for c in codes.iter() {
                wanted.extend(one_char(&c)?);
            }
            for s in f.subfields().filter(|s| wanted.contains(&s.code)) {
                out.append(crate::pystr::new(py, s.value))?;
            }
        } else if let Subs::Py(list) = &me.subs {
            for item in list.bind(py).try_iter()? {
                let (c, v) = code_value(&item?)?;
                // pymarc's `subfield.code in codes`.
                if codes.contains(c)? {
                    out.append(v)?;
                }
            }
        }
        Ok(out)
    }

    #[pyo3(signature = (code, value, pos = None))]
    fn add_subfield(
        &self,
        py: Python<'_>,
        code: Bound<'_, PyAny>,
        value: Bound<'_, PyAny>,
        pos: Option<isize>,
    ) -> PyResult<()> {
        // Borrowed only to materialise the list; the rest works on the list object.
        let subs = {
            let mut me = self.state_mut(py)?;
            if me.control_field {
                return Ok(());
            }
            me.subfields_obj(py)?
        };
        let sf = subfield_class(py)?.call1((code, value))?;
        let len = subs.len()? as isize;
        match pos {
            Some(p) if p <= len => {
                subs.call_method1(intern!(py, "insert"), (p, sf))?;
            }
            _ => {
                subs.call_method1(intern!(py, "append"), (sf,))?;
            }
        }
        Ok(())
    }

    fn delete_subfield(&self, py: Python<'_>, code: &str) -> PyResult<Py<PyAny>> {
        // Borrowed only to materialise the list; the rest works on the list object.
        let subs = {
            let mut me = self.state_mut(py)?;
            if me.control_field {
                return Ok(py.None());
            }
            me.subfields_obj(py)?
        };
        let mut index = None;
        for (i, item) in subs.try_iter()?.enumerate() {
            let (c, _) = code_value(&item?)?;
            if str_eq(&c, code)? {
                index = Some(i);
                break;
            }
        }
        match index {
            Some(i) => {
                let popped = subs.call_method1(intern!(py, "pop"), (i,))?;
                Ok(code_value(&popped)?.1.unbind())
            }
            None => Ok(py.None()),
        }
    }

    fn subfields_as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let me = self.state(py)?;
        let d = pyo3::types::PyDict::new(py);
        if me.control_field {
            return Ok(d);
        }
        let add = |c: Bound<'py, PyAny>, v: Bound<'py, PyAny>| -> PyResult<()> {
            match d.get_item(&c)? {
                Some(l) => l.cast::<PyList>()?.append(v),
                None => d.set_item(c, PyList::new(py, [v])?),
            }
        };
        if let Some(f) = me.lazy_field() {
            let mut buf = [0u8; 4];
            for s in f.subfields() {
                add(
                    PyString::new(py, s.code.encode_utf8(&mut buf)).into_any(),
                    crate::pystr::new(py, s.value).into_any(),
                )?;
            }
        } else if let Subs::Py(list) = &me.subs {
            for item in list.bind(py).try_iter()? {
                let (c, v) = code_value(&item?)?;
                add(c, v)?;
            }
        }
        Ok(d)
    }

    fn is_control_field(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state(py)?.control_field)
    }

    fn linkage_occurrence_num(&self, py: Python<'_>) -> PyResult<Option<String>> {
        let Some(v) = self.state(py)?.first_value(py, "6")? else {
            return Ok(None);
        };
        let v: String = v.bind(py).str()?.extract()?;
        if v.is_empty() {
            return Ok(None);
        }
        let second = v
            .split('-')
            .nth(1)
            .ok_or_else(|| PyIndexError::new_err("list index out of range"))?;
        Ok(Some(second.split('/').next().unwrap_or("").to_string()))
    }

    fn as_marc<'py>(&self, py: Python<'py>, encoding: &str) -> PyResult<Bound<'py, PyAny>> {
        if is_utf8_name(encoding) {
            let mut v = Vec::new();
            self.state(py)?.marc_utf8(py, &mut v)?;
            return Ok(PyBytes::new(py, &v).into_any());
        }
        let text = self.state(py)?.marc_text(py)?;
        PyString::new(py, &text).call_method1(intern!(py, "encode"), (encoding,))
    }

    fn as_marc21<'py>(&self, py: Python<'py>, encoding: &str) -> PyResult<Bound<'py, PyAny>> {
        self.as_marc(py, encoding)
    }

    fn format_field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let me = self.state(py)?;
        let d = me.data.bind(py);
        if me.control_field && d.is_truthy()? {
            // pymarc returns the data object itself (bytes for raw fields).
            return Ok(d.clone().unbind());
        }
        Ok(PyString::new(py, &me.format_string(py)?)
            .into_any()
            .unbind())
    }

    fn is_subject_field(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.state(py)?.tag.starts_with('6'))
    }

    /// A subclass's copy is of that subclass, with its attributes.
    fn __copy__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let copy = slf.get().state(py)?.copy_with(|o| Ok(o.clone_ref(py)))?;
        subclass::new_like::<Field>(slf.as_any(), copy, |d| d.call_method0("copy"))
    }

    fn __deepcopy__<'py>(
        slf: &Bound<'py, Self>,
        memo: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        subclass::deep_copy(slf, memo, |me, part| me.copy_with(part))
    }

    /// Pickled as its parts, as pymarc's field is (plus a subclass's attributes).
    fn __getstate__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let dict = subclass::instance_dict(slf.as_any());
        let mut me = slf.get().state_mut(py)?;
        let subfields = me.subfields_obj(py)?;
        let indicators = me.indicators_obj(py)?;
        (
            me.tag.to_string(),
            me.data.clone_ref(py),
            indicators,
            subfields,
            me.control_field,
            dict,
        )
            .into_pyobject(py)
    }

    fn __setstate__(slf: &Bound<'_, Self>, state: &Bound<'_, PyTuple>) -> PyResult<()> {
        let py = slf.py();
        let (tag, data, indicators, subfields, control_field, dict): (
            String,
            Py<PyAny>,
            Py<PyAny>,
            Py<PyAny>,
            bool,
            Bound<'_, PyAny>,
        ) = state.extract()?;
        let mut field = FieldState::blank(py, tag);
        field.data = data;
        field.inds = if indicators.is_none(py) {
            Inds::None
        } else {
            Inds::Py(indicators)
        };
        field.subs = Subs::Py(subfields);
        field.control_field = control_field;
        // The old state goes once the borrow is over.
        let old = slf.get().cell().replace(py, field)?;
        drop(old);
        subclass::restore_dict(slf.as_any(), &dict)
    }
}
impl FieldState {
    /// pymarc's `Field.__init__(self, tag, indicators=None, subfields=None, data=None)`
    /// called with `args` and `kwargs`: its argument errors, word for word, then `build`.
    fn from_arguments(
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
    ) -> PyResult<FieldState> {
        const NAMES: [&str; 4] = ["tag", "indicators", "subfields", "data"];
        if args.len() > NAMES.len() {
            return Err(PyTypeError::new_err(format!(
                "Field.__init__() takes from 2 to 5 positional arguments but {} were given",
                args.len() + 1
            )));
        }
        let mut given: [Option<Bound<'_, PyAny>>; 4] = Default::default();
        for (slot, arg) in given.iter_mut().zip(args.iter()) {
            *slot = Some(arg);
        }
        for (key, value) in kwargs.into_iter().flat_map(|k| k.iter()) {
            let name = key.str()?;
            let Some(i) = NAMES
                .iter()
                .position(|n| name.to_str().is_ok_and(|s| s == *n))
            else {
                return Err(PyTypeError::new_err(format!(
                    "Field.__init__() got an unexpected keyword argument {}",
                    key.repr()?
                )));
            };
            if given[i].replace(value).is_some() {
                return Err(PyTypeError::new_err(format!(
                    "Field.__init__() got multiple values for argument '{}'",
                    NAMES[i]
                )));
            }
        }
        let [tag, indicators, subfields, data] = given;
        let Some(tag) = tag else {
            return Err(PyTypeError::new_err(
                "Field.__init__() missing 1 required positional argument: 'tag'",
            ));
        };
        FieldState::build(
            py,
            &tag,
            indicators.filter(|v| !v.is_none()),
            subfields.filter(|v| !v.is_none()),
            data,
        )
    }

    /// pymarc's `Field.__init__`: the tag normalised, then a control field's data, or a
    /// data field's indicators and subfields.
    fn build(
        py: Python<'_>,
        tag: &Bound<'_, PyAny>,
        indicators: Option<Bound<'_, PyAny>>,
        subfields: Option<Bound<'_, PyAny>>,
        data: Option<Bound<'_, PyAny>>,
    ) -> PyResult<FieldState> {
        let tag: String = if let Ok(s) = tag.cast::<PyString>() {
            let s = s.to_str()?;
            if is_py_digit_str(s) && s.len() != 3 {
                format!("{:03}", s.parse::<u64>().unwrap_or(0))
            } else {
                s.to_string()
            }
        } else {
            match tag.call_method0("__int__").and_then(|i| i.extract::<i64>()) {
                Ok(n) => format!("{n:03}"),
                Err(_) => tag.str()?.to_str()?.to_string(),
            }
        };
        if let Some(s) = &subfields {
            if s.is_truthy()? && s.get_item(0)?.is_instance_of::<PyString>() {
                return Err(PyValueError::new_err(LEGACY_SUBFIELDS));
            }
        }
        let mut field = FieldState::blank(py, tag);
        if is_control_tag(&field.tag) {
            field.control_field = true;
            if let Some(d) = data {
                field.data = d.unbind();
            }
        } else {
            if let Some(s) = subfields.filter(|s| s.is_truthy().unwrap_or(false)) {
                field.subs = Subs::Py(s.unbind());
            }
            match indicators {
                Some(i) if i.is_truthy()? => field.set_indicators(py, Some(i))?,
                _ => field.inds = Inds::Native([' ', ' ']),
            }
        }
        Ok(field)
    }

    /// A data field with tag `tag`, no indicators and no subfields.
    fn blank(py: Python<'_>, tag: String) -> FieldState {
        FieldState {
            tag: FieldTag::Owned(tag),
            data: py.None(),
            inds: Inds::None,
            subs: Subs::Py(PyList::empty(py).into_any().unbind()),
            control_field: false,
            pos: 0,
            gc: Untracked::default(),
            made_by_new: false,
        }
    }

    /// A new field with every Python-held part passed through `copy`; core-backed parts are
    /// shared (the parsed record is immutable).
    fn copy_with(&self, copy: impl Fn(&Py<PyAny>) -> PyResult<Py<PyAny>>) -> PyResult<FieldState> {
        Ok(FieldState {
            tag: self.tag.clone(),
            data: copy(&self.data)?,
            inds: match &self.inds {
                Inds::None => Inds::None,
                Inds::Native(i) => Inds::Native(*i),
                Inds::Py(o) => Inds::Py(copy(o)?),
            },
            subs: match &self.subs {
                Subs::Lazy(rec, i) => Subs::Lazy(Python::attach(|py| rec.share(py)), *i),
                Subs::Py(o) => Subs::Py(copy(o)?),
            },
            control_field: self.control_field,
            pos: 0,
            gc: Untracked::default(),
            made_by_new: false,
        })
    }
}
