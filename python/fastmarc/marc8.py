"""MARC-8 to Unicode, decoded by the native decoder.

`marc8_to_unicode` and `MARC8ToUnicode` keep pymarc 5.4.0's signatures. The core decodes:
`marc8_to_unicode` from the default character sets (G0 = Basic Latin, G1 = ANSEL), and
`MARC8ToUnicode.translate` from its `g0`/`g1`, which, like pymarc's converter, then hold the
sets the data left designated, for its next call.
"""

import sys
import unicodedata  # noqa: F401 (a name pymarc's module has)

from fastmarc import _native

_BASIC_LATIN = 0x42
_ANSEL = 0x45


def _lazy_code_tables(module_name: str, module_globals: dict):
    """`__getattr__` and `__dir__` for a module that, like pymarc's, has the MARC-8 code
    tables as `marc8_mapping`: the tables are built on first use, not at import."""
    import importlib

    def __getattr__(name: str):
        if name == "marc8_mapping":
            return importlib.import_module("fastmarc.marc8_mapping")
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*module_globals, "marc8_mapping"])

    return __getattr__, __dir__


__getattr__, __dir__ = _lazy_code_tables(__name__, globals())


def _as_bytes(marc8, quiet: bool) -> bytes:
    """The bytes to decode.

    pymarc also accepts a `str`, reading each character's code point as a byte but never
    seeing an escape sequence in it (its ESC is dropped like other control characters),
    and turning code points above 0xFF, which match no character set, into a space.
    """
    if isinstance(marc8, bytes):
        return marc8
    if not isinstance(marc8, str):
        return bytes(marc8)
    marc8 = marc8.replace("\x1b", "")
    if marc8.isascii():
        return marc8.encode("ascii")
    out = bytearray()
    for char in marc8:
        point = ord(char)
        if point > 0xFF:
            if not quiet:
                sys.stderr.write(
                    f"Unable to parse character 0x{point:x} in g0={_BASIC_LATIN} g1={_ANSEL}\n"
                )
            point = 0x20
        out.append(point)
    return bytes(out)


def marc8_to_unicode(marc8, hide_utf8_warnings: bool = False) -> str:
    """Decode MARC-8 bytes to an NFC-normalised `str`.

    Characters that cannot be mapped become a space and, unless `hide_utf8_warnings` is
    true, are reported on stderr; malformed multibyte data raises `UnicodeDecodeError`.
    """
    if not marc8:
        return ""
    return _native.marc8_to_unicode(_as_bytes(marc8, hide_utf8_warnings), hide_utf8_warnings)


class MARC8ToUnicode:
    """A MARC-8 decoder that keeps its G0/G1 character sets between calls.

    `G0` and `G1` are the final bytes of the sets in force at the start (defaults: Basic
    Latin 0x42 and ANSEL 0x45); `quiet` silences the stderr report of unmappable bytes.
    """

    basic_latin = _BASIC_LATIN
    ansel = _ANSEL

    def __init__(self, G0: int = basic_latin, G1: int = ansel, quiet: bool = False) -> None:
        self.g0 = G0
        self.g1 = G1
        self.quiet = quiet

    def translate(self, marc8_string) -> str:
        """Decode `marc8_string` (bytes) to an NFC-normalised `str`."""
        if not marc8_string:
            return ""
        data = _as_bytes(marc8_string, self.quiet)
        text, self.g0, self.g1 = _native.marc8_translate(data, self.g0, self.g1, self.quiet)
        return text
