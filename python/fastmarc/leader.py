"""The record leader: 24 characters, readable and writable by position or by name."""

from typing import Union  # noqa: F401

from fastmarc.constants import LEADER_LEN
from fastmarc.exceptions import BadLeaderValue, RecordLeaderInvalid


def _position(start: int, width: int, label: str, size_text: str) -> property:
    """A property for leader positions start..start+width-1.

    `size_text` is the size pymarc states in its error message; for the two 5-character
    positions pymarc says "4 chars", and programs may match that text, so it is kept.
    """
    end = start + width

    def get(self: "Leader") -> str:
        if width == 1:
            return self.leader[start]
        return self.leader[start:end]

    def put(self: "Leader", value: str) -> None:
        if len(value) != width:
            raise BadLeaderValue(f"{label} is {size_text} field, got {value}")
        self._replace_values(position=start, value=value)

    where = f"{start:02d}" if width == 1 else f"{start:02d}-{end - 1:02d}"
    return property(get, put, doc=f"{label} (leader position {where}).")


class Leader:
    """The leader of a MARC record, kept as its 24-character string in `leader`.

    Positions can be read and written by index (`leader[5]`), by slice (`leader[0:5]`),
    by name (`leader["record_status"]`) or through the named properties
    (`leader.record_status = "c"`). `str(leader)` is the 24 characters.
    """

    def __init__(self, leader: str) -> None:
        if len(leader) != LEADER_LEN:
            raise RecordLeaderInvalid
        self.leader = leader

    def __getitem__(self, item: str | int | slice) -> str:
        if isinstance(item, (int, slice)):
            return self.leader[item]
        return getattr(self, item)

    def __setitem__(self, item: str | int | slice, value: str) -> None:
        # As in pymarc a slice only fixes where writing starts; the value's own
        # length decides how many positions are overwritten.
        if isinstance(item, slice):
            self._replace_values(position=item.start or 0, value=value)
        elif isinstance(item, int):
            self._replace_values(position=item, value=value)
        else:
            setattr(self, item, value)

    def __str__(self) -> str:
        return self.leader

    def _replace_values(self, position: int, value: str) -> None:
        """Overwrite the characters from `position` on with `value`."""
        if position < 0:
            raise IndexError("Position must be positive")
        end = position + len(value)
        if end > LEADER_LEN:
            raise BadLeaderValue(f"{value} is too long to be inserted at {position}")
        self.leader = self.leader[:position] + value + self.leader[end:]

    record_length = _position(0, 5, "Record length", "4 chars")
    record_status = _position(5, 1, "Record status", "1 char")
    type_of_record = _position(6, 1, "Type of record", "1 char")
    bibliographic_level = _position(7, 1, "Bibliographic level", "1 char")
    type_of_control = _position(8, 1, "Type of control", "1 char")
    coding_scheme = _position(9, 1, "Character coding scheme", "1 char")
    indicator_count = _position(10, 1, "Indicator count", "1 char")
    subfield_code_count = _position(11, 1, "Subfield code count", "1 char")
    base_address = _position(12, 5, "Base address of data", "4 chars")
    encoding_level = _position(17, 1, "Encoding level", "1 char")
    cataloging_form = _position(18, 1, "Descriptive cataloging form", "1 char")
    # The double "s" is pymarc's spelling, which callers use.
    multipart_ressource = _position(19, 1, "Multipart resource record level", "1 char")
    length_of_field_length = _position(20, 1, "Length of the length-of-field portion", "1 char")
    starting_character_position_length = _position(
        21, 1, "Length of the starting-character-position portion", "1 char"
    )
    implementation_defined_length = _position(
        22, 1, "Length of the implementation-defined portion", "1 char"
    )
