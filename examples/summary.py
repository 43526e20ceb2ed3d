#!/usr/bin/env python3
"""The main job: read a MARC file with fastmarc and print what is in it.

Prints the number of records and fields, then the first record in MARC text form
(what `str(record)` gives, as in pymarc).

    python3 examples/summary.py data/sample.mrc
"""

import sys

import fastmarc as pymarc


def main(path: str) -> int:
    records = fields = unreadable = 0
    first = None
    with open(path, "rb") as handle:
        reader = pymarc.MARCReader(handle)
        for record in reader:
            if record is None:
                # Like pymarc, the reader yields None for a record it cannot parse.
                unreadable += 1
                print(f"record {records + unreadable}: unreadable: {reader.current_exception}", file=sys.stderr)
                continue
            records += 1
            fields += len(record.fields)
            if first is None:
                first = record
    print(f"{path}: {records} records, {fields} fields" + (f", {unreadable} unreadable" if unreadable else ""))
    if first is not None:
        print("\nfirst record:")
        print(first)
    return 1 if unreadable else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} FILE.mrc")
    sys.exit(main(sys.argv[1]))
