"""ISO 2709 bytes built by hand, so that a test can break exactly one thing in a record, and
the ways a test hands those bytes to a reader (path, bytes, file object).

Shared by the hostile-input, fault and round-trip tests; not a test module itself.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

RT = b"\x1d"  # record terminator
FT = b"\x1e"  # field terminator
SD = b"\x1f"  # subfield delimiter

UTF8_LEADER = b"00000nam a2200000 a 4500"
MARC8_LEADER = b"00000nam  2200000 a 4500"
FIXED_008 = b"870303s1987    nyu           000 0 eng d"


def raw_record(leader: bytes, fields: Iterable[tuple[str, bytes]]) -> bytes:
    """A record from a leader (its length and base address are filled in) and fields given
    as their bytes *without* the field terminator."""
    directory = b""
    data = b""
    for tag, content in fields:
        directory += tag.encode("ascii") + b"%04d%05d" % (len(content) + 1, len(data))
        data += content + FT
    directory += FT
    base = 24 + len(directory)
    total = base + len(data) + 1
    return b"%05d" % total + leader[5:12] + b"%05d" % base + leader[17:24] + directory + data + RT


def small_record(record_id: str, leader: bytes = UTF8_LEADER, title: bytes | None = None) -> bytes:
    """A small valid record: 001 `record_id`, an 008 and a 245 with three subfields."""
    if title is None:
        title = "Café society :".encode()
    return raw_record(
        leader,
        [
            ("001", record_id.encode("ascii")),
            ("008", FIXED_008),
            ("245", b"10" + SD + b"a" + title + SD + b"bthe story /" + SD + b"cby someone."),
        ],
    )


# Layout of small_record("rec1"): leader, three directory entries, the directory's terminator.
BASE = 24 + 3 * 12 + 1
# Where the 245 starts in the data area: 001 "rec1" + FT, then the 40-byte 008 + FT.
F245 = 5 + 41


def put(record: bytes, at: int, value: bytes) -> bytes:
    """`record` with `value` written over the bytes from `at`."""
    return record[:at] + value + record[at + len(value) :]


BACKENDS = ["path", "bytes", "fileobj"]


def reader_input(kind: str, data: bytes, tmp_path: Path):
    """`data` as one of MARCReader's inputs: a path to a file holding it, the bytes
    themselves, or a binary file object."""
    if kind == "bytes":
        return data
    if kind == "fileobj":
        return io.BytesIO(data)
    if kind == "path":
        path = tmp_path / "input.mrc"
        path.write_bytes(data)
        return str(path)
    raise ValueError(f"unknown backend {kind!r}")
