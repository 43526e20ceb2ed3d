"""`xmllint --noout` on the MARCXML the tests write (libxml2-utils, installed by
scripts/install.sh): other tools must accept every document fastmarc produces."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def assert_xmllint(document: bytes) -> None:
    """xmllint accepts `document` as well-formed XML."""
    xmllint = shutil.which("xmllint")
    if xmllint is None:
        pytest.fail("xmllint not found: run scripts/install.sh (libxml2-utils)", pytrace=False)
    result = subprocess.run([xmllint, "--noout", "-"], input=document, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
