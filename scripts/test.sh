#!/usr/bin/env bash
# Quick start, step 2: install (scripts/install.sh), then run every check and test:
# rustfmt, clippy, the Rust tests and doctests, a fuzz smoke run, the Python tests, and
# pymarc 5.4.0's own test suite run unchanged against fastmarc. Every phase runs even if an
# earlier one failed; the exit status is non-zero if any did.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
export PYTHON
export PYMARC_TEST_DIR="${PYMARC_TEST_DIR:-$PWD/cache/pymarc-5.4.0/test}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

failed=()
summary=()

run_phase() {
    local name="$1"
    shift
    printf '\n======== %s ========\n$ %s\n' "$name" "$*"
    local start=$SECONDS status=0
    "$@" || status=$?
    local took=$((SECONDS - start))
    if [[ $status -eq 0 ]]; then
        summary+=("$(printf "ok      %5ss  %s" "$took" "$name")")
    else
        summary+=("$(printf "FAILED  %5ss  %s (exit %s)" "$took" "$name" "$status")")
        failed+=("$name")
    fi
}

run_phase "install (dependencies, pymarc sdist, fastmarc release build)" bash scripts/install.sh
installed=$((${#failed[@]} == 0))
run_phase "rustfmt" cargo fmt --all -- --check --color never
run_phase "clippy" cargo clippy --workspace --all-targets -- -D warnings
run_phase "Rust tests (nextest)" cargo nextest run --workspace --no-fail-fast
run_phase "Rust doctests" cargo test --workspace --doc
run_phase "fuzz smoke (every fuzz target briefly, docs/FUZZING.md)" bash scripts/fuzz_smoke.sh
if [[ $installed -eq 1 ]]; then
    run_phase "Python tests" "$PYTHON" -m pytest tests/python
    run_phase "pymarc 5.4.0 test suite against fastmarc" bash tests/pymarc_suite/run.sh
else
    # Without a fresh build the Python tests would test a stale or missing fastmarc.
    summary+=("NOT RUN       Python tests and pymarc suite (install failed)")
fi

printf '\n======== summary ========\n'
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'failed: %s\n' "${failed[*]}"
    exit 1
fi
echo "all phases passed"
