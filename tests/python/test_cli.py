"""The ``fastmarc`` command as the installed package provides it (``python -m fastmarc.cli``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fastmarc


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastmarc.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_count_prints_the_number_of_records(sample_path: Path) -> None:
    with sample_path.open("rb") as handle:
        expected = sum(1 for record in fastmarc.MARCReader(handle) if record is not None)
    result = run_cli("count", str(sample_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}\n"
    assert result.stderr == ""


def test_usage_error_exits_2_with_a_message_and_no_traceback(sample_path: Path) -> None:
    result = run_cli("split", str(sample_path), "--records", "0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--records" in result.stderr
    assert "Traceback" not in result.stderr
