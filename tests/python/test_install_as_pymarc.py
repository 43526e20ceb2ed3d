"""`fastmarc.install_as_pymarc()` (issue 24, 6), each case in a fresh interpreter: this test
process has the real pymarc imported already."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
    )


def test_afterwards_pymarc_and_its_modules_are_fastmarc() -> None:
    done = run(
        """
        import importlib, pkgutil, sys
        import fastmarc
        fastmarc.install_as_pymarc()
        import pymarc
        assert pymarc is fastmarc, pymarc
        from pymarc import Record, MARCReader
        assert Record is fastmarc.Record
        import pymarc.record, pymarc.field, pymarc.reader, pymarc.writer, pymarc.marc8_mapping
        from pymarc.marcxml import parse_xml_to_array
        assert pymarc.record is fastmarc.record
        assert pymarc.marc8_mapping is fastmarc.marc8_mapping
        assert parse_xml_to_array is fastmarc.marcxml.parse_xml_to_array
        # Every module of the real pymarc's package is found, and is fastmarc's.
        for name in ["constants", "exceptions", "field", "leader", "marc8", "marc8_mapping",
                     "marcjson", "marcxml", "reader", "record", "writer"]:
            module = importlib.import_module("pymarc." + name)
            assert module is importlib.import_module("fastmarc." + name), name
        loaded = [n for n, m in sys.modules.items()
                  if n.split(".")[0] == "pymarc" and not m.__name__.startswith("fastmarc")]
        assert not loaded, loaded
        record = next(MARCReader(open("data/sample.mrc", "rb")))
        assert type(record) is fastmarc.Record
        fastmarc.install_as_pymarc()  # a second call is harmless
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_library_importing_pymarc_itself_gets_fastmarc(tmp_path) -> None:
    (tmp_path / "third_party.py").write_text(
        "import pymarc\nfrom pymarc.record import Record\n\ndef kind():\n    return pymarc.__name__, Record.__module__\n"
    )
    done = run(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import fastmarc
        fastmarc.install_as_pymarc()
        import third_party
        print(*third_party.kind())
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fastmarc", "fastmarc.record"]


def test_a_pymarc_module_fastmarc_lacks_is_a_clear_import_error() -> None:
    done = run(
        """
        import fastmarc
        fastmarc.install_as_pymarc()
        try:
            import pymarc.no_such_module
        except ModuleNotFoundError as error:
            print(error.name, "|", error)
        """
    )
    assert done.returncode == 0, done.stderr
    name, message = done.stdout.strip().split(" | ")
    assert name == "pymarc.no_such_module"
    assert "fastmarc" in message


@pytest.mark.parametrize("first_import", ["import pymarc", "import pymarc.record"])
def test_it_refuses_when_the_real_pymarc_is_already_imported(first_import: str) -> None:
    done = run(
        f"""
        {first_import}
        import fastmarc
        try:
            fastmarc.install_as_pymarc()
        except RuntimeError as error:
            print("refused:", error)
        import pymarc
        print(pymarc.__name__)
        """
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("refused:") and "before pymarc is imported" in lines[0]
    assert lines[1] == "pymarc"
