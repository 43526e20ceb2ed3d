"""The MARC-8 code tables, in the shape of pymarc 5.4.0's `marc8_mapping` module.

The tables are the core's (the ones the decoder uses); this module presents them as pymarc
does: `CHARSET_xx` maps a code to `(Unicode code point, is_combining)` for the character set
with final byte 0xXX, `CODESETS` maps the final byte to its table, and `ODD_MAP` maps the
few extra three-byte codes the decoder accepts to a code point.
"""

from fastmarc import _native

CHARSET_31 = _native.marc8_code_table(0x31)
CHARSET_32 = _native.marc8_code_table(0x32)
CHARSET_33 = _native.marc8_code_table(0x33)
CHARSET_34 = _native.marc8_code_table(0x34)
CHARSET_42 = _native.marc8_code_table(0x42)
CHARSET_45 = _native.marc8_code_table(0x45)
CHARSET_4E = _native.marc8_code_table(0x4E)
CHARSET_51 = _native.marc8_code_table(0x51)
CHARSET_53 = _native.marc8_code_table(0x53)
CHARSET_62 = _native.marc8_code_table(0x62)
CHARSET_67 = _native.marc8_code_table(0x67)
CHARSET_70 = _native.marc8_code_table(0x70)

CODESETS = {
    0x34: CHARSET_34,
    0x45: CHARSET_45,
    0x33: CHARSET_33,
    0x32: CHARSET_32,
    0x31: CHARSET_31,
    0x70: CHARSET_70,
    0x51: CHARSET_51,
    0x53: CHARSET_53,
    0x42: CHARSET_42,
    0x62: CHARSET_62,
    0x67: CHARSET_67,
    0x4E: CHARSET_4E,
}

ODD_MAP = _native.marc8_odd_map()
