//! Python subclasses of the native classes, as pymarc's classes are subclassed: fastmarc's
//! methods call a subclass's override where pymarc's methods call the method on `self`, and
//! copies keep the subclass and its instance attributes.

use crate::gil_cell::CellClass;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyType};

/// Whether `obj`'s class is a subclass of `base` that replaces `base`'s method `name`.
pub fn overrides(
    obj: &Bound<'_, PyAny>,
    base: &Bound<'_, PyType>,
    name: &Bound<'_, PyString>,
) -> PyResult<bool> {
    let class = obj.get_type();
    if class.is(base) {
        return Ok(false);
    }
    Ok(!class.getattr(name)?.is(&base.getattr(name)?))
}

/// A subclass instance's attributes (its `__dict__`), or None for the native class itself.
pub fn instance_dict<'py>(obj: &Bound<'py, PyAny>) -> Bound<'py, PyAny> {
    let py = obj.py();
    obj.getattr(intern!(py, "__dict__"))
        .unwrap_or_else(|_| py.None().into_bound(py))
}

/// Put back attributes [`instance_dict`] took (nothing for None).
pub fn restore_dict(obj: &Bound<'_, PyAny>, dict: &Bound<'_, PyAny>) -> PyResult<()> {
    if dict.is_none() {
        return Ok(());
    }
    let py = obj.py();
    obj.getattr(intern!(py, "__dict__"))?
        .call_method1(intern!(py, "update"), (dict,))?;
    Ok(())
}

/// `value` as an object of `like`'s class: the native class itself, or a subclass instance
/// made by its `__new__` without calling `__init__` (as `copy` and `pickle` make one), with
/// `copy_dict` of `like`'s attributes.
pub fn new_like<'py, T: CellClass>(
    like: &Bound<'py, PyAny>,
    value: T::State,
    copy_dict: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = like.py();
    let class = like.get_type();
    if class.is(py.get_type::<T>()) {
        return Ok(Bound::new(py, T::from_state(value))?.into_any());
    }
    let made = class.call_method1(intern!(py, "__new__"), (&class,))?;
    // The blank state `__new__` made is dropped after the borrow ends.
    drop(made.cast::<T>()?.get().cell().replace(py, value)?);
    let dict = instance_dict(like);
    if !dict.is_none() {
        made.setattr(intern!(py, "__dict__"), copy_dict(&dict)?)?;
    }
    Ok(made)
}

/// `__init_subclass__` of a native class: the new subclass gets pymarc's versions of the
/// methods that depend on methods it overrides (`fastmarc._subclassing.adapt`).
pub fn adapt(
    cls: &Bound<'_, PyType>,
    native: &Bound<'_, PyType>,
    kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
) -> PyResult<()> {
    if kwargs.is_some_and(|k| !k.is_empty()) {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "{}.__init_subclass__() takes no keyword arguments",
            native.name()?
        )));
    }
    let py = cls.py();
    py.import(intern!(py, "fastmarc._subclassing"))?
        .call_method1(intern!(py, "adapt"), (cls, native))?;
    Ok(())
}

/// `copy.deepcopy` of a native object: `copy_with` makes the copy of `obj`'s value with
/// each Python-held part passed through `deepcopy(part, memo)`; the copy is of `obj`'s
/// class, with deep copies of its attributes.
pub fn deep_copy<'py, T: CellClass>(
    obj: &Bound<'py, T>,
    memo: &Bound<'py, PyAny>,
    copy_with: impl FnOnce(&T::State, &dyn Fn(&Py<PyAny>) -> PyResult<Py<PyAny>>) -> PyResult<T::State>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let deepcopy = py
        .import(intern!(py, "copy"))?
        .getattr(intern!(py, "deepcopy"))?;
    let part = |o: &Py<PyAny>| Ok(deepcopy.call1((o, memo))?.unbind());
    let copy = copy_with(&*obj.get().cell().borrow(py)?, &part)?;
    new_like::<T>(obj.as_any(), copy, |d| deepcopy.call1((d, memo)))
}
