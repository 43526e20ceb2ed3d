#!/usr/bin/env bash
# Builds the wheel PyPI gets for Linux x86_64, into dist/: release mode, linked by zig against
# glibc 2.17, so it is manylinux2014 (manylinux_2_17); maturin checks that compliance itself
# and fails the build if the library needs anything newer. Debug information is stripped
# (the release profile keeps it for profiling).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
export PYTHON

rm -f dist/fastmarc-*.whl
bash scripts/maturin.sh build --release --strip --zig --compatibility manylinux2014 --auditwheel check \
    --interpreter "$PYTHON" --out dist
ls dist/fastmarc-*manylinux_2_17_x86_64*.whl
