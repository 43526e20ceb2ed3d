"""Every public name of every pymarc 5.4.0 module is in the same fastmarc module, with the
same kind (issue 24, 5). The list is generated from pymarc's own modules, not written here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import fastmarc
import pymarc

PYMARC_MODULES = ["pymarc"] + sorted(
    f"pymarc.{info.name}" for info in pkgutil.iter_modules(pymarc.__path__) if not info.name.startswith("_")
)


def kind(value) -> str:
    if inspect.ismodule(value):
        return "module"
    if inspect.isclass(value):
        return "class"
    if callable(value):
        return "function"
    return "constant"


def test_pymarc_has_the_modules_this_test_expects() -> None:
    # Guards the generation itself: an empty list would make every other test pass.
    assert {"pymarc.record", "pymarc.field", "pymarc.reader", "pymarc.marc8_mapping"} <= set(PYMARC_MODULES)


@pytest.mark.parametrize("module_name", PYMARC_MODULES)
def test_every_public_name_is_there_with_the_same_kind(module_name: str) -> None:
    theirs = importlib.import_module(module_name)
    ours = importlib.import_module("fastmarc" + module_name[len("pymarc") :])
    names = [name for name in vars(theirs) if not name.startswith("_")]
    assert names
    missing = [name for name in names if not hasattr(ours, name)]
    assert not missing, f"{ours.__name__} lacks {missing}"
    different = {
        name: (kind(getattr(theirs, name)), kind(getattr(ours, name)))
        for name in names
        if kind(getattr(theirs, name)) != kind(getattr(ours, name))
    }
    assert not different, f"{ours.__name__}: kinds differ (pymarc, fastmarc): {different}"


def test_constants_and_re_exports_have_pymarc_values() -> None:
    for module_name in PYMARC_MODULES:
        theirs = importlib.import_module(module_name)
        ours = importlib.import_module("fastmarc" + module_name[len("pymarc") :])
        for name, value in vars(theirs).items():
            if name.startswith("_") or kind(value) != "constant" or name == "isbn_regex":
                continue
            if inspect.getmodule(value) is not None and not isinstance(value, (str, int, dict)):
                continue
            assert getattr(ours, name) == value, f"{ours.__name__}.{name}"
    assert fastmarc.record.isbn_regex.pattern == pymarc.record.isbn_regex.pattern


def test_marc8_mapping_tables_are_pymarcs() -> None:
    from fastmarc import marc8_mapping as ours
    from pymarc import marc8_mapping as theirs

    assert ours.CODESETS.keys() == theirs.CODESETS.keys()
    for final, table in theirs.CODESETS.items():
        assert ours.CODESETS[final] == {code: (point, int(flag)) for code, (point, flag) in table.items()}, hex(final)
    assert ours.ODD_MAP == theirs.ODD_MAP


def test_re_exported_classes_are_fastmarcs_own() -> None:
    assert fastmarc.record.Field is fastmarc.Field
    assert fastmarc.reader.TruncatedRecord is fastmarc.exceptions.TruncatedRecord
    assert fastmarc.marcxml.make_parser is pymarc.marcxml.make_parser
