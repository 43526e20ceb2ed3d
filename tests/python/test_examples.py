"""Every example in examples/ and crates/fastmarc/examples/ (but the benchmark tools), run as
a user runs it on the bundled sample or pymarc's MARC-8 file, with its output checked.

The threading examples print the speed-up they measure; only the shape of that line is
checked (timings belong in benchmarks). The Rust examples run from the debug build that the
Rust test phase has already compiled (`cargo run` without `--release`), so the times they
print here mean nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pymarc

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"

SPEED_UP = re.compile(r"^ *speed-up: +\d+\.\d\dx", re.MULTILINE)


def run_python_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )


def run_rust_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cargo", "run", "--quiet", "-p", "fastmarc", "--example", name, "--", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO_ROOT,
    )


def pymarc_field_texts(path: Path) -> list[list[str]]:
    """Each record's fields as pymarc prints them (MARC-8 decoded to Unicode)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with path.open("rb") as handle:
            return [[str(f) for f in record.fields] for record in pymarc.MARCReader(handle)]


def pymarc_leaders(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return [str(record.leader) for record in pymarc.MARCReader(handle)]


def test_summary_prints_the_counts_and_the_first_record(sample_path: Path) -> None:
    result = run_python_example("summary.py", str(sample_path))
    assert result.returncode == 0, result.stderr
    with sample_path.open("rb") as handle:
        records = list(pymarc.MARCReader(handle))
    fields = sum(len(r.fields) for r in records)
    assert result.stdout.startswith(f"{sample_path}: {len(records)} records, {fields} fields\n")
    assert str(records[0]) in result.stdout


def test_concurrent_reading_py_reads_every_copy_and_reports_a_speed_up(sample_path: Path) -> None:
    result = run_python_example("concurrent_reading.py", "--files", "3", "--copies", "4", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("read 3 files of 200 records each (")
    assert "600 records in all" in result.stdout
    assert SPEED_UP.search(result.stdout), result.stdout


def test_concurrent_writing_py_writes_every_file_and_reports_a_speed_up(sample_path: Path) -> None:
    result = run_python_example("concurrent_writing.py", "--files", "3", "--copies", "4", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 3 files of 200 records each (")
    assert SPEED_UP.search(result.stdout), result.stdout


def check_marc8_conversion(source: Path, target: Path) -> None:
    """`target` holds `source`'s records, text as pymarc decodes it, leader/09 now 'a'."""
    assert pymarc_field_texts(target) == pymarc_field_texts(source)
    before, after = pymarc_leaders(source), pymarc_leaders(target)
    assert [leader[9] for leader in before] == [" "] * len(before)
    assert [leader[9] for leader in after] == ["a"] * len(after)
    # Only leader/09 and the lengths the writer computes (00-04, 12-16) may change.
    keep = lambda leader: leader[5:9] + leader[10:12] + leader[17:]  # noqa: E731
    assert [keep(x) for x in after] == [keep(x) for x in before]


def test_convert_marc8_to_utf8_py(pymarc_test_dir: Path, sample_path: Path, tmp_path: Path) -> None:
    source = pymarc_test_dir / "marc8.dat"
    target = tmp_path / "utf8.mrc"
    result = run_python_example("convert_marc8_to_utf8.py", str(source), str(target))
    assert result.returncode == 0, result.stderr
    assert "1 records converted from MARC-8, 0 already UTF-8, 0 unreadable" in result.stdout
    check_marc8_conversion(source, target)

    # UTF-8 records pass through byte for byte.
    copy = tmp_path / "sample.mrc"
    result = run_python_example("convert_marc8_to_utf8.py", str(sample_path), str(copy))
    assert result.returncode == 0, result.stderr
    assert "0 records converted from MARC-8, 50 already UTF-8" in result.stdout
    assert copy.read_bytes() == sample_path.read_bytes()


def test_convert_marc8_to_utf8_py_reports_unreadable_records(pymarc_test_dir: Path, tmp_path: Path) -> None:
    result = run_python_example(
        "convert_marc8_to_utf8.py", str(pymarc_test_dir / "bad_records.mrc"), str(tmp_path / "out.mrc")
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "record 2: cannot be read: " in result.stderr
    assert "7 unreadable" in result.stdout


def test_concurrent_reading_rs() -> None:
    result = run_rust_example("concurrent_reading", "--files", "3", "--copies", "4", "--threads", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 files of 200 records each (")
    assert "600 records in all" in result.stdout
    assert "one Reader per file" in result.stdout and "ParallelReader" in result.stdout
    assert "ParallelMap" in result.stdout
    assert len(SPEED_UP.findall(result.stdout)) == 3, result.stdout


def test_concurrent_writing_rs() -> None:
    result = run_rust_example("concurrent_writing", "--files", "3", "--copies", "4", "--threads", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 3 files of 200 records each (")
    assert SPEED_UP.search(result.stdout), result.stdout


def test_convert_marc8_to_utf8_rs(pymarc_test_dir: Path, sample_path: Path, tmp_path: Path) -> None:
    source = pymarc_test_dir / "marc8.dat"
    target = tmp_path / "utf8.mrc"
    result = run_rust_example("convert_marc8_to_utf8", str(source), str(target))
    assert result.returncode == 0, result.stderr
    assert "1 records converted from MARC-8, 0 already UTF-8, 0 unreadable" in result.stdout
    check_marc8_conversion(source, target)

    copy = tmp_path / "sample.mrc"
    result = run_rust_example("convert_marc8_to_utf8", str(sample_path), str(copy))
    assert result.returncode == 0, result.stderr
    assert copy.read_bytes() == sample_path.read_bytes()

    bad = pymarc_test_dir / "bad_records.mrc"
    result = run_rust_example("convert_marc8_to_utf8", str(bad), str(tmp_path / "b.mrc"))
    assert result.returncode == 1
    # Record 2 starts after record 1 (its length is its first five bytes); its error is
    # in its base address, leader/12-16.
    base_address_offset = int(bad.read_bytes()[:5]) + 12
    assert f"(record 2, byte offset {base_address_offset})" in result.stderr
    assert "2 records converted from MARC-8, 0 already UTF-8, 7 unreadable" in result.stdout


def test_analytics_py_answers_as_a_pymarc_loop_does(sample_path: Path) -> None:
    result = run_python_example("analytics.py", str(sample_path))
    assert result.returncode == 0, result.stderr
    with sample_path.open("rb") as handle:
        records = list(pymarc.MARCReader(handle))
    languages: dict[str, int] = {}
    subjects: dict[str, int] = {}
    for r in records:
        lang = r["008"].data[35:38]
        languages[lang] = languages.get(lang, 0) + 1
        for f in r.get_fields("650"):
            for a in f.get_subfields("a"):
                subjects[a] = subjects.get(a, 0) + 1
    for lang, count in languages.items():
        assert f"  {lang}: {count}\n" in result.stdout
    top = sorted(subjects.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    for heading, count in top:
        assert f"  {count:3}  {heading}\n" in result.stdout
    tripled = {lang: 3 * n for lang, n in sorted(languages.items())}
    assert f"records per language over 3 copies (Dask): {tripled}" in result.stdout
