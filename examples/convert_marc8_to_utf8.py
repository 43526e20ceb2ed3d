#!/usr/bin/env python3
"""Convert a MARC file from MARC-8 to UTF-8.

Reads IN with fastmarc.MARCReader, which decodes MARC-8 text to Unicode as pymarc does
(`to_unicode=True`, the default), sets leader/09 to 'a' (UCS/Unicode) on every record that
was MARC-8, and writes the records to OUT with MARCWriter, which then encodes them as
UTF-8. Records already in UTF-8 are written unchanged. A record that cannot be read is
reported on stderr with its number and left out; the exit status is then 1.

    python3 examples/convert_marc8_to_utf8.py marc8.mrc utf8.mrc

The `fastmarc convert IN OUT` command does the same from the shell.
"""

from __future__ import annotations

import sys

import fastmarc


def convert(source: str, target: str) -> int:
    """Convert `source` into `target`; returns the exit status."""
    from_marc8 = already_utf8 = unreadable = 0
    reader = fastmarc.MARCReader(source)
    writer = fastmarc.MARCWriter(target)
    try:
        for number, record in enumerate(reader, start=1):
            if record is None:
                unreadable += 1
                print(f"{source}: record {number}: cannot be read: {reader.current_exception}", file=sys.stderr)
                continue
            if record.leader.coding_scheme == "a":
                already_utf8 += 1
            else:
                # The text is already Unicode; leader/09 'a' makes as_marc() write it as UTF-8.
                record.leader.coding_scheme = "a"
                from_marc8 += 1
            writer.write(record)
    finally:
        writer.close()
        reader.close()
    print(f"{source} -> {target}: {from_marc8} records converted from MARC-8, "
          f"{already_utf8} already UTF-8, {unreadable} unreadable")
    return 1 if unreadable else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} IN.mrc OUT.mrc")
    sys.exit(convert(sys.argv[1], sys.argv[2]))
