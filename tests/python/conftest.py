"""Fixtures shared by fastmarc's Python tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PATH = REPO_ROOT / "data" / "sample.mrc"


def pymarc_test_dir_path() -> Path:
    """pymarc 5.4.0's test/ directory: $PYMARC_TEST_DIR, else where scripts/install.sh unpacks it."""
    configured = os.environ.get("PYMARC_TEST_DIR")
    return Path(configured) if configured else REPO_ROOT / "cache" / "pymarc-5.4.0" / "test"


@pytest.fixture(scope="session")
def pymarc_test_dir() -> Path:
    """The directory of pymarc's test data; fails (never skips) when it is missing."""
    path = pymarc_test_dir_path()
    if not (path / "test_record.py").is_file():
        pytest.fail(
            f"pymarc 5.4.0's test directory not found at {path}: run `bash scripts/setup.sh` "
            "or point PYMARC_TEST_DIR at the unpacked sdist's test/ directory",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def sample_path() -> Path:
    """The bundled sample, data/sample.mrc: 50 UTF-8 MARC 21 records (see tools/make_sample.py)."""
    if not SAMPLE_PATH.is_file():
        pytest.fail(f"bundled sample missing: {SAMPLE_PATH}", pytrace=False)
    return SAMPLE_PATH
