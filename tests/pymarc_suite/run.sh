#!/usr/bin/env bash
# Runs pymarc 5.4.0's own test suite, unchanged, against fastmarc.
#
# The suite lives in the unpacked sdist (scripts/install.sh puts it in cache/) and opens its
# data as "test/xyz.dat", so pytest runs from the sdist's top directory. The redirect plugin
# (redirect.py, loaded with -p before any test module is imported) makes every
# `import pymarc...` resolve to fastmarc, and stops the run if the real pymarc slips in.
# Extra arguments go to pytest, e.g. `bash tests/pymarc_suite/run.sh -k marc8 -x`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
test_dir="${PYMARC_TEST_DIR:-$repo/cache/pymarc-5.4.0/test}"

if [[ ! -f "$test_dir/test_record.py" ]]; then
    echo "error: pymarc 5.4.0's test suite not found in $test_dir" >&2
    echo "       run 'bash scripts/setup.sh' (or set PYMARC_TEST_DIR to the sdist's test/ directory)" >&2
    exit 1
fi
sdist_dir="$(cd "$test_dir/.." && pwd)"
cd "$sdist_dir"

# -c: our own (empty) config, so no pytest settings from the sdist or the repo leak in.
# PYTHONSAFEPATH: do not put the current directory (which holds the real pymarc's source) on sys.path.
PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONSAFEPATH=1 \
    "$PYTHON" -m pytest -c "$here/pytest.ini" --rootdir "$sdist_dir" -p redirect \
    -p no:cacheprovider "$@" test
