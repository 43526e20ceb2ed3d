#!/usr/bin/env bash
# Quick start, step 2: install (scripts/install.sh), then run every check and test:
# rustfmt, clippy, the Rust tests and doctests, the Rust API docs, a dry run of publishing the
# crates, a fuzz smoke run, the Python tests, pymarc 5.4.0's own test suite run unchanged
# against fastmarc, the same suite against the wheel and the sdist each installed into a fresh
# virtualenv, and the documentation site. Every phase runs even if an earlier one failed; the
# exit status is non-zero if any did.
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

run_phase "install (dependencies, pymarc sdist, fastmarc manylinux wheel)" bash scripts/install.sh
installed=$((${#failed[@]} == 0))
run_phase "rustfmt" cargo fmt --all -- --check --color never
run_phase "clippy" cargo clippy --workspace --all-targets -- -D warnings
run_phase "Rust tests (nextest)" cargo nextest run --workspace --no-fail-fast
run_phase "Rust doctests" cargo test --workspace --doc
run_phase "Rust API docs (cargo doc, warnings are errors)" \
    env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace
run_phase "crates: package contents, cargo publish --dry-run (fastmarc, fastmarc-cli)" \
    bash scripts/check_crates.sh
run_phase "fuzz smoke (every fuzz target briefly, docs/FUZZING.md)" bash scripts/fuzz_smoke.sh
if [[ $installed -eq 1 ]]; then
    run_phase "Python tests" "$PYTHON" -m pytest tests/python
    run_phase "pymarc 5.4.0 test suite against fastmarc" bash tests/pymarc_suite/run.sh
    run_phase "wheel: twine check, fresh virtualenv, smoke test, pymarc suite" \
        bash scripts/check_package.sh wheel
else
    # Without a fresh build the Python tests would test a stale or missing fastmarc.
    summary+=("NOT RUN       Python tests and pymarc suite (install failed)")
fi

run_phase "sdist: twine check, built by pip in a fresh virtualenv, smoke test, pymarc suite" \
    bash scripts/check_package.sh sdist
# Not --quiet: it hides the warnings that --strict counts, and a broken link would pass.
run_phase "documentation site (mkdocs build --strict)" \
    env NO_MKDOCS_2_WARNING=1 "$PYTHON" -m mkdocs build --strict

printf '\n======== summary ========\n'
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'failed: %s\n' "${failed[*]}"
    exit 1
fi
echo "all phases passed"
