"""MARC-8 to Unicode, decoded by the native decoder.

`marc8_to_unicode` and `MARC8ToUnicode` keep pymarc 5.4.0's signatures. The decoding itself
is done in Rust (`fastmarc._native.marc8_to_unicode`), which always starts from the default
character sets (G0 = Basic Latin, G1 = ANSEL). A `MARC8ToUnicode` whose `g0`/`g1` differ from
those gets them by prefixing the designating escape sequences to the data, and, like
pymarc's converter, it remembers the sets the data leaves designated for its next call.
"""

import sys
import unicodedata  # noqa: F401 (a name pymarc's module has)

from fastmarc import _native

# Final bytes that pymarc accepts directly after ESC as a G0 designation (MARC-8
# "technique 2" plus the other character sets it knows).
_DIRECT_G0_FINALS = frozenset(b"4E321pQSBbgN")
_BASIC_LATIN = 0x42
_ANSEL = 0x45
_EACC = 0x31


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


def _designation_prefix(g0: int, g1: int) -> bytes:
    """Escape sequences that designate `g0` and `g1` when they are not the defaults."""
    prefix = b""
    if g0 == _EACC:
        prefix += b"\x1b$1"
    elif g0 != _BASIC_LATIN and 0x21 <= g0 <= 0x7E:
        prefix += b"\x1b(" + bytes((g0,))
    if g1 != _ANSEL and 0x21 <= g1 <= 0x7E:
        prefix += b"\x1b)" + bytes((g1,))
    return prefix


def _next_escape(data: bytes, pos: int, g0: int) -> int:
    """Where the next escape sequence starts, walking characters as pymarc does.

    In the EACC (multibyte) set characters are 3 bytes wide and an ESC inside one is
    data, so only an ESC a multiple of 3 bytes ahead starts a sequence.
    """
    found = data.find(b"\x1b", pos)
    if g0 == _EACC:
        while found >= 0 and (found - pos) % 3:
            found = data.find(b"\x1b", found + 1)
    return found


def _sets_after(data: bytes, g0: int, g1: int) -> tuple[int, int]:
    """The G0 and G1 sets in force after decoding `data`, following pymarc's rules."""
    end = len(data)
    pos = _next_escape(data, 0, g0)
    while 0 <= pos < end:
        intermediate = data[pos + 1 : pos + 2]
        if not intermediate:
            break
        if intermediate in (b"(", b",", b"$"):
            if end < pos + 3:
                # pymarc keeps a cut-off sequence's ESC as text.
                pos = _next_escape(data, pos + 1, g0)
                continue
            if intermediate == b"$" and data[pos + 2] == 0x2C:
                pos += 1
            final = data[pos + 2 : pos + 3]
            if not final:
                break
            g0 = final[0]
            pos = _next_escape(data, pos + 3, g0)
            continue
        if intermediate in (b")", b"-"):
            final = data[pos + 2 : pos + 3]
            if not final:
                break
            g1 = final[0]
            pos = _next_escape(data, pos + 3, g0)
            continue
        if intermediate[0] == 0x73:
            g0 = _BASIC_LATIN
            pos += 2
        elif intermediate[0] in _DIRECT_G0_FINALS:
            g0 = intermediate[0]
            pos += 2
        # The character after such a sequence (or, for an unknown sequence, the ESC
        # itself) is decoded without looking for another escape.
        pos = _next_escape(data, pos + (3 if g0 == _EACC else 1), g0)
    return g0, g1


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
        text = _native.marc8_to_unicode(_designation_prefix(self.g0, self.g1) + data, self.quiet)
        self.g0, self.g1 = _sets_after(data, self.g0, self.g1)
        return text
