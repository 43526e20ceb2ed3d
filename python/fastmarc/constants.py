"""Lengths and delimiter characters of the MARC 21 transmission format (ISO 2709)."""

LEADER_LEN = 24
DIRECTORY_ENTRY_LEN = 12
SUBFIELD_INDICATOR = "\x1f"
END_OF_FIELD = "\x1e"
END_OF_RECORD = "\x1d"
