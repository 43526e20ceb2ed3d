"""One version for the crates, the Python package and the command, and a changelog entry for it."""

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.version import Version

import fastmarc

REPO = Path(__file__).resolve().parents[2]


def workspace_version() -> str:
    """[workspace.package] version in Cargo.toml, which every crate inherits."""
    text = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^version\s*=\s*"([^"]+)"', section, re.M).group(1)


def test_package_metadata_command_and_crates_agree():
    installed = metadata.version("fastmarc")
    assert fastmarc.__version__ == installed
    out = subprocess.run([sys.executable, "-m", "fastmarc.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "fastmarc"
    # Cargo writes pre-releases as 1.0.0-alpha.1, Python as 1.0.0a1: the same version.
    assert Version(out[1]) == Version(installed) == Version(workspace_version())


def test_published_crates_depend_on_this_version():
    text = (REPO / "Cargo.toml").read_text(encoding="utf-8")
    pins = re.findall(r'^fastmarc(?:-cli)? = \{.*version = "=([^"]+)"', text, re.M)
    assert pins == [workspace_version()] * 2, pins


def test_changelog_names_this_version():
    changelog = (REPO / "docs" / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", changelog, re.M)
    assert workspace_version() in headings, headings
