"""pytest plugin that runs pymarc's test suite against fastmarc.

Loaded with ``-p redirect`` (see run.sh), so it is imported before any test module. It makes
``pymarc`` and every ``pymarc.<sub>`` name the matching fastmarc module, refuses any other
``pymarc...`` import (so nothing can fall back to the real pymarc, which is installed as a
test dependency), and after collection checks that every ``pymarc`` module the tests got is
fastmarc's; if not, the run stops with an error instead of silently testing the wrong library.
"""

from __future__ import annotations

import importlib
import importlib.abc
import pkgutil
import sys

import pytest

import fastmarc

TARGET = "fastmarc"
ALIASED = "pymarc"


def _real_pymarc_already_loaded() -> list[str]:
    return [
        name
        for name, module in sys.modules.items()
        if (name == ALIASED or name.startswith(ALIASED + ".")) and not _is_fastmarc(module)
    ]


def _is_fastmarc(module: object) -> bool:
    name = getattr(module, "__name__", "")
    return name == TARGET or name.startswith(TARGET + ".")


def _alias_fastmarc_as_pymarc() -> list[str]:
    """Registers fastmarc and each of its public submodules under pymarc's names."""
    aliased = []
    sys.modules[ALIASED] = fastmarc
    for info in pkgutil.iter_modules(fastmarc.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{TARGET}.{info.name}")
        sys.modules[f"{ALIASED}.{info.name}"] = module
        aliased.append(info.name)
    return sorted(aliased)


class _NoFallbackToRealPymarc(importlib.abc.MetaPathFinder):
    """Answers any pymarc import that has no fastmarc counterpart with a clear error.

    Aliased names are found in sys.modules before any finder is asked, so this only sees
    the rest; without it they would quietly load the real pymarc.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname == ALIASED or fullname.startswith(ALIASED + "."):
            counterpart = TARGET + fullname[len(ALIASED) :]
            raise ModuleNotFoundError(
                f"{fullname} is redirected to {counterpart}, which does not exist",
                name=fullname,
            )
        return None


_early = _real_pymarc_already_loaded()
if _early:
    raise RuntimeError(f"the real pymarc was imported before the redirect plugin: {_early}")
ALIASED_SUBMODULES = _alias_fastmarc_as_pymarc()
sys.meta_path.insert(0, _NoFallbackToRealPymarc())


def pytest_report_header(config):
    resolved = importlib.import_module(ALIASED)
    return [
        f"pymarc resolves to: {resolved.__name__} ({resolved.__file__})",
        f"aliased submodules: {', '.join(ALIASED_SUBMODULES) or '(none)'}",
    ]


def pytest_collection_finish(session):
    wrong = _real_pymarc_already_loaded()
    if wrong:
        pytest.exit(f"the suite is not testing fastmarc: real pymarc modules loaded: {wrong}", returncode=3)
    for item in session.items:
        module = getattr(item, "module", None)
        imported = getattr(module, ALIASED, None)
        if imported is not None and not _is_fastmarc(imported):
            pytest.exit(f"{module.__name__} imported {imported!r}, not fastmarc", returncode=3)


EXPECTED_COUNTS = "174 passed, 8 subtests passed"  # pymarc 5.4.0's own suite on pymarc itself


def pytest_terminal_summary(terminalreporter):
    # The counts next to the target, so a shortfall is plain at a glance.
    counts = {key: len(reports) for key, reports in terminalreporter.stats.items() if key}
    found = ", ".join(f"{count} {key}" for key, count in sorted(counts.items())) or "nothing ran"
    terminalreporter.write_sep("-", "pymarc 5.4.0 suite on fastmarc")
    terminalreporter.write_line(f"outcome  {found}")
    terminalreporter.write_line(f"target   {EXPECTED_COUNTS}")
