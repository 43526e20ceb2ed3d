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
cargo publish --dry-run --allow-dirty -p fastmarc -p fastmarc-cli
