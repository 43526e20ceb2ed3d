"""The ``fastmarc`` command (count, stats, convert, dump, validate, split, cat).

The command itself is written in Rust; this module is its console-script entry point
(``fastmarc``) and also runs as ``python -m fastmarc.cli``.
"""

from __future__ import annotations

import sys

from fastmarc import _native

EXIT_INTERRUPTED = 130


def main() -> None:
    """Run the command with this process's arguments and exit with its status."""
    try:
        status = _native.run_cli(["fastmarc", *sys.argv[1:]])
    except KeyboardInterrupt:
        sys.stderr.write("fastmarc: interrupted\n")
        status = EXIT_INTERRUPTED
    sys.exit(status)


if __name__ == "__main__":
    main()
