#!/usr/bin/env python3
"""Fill fuzz/corpus/<target>/ with seed inputs built from the test data.

Sources: data/sample.mrc and pymarc 5.4.0's test files (cache/pymarc-5.4.0/test, or
$PYMARC_TEST_DIR): its .dat/.mrc files, one record per seed and small files whole; its
.xml and .json files; and each line of test_marc8.txt for the MARC-8 decoder. Seeds are
named by their SHA-1, as libFuzzer names corpus files, so running this again adds nothing
twice. The corpus is git-ignored: it is rebuilt from the data, never committed.

Usage: python3 fuzz/seed_corpus.py [--max-size BYTES]
"""

import argparse
import hashlib
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ISO_TARGETS = ["read_iso2709", "roundtrip", "scan_boundaries", "parallel"]
RECORD_TERMINATOR = b"\x1d"


def iso_seeds(data: bytes, max_size: int):
    """Each record on its own, runs of three, and the whole file when small."""
    records = [r + RECORD_TERMINATOR for r in data.split(RECORD_TERMINATOR) if r.strip()]
    yield from records
    for i in range(0, len(records), 3):
        yield b"".join(records[i : i + 3])
    if len(data) <= max_size:
        yield data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-size",
        type=int,
        default=16384,
        help="largest seed written (bigger inputs fuzz slowly); default 16384",
    )
    args = parser.parse_args()

    test_dir = Path(os.environ.get("PYMARC_TEST_DIR") or REPO / "cache/pymarc-5.4.0/test")
    if not (test_dir / "test.dat").is_file():
        print(
            f"error: pymarc's test data not found in {test_dir}: run scripts/install.sh",
            file=sys.stderr,
        )
        return 1

    seeds = {t: set() for t in ISO_TARGETS + ["marc8_decode", "read_xml", "read_json"]}
    iso_files = [REPO / "data/sample.mrc"] + sorted(
        p for p in test_dir.iterdir() if p.suffix in (".dat", ".mrc")
    )
    for path in iso_files:
        for seed in iso_seeds(path.read_bytes(), args.max_size):
            for t in ISO_TARGETS:
                seeds[t].add(seed)
    for path in sorted(test_dir.glob("*.xml")):
        seeds["read_xml"].add(path.read_bytes())
    for path in sorted(test_dir.glob("*.json")):
        seeds["read_json"].add(path.read_bytes())
    for line in (test_dir / "test_marc8.txt").read_bytes().splitlines():
        if line:
            seeds["marc8_decode"].add(line)

    for target, inputs in seeds.items():
        out = REPO / "fuzz/corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        added = 0
        for data in inputs:
            if len(data) > args.max_size:
                continue
            path = out / hashlib.sha1(data).hexdigest()
            if not path.exists():
                path.write_bytes(data)
                added += 1
        total = sum(1 for _ in out.iterdir())
        print(f"{target:16} {added:5} seeds added, {total:5} in {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
