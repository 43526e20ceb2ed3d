//! MARCXML and MARC-in-JSON for Python: records go to the core writers and documents come
//! from the core readers; nothing here serialises or parses.
//!
//! A record read from a file and not yet touched is handed to the core as it is. One whose
//! fields are Python objects is converted to a core record first. Where a record or a
//! document holds what the core does not model the way pymarc does (a value that is not
//! text, a four-character tag, a `<controlfield>` with a data field's tag, a record
//! without a leader), these functions return `None` and the Python caller takes pymarc's
//! own route, so the result is pymarc's in every case.

use crate::field::{is_control_tag, Field, Inds, Subs};
use crate::record::{DecodeSettings, Record, RecordState};
use fastmarc::json::JsonLayout;
use fastmarc::xml::{UnicodeForm, XmlReaderOptions, XmlWriteOptions};
use fastmarc::{Leader as CoreLeader, Record as CoreRecord, Tag};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

/// Turns a value that is not a `str` into text, or refuses it (`None`).
type TextOf<'a, 'py> = &'a mut dyn FnMut(&Bound<'py, PyAny>) -> PyResult<Option<String>>;

/// A value as text: a `str` as it is, anything else through `other`.
fn text_of<'py>(value: &Bound<'py, PyAny>, other: TextOf<'_, 'py>) -> PyResult<Option<String>> {
    match value.cast::<PyString>() {
        Ok(s) => Ok(Some(s.to_str()?.to_string())),
        Err(_) => other(value),
    }
}

/// A one-character Python string as a char.
pub fn one_char(value: &Bound<'_, PyAny>) -> PyResult<Option<char>> {
    let Ok(s) = value.cast::<PyString>() else {
        return Ok(None);
    };
    let mut chars = s.to_str()?.chars();
    Ok(match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    })
}

/// `record` as a core record, or `None` when it holds what the core cannot.
pub fn record_to_core<'py>(
    record: &Bound<'py, PyAny>,
    other: TextOf<'_, 'py>,
) -> PyResult<Option<Arc<CoreRecord>>> {
    let py = record.py();
    let exact = record.get_type().is(py.get_type::<Record>());
    if exact {
        let record = record.cast::<Record>()?.get();
        let me = record.state(py)?;
        if let Some((core, leader)) = me.untouched(py)? {
            let Some(leader) = leader else {
                return Ok(None);
            };
            if leader == *core.leader() {
                return Ok(Some(core.arc().clone()));
            }
            let mut copy = (**core).clone();
            copy.set_leader(leader);
            return Ok(Some(Arc::new(copy)));
        }
    }
    let leader: String = record.getattr(intern!(py, "leader"))?.str()?.extract()?;
    let Ok(leader) = CoreLeader::from_bytes(leader.as_bytes()) else {
        return Ok(None);
    };
    let mut out = CoreRecord::with_leader(leader);
    for field in record.try_iter()? {
        if !push_field(&mut out, &field?, other)? {
            return Ok(None);
        }
    }
    Ok(Some(Arc::new(out)))
}

/// Append one field object to `out`; `false` when the core cannot hold it.
fn push_field<'py>(
    out: &mut CoreRecord,
    field: &Bound<'py, PyAny>,
    other: TextOf<'_, 'py>,
) -> PyResult<bool> {
    let py = field.py();
    if field.get_type().is(py.get_type::<Field>()) {
        let field = field.cast::<Field>()?.get();
        let f = field.state(py)?;
        let Ok(tag) = Tag::new(&f.tag) else {
            return Ok(false);
        };
        if f.control_field {
            let Some(data) = text_of(f.data.bind(py), other)? else {
                return Ok(false);
            };
            out.push_control(tag, &data);
            return Ok(true);
        }
        let [i1, i2] = match &f.inds {
            Inds::Native(i) => *i,
            Inds::Py(o) => match indicator_pair(o.bind(py))? {
                Some(pair) => pair,
                None => return Ok(false),
            },
            Inds::None => return Ok(false),
        };
        out.start_data_field(tag, i1, i2);
        return match &f.subs {
            Subs::Lazy(rec, i) => {
                let lazy = rec.field(*i).expect("field index from the record itself");
                for s in lazy.subfields() {
                    out.push_subfield(s.code, s.value);
                }
                Ok(true)
            }
            Subs::Py(list) => push_subfields(out, list.bind(py), other),
        };
    }
    // Any other field object, read as pymarc's writers read one.
    let tag: String = match field.getattr(intern!(py, "tag"))?.extract() {
        Ok(t) => t,
        Err(_) => return Ok(false),
    };
    let Ok(tag) = Tag::new(&tag) else {
        return Ok(false);
    };
    if field.getattr(intern!(py, "control_field"))?.is_truthy()? {
        let Some(data) = text_of(&field.getattr(intern!(py, "data"))?, other)? else {
            return Ok(false);
        };
        out.push_control(tag, &data);
        return Ok(true);
    }
    let Some([i1, i2]) = indicator_pair(&field.getattr(intern!(py, "indicators"))?)? else {
        return Ok(false);
    };
    out.start_data_field(tag, i1, i2);
    push_subfields(out, &field.getattr(intern!(py, "subfields"))?, other)
}

