"""Unicode to MARC-8, beyond pymarc: for systems that still require MARC-8 records.

Characters MARC-8 cannot represent are written as the LC-documented `&#xXXXX;` reference
and reported with a warning. The encoder is the Rust core's (`fastmarc::marc8`).
"""

from __future__ import annotations

import warnings

from fastmarc._native import Record, marc_to_marc8, unicode_to_marc8

__all__ = ["record_to_marc8", "unicode_to_marc8"]


class MARC8Warning(UserWarning):
    """A character MARC-8 cannot represent was written as `&#xXXXX;`."""


def record_to_marc8(record: Record) -> bytes:
    """The record as ISO 2709 in MARC-8, leader/09 blank (`as_marc()` gives UTF-8)."""
    data, problems = marc_to_marc8(record.as_marc())
    for problem in problems:
        warnings.warn(problem, MARC8Warning, stacklevel=2)
    return data
