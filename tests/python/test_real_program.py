"""Real programs built on pymarc, run unchanged on fastmarc (issue 24, 6), each library in a
fresh interpreter, installed by setup:

- marctable 0.5.0, a MARC to CSV/JSON Lines/Parquet converter that imports pymarc itself,
  over the bundled sample and every ISO 2709 and MARCXML file of pymarc's test data, with
  its default columns and with chosen ones: the files it writes, and any exception it
  raises, must be the same byte for byte;
- marcx 0.3.0, a library whose records are a subclass of pymarc's `Record`, and
  pymarcspec 0.0.3, a MARCspec engine over pymarc records: their own test suites (from
  their sdists, unpacked by setup into cache/) must give every test the same outcome."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Runs marctable's conversions of every input: CSV, JSON Lines and Parquet with its default
# mapping (every field in its bundled MARC 21 schema), CSV and JSON Lines with a few fields
# and subfields chosen. Prints
# a JSON object: input name -> exception raised ("" when none).
PROGRAM = """
    import json, sys
    from pathlib import Path
    if sys.argv[1] == "fastmarc":
        import fastmarc
        fastmarc.install_as_pymarc()
    from marctable.utils import to_csv, to_jsonl, to_parquet
    import pymarc
    assert pymarc.__name__ == sys.argv[1], pymarc.__name__
    out = Path(sys.argv[2])
    failures = {}
    for name in sys.argv[3:]:
        source = Path(name)
        failures[source.name] = ""
        for label, rules in (("all", []), ("chosen", ["008", "245a", "650a", "020"])):
            stem = out / f"{source.name}.{label}"
            try:
                with source.open("rb") as f, open(f"{stem}.csv", "w") as dest:
                    to_csv(f, dest, rules=rules, batch=7)
                with source.open("rb") as f, open(f"{stem}.jsonl", "wb") as dest:
                    to_jsonl(f, dest, rules=rules)
                if not rules:
                    # (marctable names a Parquet column of a chosen subfield after the
                    # repr of one of its objects: a name that differs from run to run.)
                    with source.open("rb") as f, open(f"{stem}.parquet", "wb") as dest:
                        to_parquet(f, dest, rules=rules)
            except Exception as error:
                failures[source.name] += f"{label}: {type(error).__name__}: {error}; "
    print(json.dumps(failures))
"""


def run(library: str, out: Path, inputs: list[Path]) -> dict:
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PROGRAM), library, str(out), *map(str, inputs)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_marctable_writes_the_same_files_on_fastmarc(tmp_path, pymarc_test_dir, sample_path) -> None:

    import marctable  # noqa: F401  (installed by setup, requirements-dev.txt)

    inputs = [sample_path, *sorted(pymarc_test_dir.glob("*.dat")), *sorted(pymarc_test_dir.glob("*.mrc"))]
    inputs += sorted(pymarc_test_dir.glob("*.xml"))
    by_pymarc = run("pymarc", tmp_path / "pymarc", inputs)
    by_fastmarc = run("fastmarc", tmp_path / "fastmarc", inputs)

    assert by_fastmarc == by_pymarc
    written = sorted(p.name for p in (tmp_path / "pymarc").iterdir())
    assert sorted(p.name for p in (tmp_path / "fastmarc").iterdir()) == written
    different = [
        name for name in written if (tmp_path / "pymarc" / name).read_bytes() != (tmp_path / "fastmarc" / name).read_bytes()
    ]
    assert not different, different
    # The comparison covers real output: most inputs convert, with rows in them.
    converted = [name for name, failure in by_pymarc.items() if not failure]
    assert len(converted) >= len(inputs) // 2, by_pymarc
    rows = (tmp_path / "fastmarc" / f"{sample_path.name}.chosen.jsonl").read_text().splitlines()
    assert len(rows) == 50 and all(json.loads(row).get("F245a") for row in rows)


CACHE = REPO_ROOT / "cache"

# Runs a suite with pytest, on pymarc or (after install_as_pymarc) on fastmarc, checking
# first that the program's module sees the library asked for, and writes a JUnit report.
SUITE = """
    import importlib, sys
    import pytest
    library, program, report, tests = sys.argv[1:]
    if library == "fastmarc":
        import fastmarc
        fastmarc.install_as_pymarc()
    importlib.import_module(program)
    import pymarc
    assert pymarc.Record.__module__.split(".")[0] == library, pymarc.Record.__module__
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-W", "ignore", "--junitxml", report, tests]))
"""


def suite_outcomes(library: str, program: str, workdir: Path, tests: str, messages: bool) -> dict:
    """Each test of the suite in `workdir`/`tests`: "passed", or how it failed (the
    exception type, with `messages` its whole message)."""
    report = workdir / f"{library}.xml"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SUITE), library, program, str(report), tests],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )
    # 0: all passed, 1: some failed; anything else is the run itself going wrong.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        key = f"{case.get('classname')}::{case.get('name')}"
        if problem is None:
            outcomes[key] = "passed"
        else:
            message = problem.get("message") or ""
            outcomes[key] = f"{problem.tag}: {message if messages else message.split(':')[0]}"
    return outcomes


def sdist_tests(name: str, tests: str) -> Path:
    found = CACHE / name / tests
    if not found.is_dir():
        pytest.fail(f"{name}'s tests not found at {found}: run `bash scripts/setup.sh`", pytrace=False)
    return found


def test_marcx_suite_has_the_same_outcomes_on_fastmarc(tmp_path, pymarc_test_dir) -> None:
    import marcx  # noqa: F401  (installed by setup, requirements-dev.txt)

    shutil.copytree(sdist_tests("marcx-0.3.0", "tests"), tmp_path / "tests")
    # Two of its tests read pymarc's test records, which its sdist leaves out.
    for name in ("one.dat", "multi_isbn.dat"):
        shutil.copy(pymarc_test_dir / name, tmp_path / "tests" / name)

    on_pymarc = suite_outcomes("pymarc", "marcx", tmp_path, "tests", messages=True)
    on_fastmarc = suite_outcomes("fastmarc", "marcx", tmp_path, "tests", messages=True)

    assert on_fastmarc == on_pymarc
    # The suite ran for real: most of it passes (the rest was written for pymarc 4's
    # list indicators, and fails on both).
    assert sum(outcome == "passed" for outcome in on_pymarc.values()) >= 55, on_pymarc


def test_pymarcspec_suite_has_the_same_outcomes_on_fastmarc(tmp_path) -> None:
    import pymarcspec  # noqa: F401  (installed by setup, requirements-dev.txt)

    shutil.copytree(sdist_tests("pymarcspec-0.0.3", "test"), tmp_path / "test")

    on_pymarc = suite_outcomes("pymarc", "pymarcspec.search", tmp_path, "test", messages=False)
    on_fastmarc = suite_outcomes("fastmarc", "pymarcspec.search", tmp_path, "test", messages=False)

    # Failure messages are compared by exception type only: one test's message shows the
    # repr of a leader object, which names the library's module.
    assert on_fastmarc == on_pymarc
    # Two tests fail on both: one expects pymarc 4's string leader, one compares the
    # parser it ships with one generated by today's TatSu.
    assert sum(outcome == "passed" for outcome in on_pymarc.values()) >= 80, on_pymarc