fn indicator_pair(inds: &Bound<'_, PyAny>) -> PyResult<Option<[char; 2]>> {
    if inds.is_none() {
        return Ok(None);
    }
    let (Ok(a), Ok(b)) = (inds.get_item(0), inds.get_item(1)) else {
        return Ok(None);
    };
    Ok(match (one_char(&a)?, one_char(&b)?) {
        (Some(a), Some(b)) => Some([a, b]),
        _ => None,
    })
}

fn push_subfields<'py>(
    out: &mut CoreRecord,
    subfields: &Bound<'py, PyAny>,
    other: TextOf<'_, 'py>,
) -> PyResult<bool> {
    for item in subfields.try_iter()? {
        let item = item?;
        let (code, value) = match item.cast::<PyTuple>() {
            Ok(t) if t.len() == 2 => (t.get_item(0)?, t.get_item(1)?),
            _ => return Ok(false),
        };
        let (Some(code), Some(value)) = (one_char(&code)?, text_of(&value, other)?) else {
            return Ok(false);
        };
        out.push_subfield(code, &value);
    }
    Ok(true)
}

/// pymarc's `record_to_xml` (`ascii`) or `XMLWriter`'s record bytes (UTF-8), or `None`.
/// Values that are bytes are decoded from MARC-8 with one `MARC8ToUnicode(quiet=quiet)`
/// per record, as pymarc does. With `well_formed`, the bytes follow the core's well-formed
/// rule, and come with what was replaced (the first such character, and how many), or `None`.
#[pyfunction]
#[pyo3(signature = (record, namespace = false, ascii = true, quiet = false, well_formed = false))]
pub fn record_xml<'py>(
    record: &Bound<'py, PyAny>,
    namespace: bool,
    ascii: bool,
    quiet: bool,
    well_formed: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = record.py();
    let mut decoder: Option<Bound<'py, PyAny>> = None;
    let mut marc8 = |value: &Bound<'py, PyAny>| -> PyResult<Option<String>> {
        if !value.is_instance_of::<PyBytes>() {
            return Ok(None);
        }
        if decoder.is_none() {
            let cls = py.import("fastmarc.marc8")?.getattr("MARC8ToUnicode")?;
            let kw = pyo3::types::PyDict::new(py);
            kw.set_item("quiet", quiet)?;
            decoder = Some(cls.call((), Some(&kw))?);
        }
        let d = decoder.as_ref().expect("made above");
        Ok(Some(
            d.call_method1(intern!(py, "translate"), (value,))?
                .extract()?,
        ))
    };
    let Some(core) = record_to_core(record, &mut marc8)? else {
        return Ok(None);
    };
    let mut out = String::with_capacity(core.text_len() + 64 + core.len() * 48);
    let opts = XmlWriteOptions { namespace, ascii };
    if !well_formed {
        fastmarc::xml::write_record_xml(&core, opts, &mut out);
        return Ok(Some(PyBytes::new(py, out.as_bytes()).into_any()));
    }
    let replaced = fastmarc::xml::write_record_xml_well_formed(&core, opts, &mut out);
    let what = (replaced > 0).then(|| {
        let first = fastmarc::xml::find_unwritable_xml(&core).map_or_else(
            || "a character cannot be written in XML".into(),
            |u| u.to_string(),
        );
        (first, replaced)
    });
    Ok(Some(
        (PyBytes::new(py, out.as_bytes()), what)
            .into_pyobject(py)?
            .into_any(),
    ))
}

