#!/usr/bin/env bash
# Runs the maturin that $PYTHON has (installed by requirements-dev.txt), with the zig of the
# `ziglang` package on PATH: maturin finds `zig` there whatever Python its own launcher
# puts first on PATH.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
zig_dir="$("$PYTHON" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')"
export PATH="$zig_dir:$PATH"
if "$PYTHON" -m maturin --version >/dev/null 2>&1; then
    exec "$PYTHON" -m maturin "$@"
fi
# A virtualenv that sees maturin through --system-site-packages has no maturin script of its own.
exec maturin "$@"
