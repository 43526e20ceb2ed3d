#!/usr/bin/env python3
"""Generate crates/fastmarc/src/marc8/tables.rs from the MARC-8 code tables.

The Library of Congress MARC-8 code tables are read from the data module
``pymarc/marc8_mapping.py`` of a pymarc source distribution, so that the Rust
decoder uses exactly the same mapping as pymarc.

Usage:
    python3 tools/gen_marc8_tables.py [SOURCE] [-o OUTPUT]

SOURCE is a pymarc sdist (.tar.gz), an unpacked sdist directory, or the
marc8_mapping.py file itself. Default: /work/cache/pymarc-5.4.0.tar.gz.
OUTPUT defaults to crates/fastmarc/src/marc8/tables.rs next to this script's
repository root.

Layout of the generated tables (see the Rust doc comments in the output):
  * every character set gets a dense 256-entry table for its one-byte codes;
  * codes above 0xFF (only EACC has them) go into one sorted array searched by
    binary search inside the bucket of the code's first byte;
  * an entry is the Unicode scalar value, with bit 31 set for combining marks,
    bit 30 set for characters that need no NFC work (a starter with
    NFC_Quick_Check=Yes, worked out with this Python's unicodedata), and 0 for
    "no mapping" (no MARC-8 code maps to U+0000; checked below).

Takes about ten seconds (a pass over all code points for the NFC flag).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tarfile
import tempfile
import unicodedata
from pathlib import Path

DEFAULT_SOURCE = "/work/cache/pymarc-5.4.0.tar.gz"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "crates" / "fastmarc" / "src" / "marc8" / "tables.rs"

COMBINING_BIT = 1 << 31
NFC_BOUNDARY_BIT = 1 << 30

# Names for the Rust statics, keyed by the final byte of the designating escape.
SET_NAMES = {
    0x31: ("EACC", "East Asian (EACC: Chinese, Japanese, Korean), three bytes a character"),
    0x32: ("BASIC_HEBREW", "basic Hebrew"),
    0x33: ("BASIC_ARABIC", "basic Arabic"),
    0x34: ("EXTENDED_ARABIC", "extended Arabic"),
    0x42: ("BASIC_LATIN", "basic Latin (ASCII)"),
    0x45: ("ANSEL", "extended Latin (ANSEL)"),
    0x4E: ("BASIC_CYRILLIC", "basic Cyrillic"),
    0x51: ("EXTENDED_CYRILLIC", "extended Cyrillic"),
    0x53: ("BASIC_GREEK", "basic Greek"),
    0x62: ("SUBSCRIPTS", "subscripts"),
    0x67: ("GREEK_SYMBOLS", "Greek symbols"),
    0x70: ("SUPERSCRIPTS", "superscripts"),
}


def load_mapping(source: Path):
    """Import marc8_mapping.py from an sdist tarball, a directory or the file."""
    with tempfile.TemporaryDirectory() as tmp:
        if source.is_file() and source.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(source) as tar:
                members = [
                    m
                    for m in tar.getmembers()
                    if m.isfile() and m.name.endswith("pymarc/marc8_mapping.py")
                ]
                if not members:
                    sys.exit(f"{source}: no pymarc/marc8_mapping.py inside")
                data = tar.extractfile(members[0]).read()
            path = Path(tmp) / "marc8_mapping.py"
            path.write_bytes(data)
        elif source.is_dir():
            path = source / "pymarc" / "marc8_mapping.py"
            if not path.is_file():
                path = source / "marc8_mapping.py"
        else:
            path = source
        if not path.is_file():
            sys.exit(f"cannot find marc8_mapping.py from {source}")
        spec = importlib.util.spec_from_file_location("_marc8_mapping_data", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def _second_elements() -> frozenset:
    """Characters that can be the second half of a primary composite."""
    seconds = set()
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp):
            seconds.add(parts[1])
    # Hangul syllables compose algorithmically (no decomposition mapping listed):
    # vowel jamo after a leading consonant, trailing consonant jamo after an LV syllable.
    seconds.update(range(0x1161, 0x1176))
    seconds.update(range(0x11A8, 0x11C3))
    return frozenset(seconds)


_SECONDS: frozenset | None = None


def nfc_boundary(uni: int) -> bool:
    """A starter with NFC_Quick_Check=Yes: NFC by itself, and nothing before it composes
    or reorders with it, so text can be normalised in pieces split before it.

    Python has no quick-check accessor; "canonical combining class 0, NFC by itself,
    never the second half of a primary composite" is the same set. The Rust tests check
    every flagged entry against the normalisation crate's own data.
    """
    global _SECONDS
    if _SECONDS is None:
        _SECONDS = _second_elements()
    c = chr(uni)
    if unicodedata.combining(c) != 0 or unicodedata.normalize("NFC", c) != c:
        return False
    if uni in _SECONDS:
        return False
    # The decomposition must start with such a starter too (it does for every character
    # passing the tests above; checked anyway).
    first = unicodedata.normalize("NFD", c)[0]
    return unicodedata.combining(first) == 0 and ord(first) not in _SECONDS


def entry(uni: int, combining) -> int:
    if not isinstance(uni, int) or not 0 < uni <= 0x10FFFF or 0xD800 <= uni <= 0xDFFF:
        raise ValueError(f"not a usable Unicode scalar value: {uni!r}")
    if combining not in (0, 1, False, True):
        raise ValueError(f"unexpected combining flag {combining!r}")
    e = uni
    if combining:
        e |= COMBINING_BIT
    if nfc_boundary(uni):
        e |= NFC_BOUNDARY_BIT
    return e


def rust_u32_array(values, per_line: int = 10) -> str:
    width = max(6, max(len(f"{v:X}") for v in values))
    lines = []
    for i in range(0, len(values), per_line):
        chunk = values[i : i + per_line]
        lines.append("    " + " ".join(f"0x{v:0{width}X}," for v in chunk))
    return "\n".join(lines)


def generate(mapping, source_label: str) -> str:
    codesets = mapping.CODESETS
    odd_map = mapping.ODD_MAP

    finals = sorted(codesets)
    for final in finals:
        if final not in SET_NAMES:
            raise ValueError(f"unknown character set final byte 0x{final:02X}")
        if not 0 <= final <= 0xFF:
            raise ValueError(f"final byte out of range: {final}")

    out = []
    w = out.append
    w(
        "// @generated by tools/gen_marc8_tables.py from the Library of Congress MARC-8 code\n"
        "// tables, as published in pymarc's data (pymarc/marc8_mapping.py"
        f" in {source_label}).\n"
        "// Do not edit by hand: re-run the script instead.\n"
        "\n"
        "//! MARC-8 code tables.\n"
        "//!\n"
        "//! An entry is a Unicode scalar value (bits 0..=20), with [`COMBINING`] set for\n"
        "//! combining marks and [`NFC_BOUNDARY`] for characters that never need NFC work;\n"
        "//! [`UNMAPPED`] (0) means the code has no mapping in that character set.\n"
        "\n"
        "/// Entry bit marking a combining mark (MARC-8 sends it before its base character).\n"
        "pub const COMBINING: u32 = 1 << 31;\n"
        "/// Entry bit marking a starter with NFC_Quick_Check=Yes: NFC on its own, and\n"
        "/// nothing before it composes or reorders with it. Text made only of such\n"
        "/// characters is already NFC.\n"
        "pub const NFC_BOUNDARY: u32 = 1 << 30;\n"
        "/// Mask for the Unicode scalar value in an entry.\n"
        "pub const CHAR_MASK: u32 = 0x1F_FFFF;\n"
        "/// Entry value of a code without a mapping.\n"
        "pub const UNMAPPED: u32 = 0;\n"
        "\n"
    )
    for final in finals:
        w(
            f"/// Final byte of the escape sequence designating {SET_NAMES[final][1]}.\n"
            f"pub const {SET_NAMES[final][0]}: u8 = 0x{final:02X};\n"
        )
    w("\n")
    w("/// Final bytes of all character sets that have a code table.\n")
    w(f"pub const CHARSETS: [u8; {len(finals)}] = [\n")
    for f in finals:
        w(f"    {SET_NAMES[f][0]},\n")
    w("];\n\n")
    w(
        "/// True when `final_byte` designates a character set that has a code table.\n"
        "pub fn is_charset(final_byte: u8) -> bool {\n"
        "    CHARSETS.contains(&final_byte)\n"
        "}\n\n"
    )

    # Dense one-byte tables.
    dense_names = {}
    multi = []  # (code, entry) for codes > 0xFF
    for final in finals:
        table = [0] * 256
        has_single = False
        for code, value in codesets[final].items():
            uni, combining = value
            e = entry(uni, combining)
            if not isinstance(code, int) or code < 0:
                raise ValueError(f"bad code {code!r}")
            if code <= 0xFF:
                table[code] = e
                has_single = True
            else:
                if final != 0x31:
                    raise ValueError(
                        f"multi-byte code 0x{code:X} outside EACC (set 0x{final:02X})"
                    )
                if code > 0xFFFFFF:
                    raise ValueError(f"EACC code longer than three bytes: 0x{code:X}")
                multi.append((code, e))
        if has_single:
            name = f"{SET_NAMES[final][0]}_BYTES"
            dense_names[final] = name
            w(f"#[rustfmt::skip]\nstatic {name}: [u32; 256] = [\n")
            w(rust_u32_array(table, 16))
            w("\n];\n\n")

    w("#[rustfmt::skip]\nstatic NO_BYTES: [u32; 256] = [UNMAPPED; 256];\n\n")
    w(
        "/// The one-byte code table of a character set (codes 0x00..=0xFF, looked up by the\n"
        "/// raw byte). Sets without one-byte codes, and unknown final bytes, give an all\n"
        "/// [`UNMAPPED`] table.\n"
        "pub fn single_byte(final_byte: u8) -> &'static [u32; 256] {\n"
        "    match final_byte {\n"
    )
    for final in finals:
        if final in dense_names:
            w(f"        {SET_NAMES[final][0]} => &{dense_names[final]},\n")
    w("        _ => &NO_BYTES,\n    }\n}\n\n")

    # EACC three-byte codes: sorted codes, parallel entries, and the start index of
    # each first-byte bucket.
    multi.sort()
    codes = [c for c, _ in multi]
    entries = [e for _, e in multi]
    starts = []
    i = 0
    for first in range(257):
        while i < len(codes) and (codes[i] >> 16) < first:
            i += 1
        starts.append(i)
    if len(codes) >= 1 << 16:
        raise ValueError("too many EACC codes for u16 bucket starts")
    w(f"const EACC_LEN: usize = {len(codes)};\n\n")
    w("/// EACC codes above 0xFF, ascending.\n")
    w("#[rustfmt::skip]\nstatic EACC_CODES: [u32; EACC_LEN] = [\n")
    w(rust_u32_array(codes))
    w("\n];\n\n")
    w("/// Entries for [`EACC_CODES`], index for index.\n")
    w("#[rustfmt::skip]\nstatic EACC_ENTRIES: [u32; EACC_LEN] = [\n")
    w(rust_u32_array(entries))
    w("\n];\n\n")
    w(
        "/// `EACC_CODES[EACC_BUCKETS[b] as usize..EACC_BUCKETS[b + 1] as usize]` holds the\n"
        "/// codes whose first byte is `b`.\n"
    )
    w("#[rustfmt::skip]\nstatic EACC_BUCKETS: [u16; 257] = [\n")
    lines = []
    for k in range(0, 257, 12):
        lines.append("    " + " ".join(f"{s}," for s in starts[k : k + 12]))
    w("\n".join(lines))
    w("\n];\n\n")
    w(
        "/// Entry for a three-byte EACC code (`b1 << 16 | b2 << 8 | b3`).\n"
        "pub fn eacc(code: u32) -> u32 {\n"
        "    if code > 0xFF_FFFF {\n"
        "        return UNMAPPED;\n"
        "    }\n"
        "    if code <= 0xFF {\n"
        "        return single_byte(EACC)[code as usize];\n"
        "    }\n"
        "    let first = (code >> 16) as usize;\n"
        "    let lo = EACC_BUCKETS[first] as usize;\n"
        "    let hi = EACC_BUCKETS[first + 1] as usize;\n"
        "    match EACC_CODES[lo..hi].binary_search(&code) {\n"
        "        Ok(i) => EACC_ENTRIES[lo + i],\n"
        "        Err(_) => UNMAPPED,\n"
        "    }\n"
        "}\n\n"
    )
    w(
        "/// All EACC codes above 0xFF with their entries, ascending.\n"
        "pub fn eacc_codes() -> impl Iterator<Item = (u32, u32)> {\n"
        "    EACC_CODES.iter().copied().zip(EACC_ENTRIES.iter().copied())\n"
        "}\n\n"
    )
    if any(c in codesets[0x31] for c in odd_map):
        raise ValueError("ODD_MAP code also in EACC; the decoder's lookup order matters")
    w(
        "/// Extra three-byte codes outside the LC tables (seen in records from some vendor\n"
        "/// systems), tried when the current set has no mapping. Never combining, all\n"
        "/// [`NFC_BOUNDARY`] characters.\n"
        "pub fn odd(code: u32) -> Option<char> {\n"
        "    match code {\n"
    )
    for code in sorted(odd_map):
        uni = odd_map[code]
        if not entry(uni, 0) & NFC_BOUNDARY_BIT:
            raise ValueError(f"ODD_MAP value U+{uni:04X} needs NFC work; the decoder assumes not")
        w(f"        0x{code:06X} => Some('\\u{{{uni:04X}}}'),\n")
    w("        _ => None,\n    }\n}\n")
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", default=DEFAULT_SOURCE)
    parser.add_argument("-o", "--output", default=str(DEFAULT_OUTPUT))
    args = parser.parse_args()
    source = Path(args.source)
    if not source.exists():
        sys.exit(
            f"{source} not found: pass a pymarc 5.4.0 sdist (pymarc-5.4.0.tar.gz), "
            "its unpacked directory, or marc8_mapping.py"
        )
    mapping = load_mapping(source)
    label = source.name
    for suffix in (".tar.gz", ".tgz"):
        label = label.removesuffix(suffix)
    if source.is_file() and source.name == "marc8_mapping.py":
        label = "a pymarc source tree"
    text = generate(mapping, label)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".rs.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, output)
    print(f"wrote {output} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