/// pymarc's `json.dumps(record.as_dict())` (`compact`: with `separators=(",", ":")`), or
/// `None`.
#[pyfunction]
#[pyo3(signature = (record, compact = false))]
pub fn record_json<'py>(
    record: &Bound<'py, PyAny>,
    compact: bool,
) -> PyResult<Option<Bound<'py, PyString>>> {
    let Some(core) = record_to_core(record, &mut |_| Ok(None))? else {
        return Ok(None);
    };
    let layout = if compact {
        JsonLayout::Compact
    } else {
        JsonLayout::Spaced
    };
    let mut out = String::with_capacity(core.text_len() + 64 + core.len() * 48);
    fastmarc::json::write_record_json(&core, layout, &mut out);
    Ok(Some(PyString::new(record.py(), &out)))
}

/// Records the core read, as `Record`s, when each is what pymarc's reader makes of the same
/// input: every field's kind is the one pymarc gives its tag, and no record took the core's
/// default leader (a record without `<leader>`, which pymarc leaves blank).
fn wrap_records(py: Python<'_>, records: Vec<CoreRecord>) -> PyResult<Option<Bound<'_, PyList>>> {
    let blank = CoreLeader::default();
    let pymarc_shaped = records.iter().all(|r| {
        *r.leader() != blank
            && r.fields()
                .all(|f| f.is_control() == is_control_tag(f.tag().as_str()))
    });
    if !pymarc_shaped {
        return Ok(None);
    }
    let settings = DecodeSettings::default();
    let list = PyList::empty(py);
    for rec in records {
        let wrapped = RecordState::from_core(py, Arc::new(rec), None, &settings)?;
        list.append(wrapped.into_object(py)?)?;
    }
    Ok(Some(list))
}

/// The records of a MARCXML document (pymarc's `parse_xml_to_array`), or `None` when pymarc's
/// SAX handler must read it (an error, or a document the core reads differently).
#[pyfunction]
#[pyo3(signature = (data, strict = false, normalize_form = None))]
pub fn parse_xml<'py>(
    py: Python<'py>,
    data: &[u8],
    strict: bool,
    normalize_form: Option<&str>,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let normalization = match normalize_form {
        None => None,
        Some("NFC") => Some(UnicodeForm::Nfc),
        Some("NFD") => Some(UnicodeForm::Nfd),
        Some("NFKC") => Some(UnicodeForm::Nfkc),
        Some("NFKD") => Some(UnicodeForm::Nfkd),
        Some(_) => return Ok(None),
    };
    let opts = XmlReaderOptions {
        marc_namespace_only: strict,
        normalization,
        ..XmlReaderOptions::default()
    };
    let parsed = py.detach(|| {
        let mut reader = fastmarc::xml::XmlReader::from_slice(data, opts);
        let records = reader.by_ref().collect::<fastmarc::Result<Vec<_>>>();
        records.map(|r| (r, reader.pymarc_shaped()))
    });
    match parsed {
        Ok((records, true)) => wrap_records(py, records),
        _ => Ok(None),
    }
}

/// Input bytes the core reads at a time from a JSON document file. Read whole, a document
/// lands in fresh memory, a page fault every 4 KiB: a sixth of `JSONReader`'s time in a
/// new process, and the document's size again in memory.
const JSON_WINDOW: usize = 1 << 20;

/// [`parse_json`] of the document in the file at `path`, read a window at a time; `None`
/// also when the file is one the whole-document reading must take (see
/// `json_records_windowed`), or cannot be read.
#[pyfunction]
pub fn parse_json_file<'py>(
    py: Python<'py>,
    path: PathBuf,
) -> PyResult<Option<Bound<'py, PyList>>> {
    let parsed = py.detach(|| {
        let file = std::fs::File::open(&path).ok()?;
        fastmarc::internal::json_records_windowed(file, JSON_WINDOW)
    });
    match parsed {
        Some((records, true)) => wrap_records(py, records),
        _ => Ok(None),
    }
}

/// The records of a MARC-in-JSON document (an array of records), or `None` when pymarc's
/// own reading must decide (an error, a single record object, or a document the core
/// reads differently: see `JsonSliceReader::pymarc_shaped`).
#[pyfunction]
pub fn parse_json<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Option<Bound<'py, PyList>>> {
    let parsed = py.detach(|| {
        let mut reader = fastmarc::json::JsonSliceReader::new(data);
        let records = reader.by_ref().collect::<fastmarc::Result<Vec<_>>>();
        records.map(|r| (r, reader.pymarc_shaped()))
    });
    match parsed {
        Ok((records, true)) => wrap_records(py, records),
        _ => Ok(None),
    }
}
