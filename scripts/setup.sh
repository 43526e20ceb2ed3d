#!/usr/bin/env bash
# Quick start, step 1: install everything (scripts/install.sh), then run the main job:
# read the bundled sample with fastmarc and print a summary and the first record.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install.sh

printf '\n==> main job: python3 examples/summary.py data/sample.mrc\n'
"${PYTHON:-python3}" examples/summary.py data/sample.mrc
