#!/usr/bin/env bash
# The core's whole test suite (unit, integration and doc tests) under AddressSanitizer and
# LeakSanitizer: invalid reads and writes, use after free, and leaks fail it. Uses the
# stable toolchain's nightly features through RUSTC_BOOTSTRAP=1 (as cargo-fuzz does here).
# Takes a few minutes on two cores; not part of scripts/test.sh (the fuzz smoke run there
# already runs every fuzz target under AddressSanitizer).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Zsanitizer=address" RUSTDOCFLAGS="-Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export PYMARC_TEST_DIR="${PYMARC_TEST_DIR:-$PWD/cache/pymarc-5.4.0/test}"
# A target directory of its own, and an explicit --target, so that build scripts and
# proc macros are built without the sanitizer.
CARGO_TARGET_DIR=target/asan cargo test -p fastmarc --target "$(rustc -vV | sed -n 's/^host: //p')" \
    --no-fail-fast "$@"
