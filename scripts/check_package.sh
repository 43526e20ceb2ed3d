#!/usr/bin/env bash
# Tests a distribution as users get it: `wheel` (the manylinux wheel scripts/build_wheel.sh put
# in dist/) or `sdist` (built here into dist/, then built from source by pip with nothing but
# Rust and pip). `twine check` first; then it is installed into a fresh virtualenv outside the
# source tree, and a smoke test (tests/dist/smoke.py) and pymarc 5.4.0's own test suite run
# against the installed package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
PYTHON="${PYTHON:-python3}"
export PYTHON
kind="${1:?usage: check_package.sh wheel|sdist}"

case "$kind" in
    wheel)
        artefact="$(ls dist/fastmarc-*manylinux*.whl)"
        ;;
    sdist)
        rm -f dist/fastmarc-*.tar.gz
        bash scripts/maturin.sh sdist --out dist
        artefact="$(ls dist/fastmarc-*.tar.gz)"
        # The sdist holds no tests, benches or test data: only what a build needs.
        if tar -tzf "$artefact" | grep -E '/(tests|benches|fuzz|data|cache)/'; then
            echo "error: $artefact holds test files (listed above)" >&2
            exit 1
        fi
        ;;
    *)
        echo "usage: check_package.sh wheel|sdist" >&2
        exit 2
        ;;
esac
echo "checking $artefact"
"$PYTHON" -m twine check --strict "$artefact"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The base interpreter's venv: no system site-packages, nothing of the source tree.
"$PYTHON" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
# pip builds the sdist in an isolated environment (maturin from PyPI, then cargo). What is
# checked is that it builds and works, not how fast the result runs (the wheel phase tests
# the optimised build users get), so the sdist is compiled unoptimised, without LTO, in
# parallel codegen units: a fifth of the time. Its own target directory keeps that profile
# from invalidating the release builds in target/.
build_env=()
if [[ $kind == sdist ]]; then
    build_env=(CARGO_TARGET_DIR="$repo/target/sdist-check" CARGO_PROFILE_RELEASE_LTO=false
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0
        CARGO_PROFILE_RELEASE_OPT_LEVEL=0)
fi
env "${build_env[@]}" "$venv_python" -m pip install --quiet --disable-pip-version-check \
    "$artefact" "pytest>=9.0"

cd "$work"
env -u PYTHONPATH PATH="$work/venv/bin:$PATH" "$venv_python" -P "$repo/tests/dist/smoke.py" "$repo"
PYTHON="$venv_python" bash "$repo/tests/pymarc_suite/run.sh" -q
