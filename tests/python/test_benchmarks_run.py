"""The benchmark scripts run to the end and report every figure (on tiny inputs: what
they measure is not checked here, only that a change has not broken them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHES = Path(__file__).resolve().parents[2] / "benches" / "python"


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHES / script), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_bench_arrow_reports_every_figure_for_both_fixtures() -> None:
    out = run("bench_arrow.py", "--rounds", "1", "--records", "300", "--dask-records", "3000", "--fixture", "both")
    for label in (
        "nested, 1 thread: share of the parse rate",
        "5-column projection, 1 thread: share of the parse rate",
        "nested, 2 threads: share of the 2-core ceiling",
        "analysis: to_arrow+polars speed-up over a pymarc loop",
        "analysis: to_arrow+polars speed-up over fastmarc's loop",
        "Parquet (zstd, nested) / ISO 2709 size",
        "Dask read_marc, 2 workers, compute(): share of the ceiling",
        "Dask read_marc, 2 workers, optimize().compute(): share",
    ):
        figures = re.findall(re.escape(label) + r".*?\s(\d+\.\d\d)\s+\(target", out)
        assert len(figures) == 2, f"{label!r} not reported for both fixtures:\n{out}"
    for label in ("Parquet back, read_parquet", "Parquet back, fastmarc convert back to ISO 2709"):
        figures = re.findall(re.escape(label) + r": 1 thread \d+\.\d\ds .*every core \d+\.\d\ds .*: \d+\.\d\dx", out)
        assert len(figures) == 2, f"{label!r} not reported for both fixtures:\n{out}"
    assert "byte-identical: True" in out, out


def test_bench_matrix_reports_every_operation_for_both_data_sets() -> None:
    sys.path.insert(0, str(BENCHES))
    try:
        from bench_matrix import ORDER
    finally:
        sys.path.remove(str(BENCHES))
    out = run("bench_matrix.py", "--rounds", "1", "--records", "200", "--data", "real,fixture")
    for op in ORDER:
        rows = re.findall(rf"^\| {re.escape(op)} \| [\d.]+ s \| [\d.]+ s \| [\d.]+× \|", out, re.M)
        assert len(rows) == 2, f"{op!r} not reported for both data sets:\n{out}"
