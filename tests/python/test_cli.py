"""The ``fastmarc`` command as the installed package provides it, checked against the real pymarc.

The command is Rust (crates/fastmarc-cli, tested on its own in crates/fastmarc-cli/tests); these
tests run it the way a user of the Python package does (the console script, or
``python -m fastmarc.cli``) on the bundled sample and on pymarc's own test files, and compare
what it prints or writes with what pymarc 5.4.0 reads from the same files.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest

import fastmarc
import pymarc
from test_pymarc_equivalence import ISO2709_FILES as PYMARC_ISO2709_FILES
from xmllint import assert_xmllint

SUBCOMMANDS = ["count", "stats", "convert", "dump", "validate", "split", "cat", "help"]


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m fastmarc.cli ARGS`` with `stdin` piped in; output kept as bytes. MARCXML
    on stdout must satisfy xmllint."""
    result = subprocess.run(
        [sys.executable, "-m", "fastmarc.cli", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=300,
    )
    if result.stdout.startswith(b"<?xml"):
        assert_xmllint(result.stdout)
    return result


def out(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode("utf-8")


def err(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode("utf-8", "replace")


def assert_clean_failure(result: subprocess.CompletedProcess[bytes], status: int = 1) -> None:
    """Failed with `status`, a `fastmarc: ...` message, and no traceback or panic."""
    assert result.returncode == status, err(result)
    assert err(result).startswith("fastmarc: ") or status == 2, err(result)
    assert "Traceback" not in err(result)
    assert "panicked" not in err(result)


def pymarc_records(path: Path, **options) -> list:
    """Every record pymarc's MARCReader yields (None for one it could not parse)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with path.open("rb") as handle:
            return list(pymarc.MARCReader(handle, **options))


def pymarc_text(records: list) -> str:
    """Records as `fastmarc dump` prints them: pymarc's str(record), a blank line between."""
    return "\n".join(str(record) for record in records)


# ---- the installed command ---------------------------------------------------------------


def test_console_script_is_installed_beside_python() -> None:
    script = Path(sysconfig.get_path("scripts")) / "fastmarc"
    assert script.is_file(), f"no console script at {script}"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"fastmarc {fastmarc.__version__}"


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_every_subcommand_has_help(subcommand: str) -> None:
    result = run_cli(subcommand, "--help")
    assert result.returncode == 0, err(result)
    assert f"Usage: fastmarc {subcommand}" in out(result)
    assert err(result) == ""


def test_usage_error_exits_2_with_a_message_and_no_traceback(sample_path: Path) -> None:
    result = run_cli("split", str(sample_path), "--records", "0")
    assert_clean_failure(result, status=2)
    assert result.stdout == b""
    assert "--records" in err(result)


# ---- count -----------------------------------------------------------------------------------


def test_count_prints_only_the_number_of_records(sample_path: Path) -> None:
    expected = len(pymarc_records(sample_path))
    result = run_cli("count", str(sample_path))
    assert result.returncode == 0, err(result)
    assert out(result) == f"{expected}\n"
    assert err(result) == ""


def test_count_reads_stdin_and_several_files(sample_path: Path, pymarc_test_dir: Path) -> None:
    marc8 = pymarc_test_dir / "marc8.dat"
    result = run_cli("count", str(sample_path), "-", stdin=marc8.read_bytes())
    assert result.returncode == 0, err(result)
    assert out(result) == f"50\t{sample_path}\n1\t<stdin>\n51\ttotal\n"


@pytest.mark.parametrize("name", PYMARC_ISO2709_FILES)
def test_permissive_count_keeps_every_record_pymarc_reads(name: str, pymarc_test_dir: Path) -> None:
    path = pymarc_test_dir / name
    readable = sum(1 for record in pymarc_records(path) if record is not None)
    result = run_cli("count", "--permissive", str(path))
    assert result.returncode == 0, err(result)
    assert out(result) == f"{readable}\n"
    # Each record left out is named, with its number and byte offset.
    for line in err(result).splitlines():
        assert line.startswith(f"fastmarc: warning: {path}: record "), line
        assert ", byte offset " in line, line


# ---- dump ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["<sample>", "marc8.dat", "test.dat", "marc.dat", "1251.dat"])
def test_dump_prints_what_pymarc_prints(name: str, sample_path: Path, pymarc_test_dir: Path) -> None:
    path = sample_path if name == "<sample>" else pymarc_test_dir / name
    result = run_cli("dump", str(path))
    assert result.returncode == 0, err(result)
    assert out(result) == pymarc_text(pymarc_records(path))


def test_dump_reads_marcxml_and_json_like_pymarc(pymarc_test_dir: Path) -> None:
    xml = pymarc_test_dir / "batch.xml"
    result = run_cli("dump", str(xml))
    assert result.returncode == 0, err(result)
    assert out(result) == pymarc_text(pymarc.parse_xml_to_array(str(xml)))

    json_path = pymarc_test_dir / "batch.json"
    result = run_cli("dump", "-", stdin=json_path.read_bytes())
    assert result.returncode == 0, err(result)
    assert out(result) == pymarc_text(list(pymarc.JSONReader(json_path.read_text("utf-8"))))


def test_dump_tag_shows_the_leader_and_those_fields(sample_path: Path) -> None:
    result = run_cli("dump", str(sample_path), "--tag", "245", "--tag", "650")
    assert result.returncode == 0, err(result)
    expected = []
    for record in pymarc_records(sample_path):
        lines = [f"=LDR  {record.leader}"]
        lines += [str(field) for field in record.get_fields("245", "650")]
        expected.append("\n".join(lines) + "\n")
    assert out(result) == "\n".join(expected)


def test_dump_into_a_closed_pipe_ends_quietly(sample_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "fastmarc.cli", "dump", str(sample_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.read(6)
        process.stdout.close()
        status = process.wait(timeout=60)
        stderr = process.stderr.read().decode()
    assert first == b"=LDR  "
    assert status == 0, stderr
    assert "Traceback" not in stderr


# ---- convert ---------------------------------------------------------------------------------


def test_convert_through_every_format_on_stdin_and_stdout_gives_back_the_same_bytes(
    sample_path: Path,
) -> None:
    original = sample_path.read_bytes()
    xml = run_cli("convert", str(sample_path), "-", "--to", "xml")
    assert xml.returncode == 0, err(xml)
    assert xml.stdout.startswith(b"<?xml")
    json = run_cli("convert", "-", "-", "--to", "json", stdin=xml.stdout)
    assert json.returncode == 0, err(json)
    assert json.stdout.startswith(b"[")
    back = run_cli("convert", "-", "-", stdin=json.stdout)
    assert back.returncode == 0, err(back)
    assert back.stdout == original


def test_convert_output_format_follows_the_file_name(sample_path: Path, tmp_path: Path) -> None:
    for name in ["out.xml", "out.json", "out.txt"]:
        result = run_cli("convert", str(sample_path), str(tmp_path / name))
        assert result.returncode == 0, err(result)
    assert_xmllint((tmp_path / "out.xml").read_bytes())
    assert [str(r) for r in pymarc.parse_xml_to_array(str(tmp_path / "out.xml"))] == [
        str(r) for r in pymarc_records(sample_path)
    ]
    json_records = pymarc.JSONReader((tmp_path / "out.json").read_text("utf-8"))
    assert pymarc_text(list(json_records)) == pymarc_text(pymarc_records(sample_path))
    assert (tmp_path / "out.txt").read_text("utf-8") == pymarc_text(pymarc_records(sample_path))

    result = run_cli("convert", str(sample_path), str(tmp_path / "out.csv"))
    assert_clean_failure(result, status=2)
    assert "--to" in err(result)
    assert not (tmp_path / "out.csv").exists()


def test_convert_decodes_marc8_and_sets_leader_09(pymarc_test_dir: Path, tmp_path: Path) -> None:
    source = pymarc_test_dir / "marc8.dat"
    (marc8_record,) = pymarc_records(source)
    assert marc8_record.leader[9] == " "
    target = tmp_path / "utf8.mrc"
    result = run_cli("convert", str(source), str(target))
    assert result.returncode == 0, err(result)
    (converted,) = pymarc_records(target)
    assert converted.leader[9] == "a"
    # The text pymarc decodes from MARC-8, now stored as UTF-8.
    assert [str(f) for f in converted.fields] == [str(f) for f in marc8_record.fields]
    assert str(converted.leader)[:9] + str(converted.leader)[10:] == (
        str(marc8_record.leader)[:9] + str(marc8_record.leader)[10:]
    )


# ---- stats and validate ----------------------------------------------------------------------


def test_stats_counts_records_encodings_types_and_tags(sample_path: Path) -> None:
    records = pymarc_records(sample_path)
    result = run_cli("stats", str(sample_path))
    assert result.returncode == 0, err(result)
    lines = out(result).splitlines()
    assert f"records    {len(records)}" in lines
    assert f"bytes      {sample_path.stat().st_size}" in lines
    assert "errors     0" in lines
    utf8 = sum(1 for r in records if r.leader[9] == "a")
    assert any(line.split() == ["UTF-8", str(utf8)] for line in lines), out(result)
    occurrences = sum(len(r.get_fields("650")) for r in records)
    with_650 = sum(1 for r in records if r.get_fields("650"))
    assert any(line.split() == ["650", str(occurrences), str(with_650)] for line in lines)


def test_stats_lists_errors_and_exits_1_unless_permissive(pymarc_test_dir: Path) -> None:
    path = pymarc_test_dir / "bad_records.mrc"
    unreadable = sum(1 for record in pymarc_records(path) if record is None)
    result = run_cli("stats", str(path))
    assert_clean_failure(result)
    assert f"errors     {unreadable}" in out(result).splitlines()
    assert run_cli("stats", "--permissive", str(path)).returncode == 0


def test_validate_reports_each_bad_record_with_number_and_offset(
    sample_path: Path, pymarc_test_dir: Path
) -> None:
    clean = run_cli("validate", str(sample_path))
    assert clean.returncode == 0, err(clean)
    assert out(clean) == f"{sample_path}: 50 records checked, no problems\n"

    path = pymarc_test_dir / "bad_records.mrc"
    records = pymarc_records(path)
    bad_numbers = [i + 1 for i, record in enumerate(records) if record is None]
    result = run_cli("validate", "-", stdin=path.read_bytes())
    assert result.returncode == 1
    *problems, summary = out(result).splitlines()
    assert summary == f"<stdin>: {len(records)} records checked, {len(bad_numbers)} problems"
    assert [int(p.split("record ")[1].split(",")[0]) for p in problems] == bad_numbers
    assert all(", byte offset " in p for p in problems)


# ---- split and cat ---------------------------------------------------------------------------


def test_split_then_cat_gives_back_the_file_byte_for_byte(sample_path: Path, tmp_path: Path) -> None:
    prefix = str(tmp_path / "part-")
    result = run_cli("split", "-", "--records", "20", "--prefix", prefix, stdin=sample_path.read_bytes())
    assert result.returncode == 0, err(result)
    parts = sorted(tmp_path.glob("part-*.mrc"))
    assert [p.name for p in parts] == ["part-0001.mrc", "part-0002.mrc", "part-0003.mrc"]
    assert [len(pymarc_records(p)) for p in parts] == [20, 20, 10]
    joined = run_cli("cat", *map(str, parts))
    assert joined.returncode == 0, err(joined)
    assert joined.stdout == sample_path.read_bytes()


# ---- bad input -------------------------------------------------------------------------------


def test_unknown_format_on_stdin_names_the_input_and_offset() -> None:
    result = run_cli("count", "-", stdin=b"hello, world")
    assert_clean_failure(result)
    assert err(result).startswith("fastmarc: <stdin>: record 1, byte offset 0: cannot tell the format")


def test_a_missing_file_is_named() -> None:
    result = run_cli("dump", "/nonexistent/records.mrc")
    assert_clean_failure(result)
    assert err(result).startswith("fastmarc: /nonexistent/records.mrc: cannot open: ")


def test_a_truncated_file_keeps_the_records_before_the_break(sample_path: Path, tmp_path: Path) -> None:
    data = sample_path.read_bytes()
    ends = [i + 1 for i, byte in enumerate(data) if byte == 0x1D]
    truncated = tmp_path / "truncated.mrc"
    truncated.write_bytes(data[: ends[2] + 100])
    result = run_cli("convert", str(truncated), "-", "--to", "text")
    assert_clean_failure(result)
    assert err(result).startswith(f"fastmarc: {truncated}: record 4, byte offset {ends[2]}: ")
    assert out(result) == pymarc_text(pymarc_records(sample_path)[:3])


def test_the_xml_character_error_says_record_offset_field_and_character(tmp_path: Path) -> None:
    # A 0x1F at the end of the second record's 001, as some Library of Congress records have.
    records = []
    for number, control in enumerate(["rec1", "rec2\x1f", "rec3"]):
        record = fastmarc.Record()
        record.add_field(fastmarc.Field(tag="001", data=control))
        record.add_field(
            fastmarc.Field(
                tag="245",
                indicators=fastmarc.Indicators("1", "0"),
                subfields=[fastmarc.Subfield("a", f"Title {number}")],
            )
        )
        records.append(record.as_marc())
    path = tmp_path / "ctl.mrc"
    path.write_bytes(b"".join(records))
    target = tmp_path / "out.xml"
    result = run_cli("convert", str(path), str(target))
    assert_clean_failure(result)
    assert err(result).startswith(
        f"fastmarc: {path}: record 2, byte offset {len(records[0])}: cannot be written as "
        "MARCXML: 001: character U+001F at position 4 cannot be written in XML"
    ), err(result)
    assert not target.exists()
    result = run_cli("convert", "--permissive", str(path), str(target))
    assert result.returncode == 0, err(result)
    assert f"warning: {path}: record 2, byte offset {len(records[0])}: 001: character U+001F" in err(result)
    assert_xmllint(target.read_bytes())
