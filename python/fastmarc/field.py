"""`Field` (native), the `Subfield`/`Indicators` tuples, `RawField` and `map_marc8_field`."""

import logging
import typing  # noqa: F401
from collections import defaultdict  # noqa: F401
from collections.abc import Iterator, Sequence  # noqa: F401
from typing import NamedTuple  # noqa: F401

from fastmarc._native import Field
from fastmarc._types import Indicators, Subfield
from fastmarc.constants import END_OF_FIELD, SUBFIELD_INDICATOR
from fastmarc.marc8 import marc8_to_unicode

# pymarc's logger name, so logging set up for pymarc applies here too.
logger = logging.getLogger("pymarc")

__all__ = ["Field", "Indicators", "RawField", "Subfield", "logger", "map_marc8_field"]

_END_OF_FIELD = END_OF_FIELD.encode("ascii")
_SUBFIELD_INDICATOR = SUBFIELD_INDICATOR.encode("ascii")


class RawField(Field):
    """A field whose data and subfield values are undecoded `bytes`.

    Readers produce these with `to_unicode=False`; `as_marc` writes the bytes unchanged.
    """

    def as_marc(self, encoding: str | None = None) -> bytes:
        """The field in transmission format; `encoding` is ignored (with a warning)."""
        if encoding is not None:
            logger.warning("Attempt to force a RawField into encoding %s", encoding)
        if self.control_field:
            return self.data + _END_OF_FIELD
        parts = [self.indicator1.encode("ascii"), self.indicator2.encode("ascii")]
        for code, value in self.subfields:
            parts += (_SUBFIELD_INDICATOR, code.encode("ascii"), value)
        parts.append(_END_OF_FIELD)
        return b"".join(parts)

    as_marc21 = as_marc


def map_marc8_field(f: Field) -> Field:
    """Decode `f`'s data or subfield values from MARC-8 in place; returns `f`."""
    if f.control_field:
        f.data = marc8_to_unicode(f.data)
    else:
        f.subfields = [Subfield(code, marc8_to_unicode(value)) for code, value in f.subfields]
    return f
