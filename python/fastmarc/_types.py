"""Small value types shared by the native `Record`/`Field` and the Python modules."""

from typing import NamedTuple


class Subfield(NamedTuple):
    """One subfield of a data field: a one-character code and its value."""

    code: str
    value: str


class Indicators(NamedTuple):
    """The two indicator characters of a data field."""

    first: str
    second: str
