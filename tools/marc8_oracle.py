#!/usr/bin/env python3
"""Print pymarc's marc8_to_unicode results, to cross-check the Rust MARC-8 decoder.

Needs pymarc 5.4.0 importable (``pip install pymarc==5.4.0``).

Input: one MARC-8 string per line, hex-encoded (an empty line is the empty string),
from the files named on the command line or from stdin. Output: one line per input:

    ok <hex of the UTF-8 result> <warnings>
    err

where <warnings> is the "Unable to parse character ..." lines pymarc wrote to stderr,
joined with "|" (empty when none). Other stderr lines (pymarc's "Multi-byte position"
note) are left out.

    python3 tools/marc8_oracle.py inputs.hex > expected.txt
    echo 1b62321b73 | python3 tools/marc8_oracle.py
"""

from __future__ import annotations

import contextlib
import fileinput
import importlib.metadata
import io
import sys

import pymarc
from pymarc import marc8_to_unicode


def run(data: bytes) -> str:
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            text = marc8_to_unicode(data)
    except UnicodeDecodeError:
        return "err"
    warnings = [
        line
        for line in captured.getvalue().splitlines()
        if line.startswith("Unable to parse character")
    ]
    return f"ok {text.encode('utf-8', 'surrogatepass').hex()} {'|'.join(warnings)}".rstrip()


def main() -> None:
    try:
        version = importlib.metadata.version("pymarc")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    if version != "5.4.0":
        sys.stderr.write(f"warning: pymarc {version} ({pymarc.__file__}), not 5.4.0\n")
    out = sys.stdout
    for line in fileinput.input(sys.argv[1:]):
        out.write(run(bytes.fromhex(line.strip())) + "\n")


if __name__ == "__main__":
    main()
