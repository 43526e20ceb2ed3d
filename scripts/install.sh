#!/usr/bin/env bash
# Installs everything development and the tests need, into the active Python (no virtualenv
# required): the dev dependencies, pymarc 5.4.0's sdist (its test suite and MARC test data,
# unpacked under cache/) and fastmarc itself: the manylinux2014 wheel that would be published,
# built once in release mode into dist/ (scripts/check_package.sh tests that same file in a
# fresh virtualenv) and installed from there.
# Idempotent: a second run reuses the download and cargo's incremental build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
PYMARC_VERSION=5.4.0
# The sdist as published on PyPI; checked so the reference suite is exactly the one we target.
PYMARC_SDIST_SHA256=b2016b1674d1956636c99b9bf95b31840c5cb8f22645672a660e66326371b2f3
CACHE_DIR=cache
SDIST="$CACHE_DIR/pymarc-$PYMARC_VERSION.tar.gz"
SDIST_DIR="$CACHE_DIR/pymarc-$PYMARC_VERSION"

step() { printf '\n==> %s\n' "$*"; }

step "System tools the tests use: xmllint (libxml2-utils) checks every MARCXML file they write"
if command -v xmllint >/dev/null 2>&1; then
    echo "already installed: $(command -v xmllint)"
else
    SUDO=""
    if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
    $SUDO apt-get install -y --no-install-recommends libxml2-utils >/dev/null 2>&1 \
        || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends libxml2-utils; }
    echo "installed: $(command -v xmllint)"
fi

step "Python dev dependencies (requirements-dev.txt) for $("$PYTHON" --version 2>&1) at $(command -v "$PYTHON")"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

step "pymarc $PYMARC_VERSION sdist (reference test suite and data) in $SDIST_DIR"
mkdir -p "$CACHE_DIR"
if [[ -f "$SDIST" ]]; then
    echo "already downloaded: $SDIST"
else
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        "pymarc==$PYMARC_VERSION" -d "$CACHE_DIR"
fi
actual_sha256="$(sha256sum "$SDIST" | cut -d' ' -f1)"
if [[ "$actual_sha256" != "$PYMARC_SDIST_SHA256" ]]; then
    echo "error: $SDIST has sha256 $actual_sha256, expected $PYMARC_SDIST_SHA256; delete it and re-run" >&2
    exit 1
fi
if [[ -f "$SDIST_DIR/.unpacked" ]]; then
    echo "already unpacked: $SDIST_DIR"
else
    # Unpack beside the final place and rename, so an interrupted run never leaves half a tree.
    rm -rf "$SDIST_DIR" "$SDIST_DIR.partial"
    mkdir -p "$SDIST_DIR.partial"
    tar -xzf "$SDIST" -C "$SDIST_DIR.partial" --strip-components=1
    touch "$SDIST_DIR.partial/.unpacked"
    mv "$SDIST_DIR.partial" "$SDIST_DIR"
    echo "unpacked: $SDIST_DIR ($(find "$SDIST_DIR/test" -type f | wc -l) files in test/)"
fi

step "fastmarc: manylinux2014 wheel (release build, zig linker) in dist/, installed into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
bash scripts/build_wheel.sh
"$PYTHON" -m pip install --disable-pip-version-check --root-user-action=ignore \
    --no-deps --force-reinstall dist/fastmarc-*manylinux*.whl
"$PYTHON" -c 'import fastmarc, os; print("installed:", os.path.dirname(fastmarc.__file__))'
