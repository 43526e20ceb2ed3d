#!/usr/bin/env bash
# What crates.io would get: the published crates hold no tests, benches or test data, and
# `cargo publish --dry-run` packages and builds both. Both in one run, so fastmarc-cli's
# dependency on the not yet published fastmarc resolves to the fastmarc packaged here.
# --allow-dirty lets it run on a working tree with uncommitted changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

for crate in fastmarc fastmarc-cli; do
    files="$(cargo package --list --allow-dirty -p "$crate")"
    if grep -E '^(tests|benches|fuzz|data)/' <<<"$files"; then
        echo "error: the $crate package holds the files above" >&2
        exit 1
    fi
    echo "$crate: $(wc -l <<<"$files") files, no tests, benches or data"
done
# Its own build folder, with the packaged fastmarc's build products cleared first: cargo takes
# a registry crate of the same name and version as unchanged, so it would link fastmarc-cli
# against the fastmarc packaged by an earlier run, not the one packaged now.
# The same holds for its sources: cargo unpacks the packaged fastmarc into CARGO_HOME as it
# would a downloaded crate, and reuses a copy unpacked by an earlier run. fastmarc is not
# on crates.io, so every unpacked copy there is one of these runs'.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/fastmarc-[0-9]*
export CARGO_TARGET_DIR="$PWD/target/publish-check"
rm -rf "$CARGO_TARGET_DIR"/debug/.fingerprint/fastmarc-* "$CARGO_TARGET_DIR"/debug/deps/*fastmarc* \
    "$CARGO_TARGET_DIR"/package
cargo publish --dry-run --allow-dirty -p fastmarc -p fastmarc-cli
