#!/usr/bin/env bash
# Fuzz smoke test: build every fuzz target in fuzz/ (cargo-fuzz, libFuzzer) and run each for
# a few seconds on a corpus seeded from the test data. Fails if any target finds a crash, a
# hang or a broken property. Long runs and reproducing a failure: docs/FUZZING.md.
#
# Environment: FUZZ_SECONDS (per target, default 10), FUZZ_SANITIZER (default address).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-address}"
# cargo-fuzz passes nightly-only flags (-Z sanitizer, -C passes=sancov); the stable
# compiler accepts them with this.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install --locked "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

echo "==> rustfmt of the fuzz crate"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

echo "==> seed corpus"
"${PYTHON:-python3}" fuzz/seed_corpus.py

echo "==> building the fuzz targets (sanitizer: $FUZZ_SANITIZER)"
# One build of all targets: they share the instrumented dependencies.
cargo fuzz build --sanitizer "$FUZZ_SANITIZER"

failed=()
for target in $(cargo fuzz list); do
    echo "==> $target: ${FUZZ_SECONDS}s"
    log="fuzz/artifacts/$target.smoke.log"
    mkdir -p fuzz/artifacts
    # -timeout: an input taking 10 s is a hang. The seed corpus is run whole first.
    if cargo fuzz run --sanitizer "$FUZZ_SANITIZER" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" || true
    else
        failed+=("$target")
        tail -n 60 "$log"
        echo "FAILED: $target (full log: $log; the input is saved under fuzz/artifacts/$target/)"
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz smoke failed: ${failed[*]}"
    exit 1
fi
echo "fuzz smoke: all $(cargo fuzz list | wc -l) targets ran without a failure"
