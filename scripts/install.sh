#!/usr/bin/env bash
# Installs everything development and the tests need, into the active Python (no virtualenv
# required): the dev dependencies, pymarc 5.4.0's sdist (its test suite and MARC test data,
# unpacked under cache/), the sdists of marcx 0.3.0 and pymarcspec 0.0.3 (their tests) and
# fastmarc itself: the manylinux2014 wheel that would be published, built once in release
# mode into dist/ (scripts/check_package.sh tests that same file in a fresh virtualenv) and
# installed from there.
# Idempotent: a second run reuses the download and cargo's incremental build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
PYMARC_VERSION=5.4.0
# The sdist as published on PyPI; checked so the reference suite is exactly the one we target.
PYMARC_SDIST_SHA256=b2016b1674d1956636c99b9bf95b31840c5cb8f22645672a660e66326371b2f3
# marcx, a library built on a subclass of pymarc's Record: its own test suite runs on both
# libraries (tests/python/test_real_program.py). Installed from requirements-dev.txt, as is
# pymarcspec below.
MARCX_VERSION=0.3.0
MARCX_SDIST_SHA256=f6380e5da575a1863c8889c610efc7c98c5af7c44d8ca7c9833047303fa85cc9
# pymarcspec, a MARCspec engine over pymarc records: its test suite too.
PYMARCSPEC_VERSION=0.0.3
PYMARCSPEC_SDIST_SHA256=7c4bd5a1496585ec8e5d189df862ef714ed4ec51bd3e42d3db76edebd611056b
CACHE_DIR=cache

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

# fetch_sdist NAME VERSION SHA256 WHAT: the sdist as published on PyPI, checked, unpacked
# into cache/NAME-VERSION.
fetch_sdist() {
    local name="$1" version="$2" sha256="$3" what="$4"
    local sdist="$CACHE_DIR/$name-$version.tar.gz" dir="$CACHE_DIR/$name-$version"
    step "$name $version sdist ($what) in $dir"
    mkdir -p "$CACHE_DIR"
    if [[ -f "$sdist" ]]; then
        echo "already downloaded: $sdist"
    else
        "$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
            "$name==$version" -d "$CACHE_DIR"
    fi
    local actual
    actual="$(sha256sum "$sdist" | cut -d' ' -f1)"
    if [[ "$actual" != "$sha256" ]]; then
        echo "error: $sdist has sha256 $actual, expected $sha256; delete it and re-run" >&2
        exit 1
    fi
    if [[ -f "$dir/.unpacked" ]]; then
        echo "already unpacked: $dir"
    else
        # Unpack beside the final place and rename, so an interrupted run never leaves half a tree.
        rm -rf "$dir" "$dir.partial"
        mkdir -p "$dir.partial"
        tar -xzf "$sdist" -C "$dir.partial" --strip-components=1
        touch "$dir.partial/.unpacked"
        mv "$dir.partial" "$dir"
        echo "unpacked: $dir ($(find "$dir" -type f | wc -l) files)"
    fi
}

fetch_sdist pymarc "$PYMARC_VERSION" "$PYMARC_SDIST_SHA256" "reference test suite and data"
fetch_sdist marcx "$MARCX_VERSION" "$MARCX_SDIST_SHA256" \
    "a pymarc.Record subclass; its tests run on both libraries"
fetch_sdist pymarcspec "$PYMARCSPEC_VERSION" "$PYMARCSPEC_SDIST_SHA256" \
    "MARCspec over pymarc records; its tests run on both libraries"

step "fastmarc: manylinux2014 wheel (release build, zig linker) in dist/, installed into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
bash scripts/build_wheel.sh
"$PYTHON" -m pip install --disable-pip-version-check --root-user-action=ignore \
    --no-deps --force-reinstall dist/fastmarc-*manylinux*.whl
"$PYTHON" -c 'import fastmarc, os; print("installed:", os.path.dirname(fastmarc.__file__))'
