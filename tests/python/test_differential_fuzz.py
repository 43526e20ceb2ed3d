"""Differential fuzz against the real pymarc 5.4.0 (issue 24, 4): mutated real-style records,
and mutated MARCXML documents, go to both libraries, and for each input both must give the
same records or raise the same exception type. Seeded, so every run tries the same inputs;
a failure lists the inputs.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
import warnings
from pathlib import Path

import pytest

import fastmarc
import pymarc

SEED = 20240524
MUTANTS = 6000
DIGITS = b"0123456789"
ODD_BYTES = b" x-+.\x1d\x1e\x1f\x00\xff\xc3\x1b"


def seed_records(pymarc_test_dir: Path) -> list[bytes]:
    """Well-formed records: the bundled UTF-8 sample and MARC-8 and UTF-8 files of pymarc's data."""
    sources = [Path(__file__).resolve().parents[2] / "data" / "sample.mrc"]
    sources += [pymarc_test_dir / name for name in ("marc8.dat", "test.dat", "utf8_with_leader_flag.dat", "diacritic.dat")]
    records = []
    for source in sources:
        data = source.read_bytes()
        while len(data) >= 5 and data[:5].isdigit():
            length = int(data[:5])
            records.append(data[:length])
            data = data[length:]
    return records


def mutate(rng: random.Random, record: bytes) -> bytes:
    data = bytearray(record)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            break
        base = int(data[12:17]) if data[12:17].isdigit() else 24
        how = rng.randrange(9)
        if how == 0:  # any byte, anywhere
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif how == 1:  # a leader number or directory digit that is not a digit
            at = rng.choice((rng.randrange(0, 5), rng.randrange(12, 17), rng.randrange(24, max(25, base))))
            if at < len(data):
                data[at] = rng.choice(ODD_BYTES)
        elif how == 2:  # a different directory number
            at = rng.randrange(24, max(25, base))
            if at < len(data):
                data[at] = rng.choice(DIGITS)
        elif how == 3:  # cut short
            del data[rng.randrange(len(data)) :]
        elif how == 4:  # a byte lost
            del data[rng.randrange(len(data))]
        elif how == 5:  # a byte added
            data.insert(rng.randrange(len(data) + 1), rng.choice(ODD_BYTES + DIGITS))
        elif how == 6:  # a delimiter, terminator or escape where text was
            if len(data) > base:
                data[rng.randrange(base, len(data))] = rng.choice(b"\x1d\x1e\x1f\x1b")
        elif how == 7:  # the other character coding scheme
            if len(data) > 9:
                data[9] = ord(rng.choice(" a"))
        else:  # a non-ASCII byte where a subfield code or indicator is
            positions = [i for i, b in enumerate(data) if b in (0x1f, 0x1e) and i + 1 < len(data)]
            if positions:
                data[rng.choice(positions) + 1] = rng.randrange(0x80, 0x100)
    return bytes(data)


def view(record) -> tuple:
    fields = []
    for field in record.fields:
        if field.control_field:
            fields.append((field.tag, field.data))
        else:
            fields.append((field.tag, tuple(field.indicators), [tuple(s) for s in field.subfields]))
    return str(record.leader), fields


def swallows_the_stream(data: bytes) -> bool:
    """A record length below five, which pymarc's reader takes as "read the rest of the
    stream" (a negative read size), merging whatever follows into one record. fastmarc
    reports the broken framing instead, by design (test_hostile_inputs covers it): for
    these inputs only `Record(data=...)` is compared, and the reader must say
    EndOfRecordNotFound."""
    try:
        return len(data) >= 5 and int(data[:5]) < 5
    except ValueError:
        return False


def outcome(lib, data: bytes) -> tuple:
    """`Record(data=...)`: the record, or the exception type; then what a reader gives."""
    try:
        direct = ("record", view(lib.Record(data=data)))
    except Exception as error:  # noqa: BLE001 - the type is the result compared
        direct = ("raises", type(error).__name__)
    read = []
    reader = lib.MARCReader(data)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except Exception as error:  # noqa: BLE001
            read.append(("raises", type(error).__name__))
            break
        if record is None:
            read.append(("bad", type(reader.current_exception).__name__))
        else:
            read.append(("record", view(record)))
        if len(read) > 5:
            break
    return direct, read


@contextlib.contextmanager
def quiet():
    """Both libraries' diagnostics out of the way (test_diagnostics compares them)."""
    logger = logging.getLogger("pymarc")
    disabled = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = disabled


def test_mutated_records_give_pymarcs_record_or_exception_type(pymarc_test_dir: Path) -> None:
    seeds = seed_records(pymarc_test_dir)
    assert len(seeds) >= 50
    rng = random.Random(SEED)
    mutants = [mutate(rng, rng.choice(seeds)) for _ in range(MUTANTS)]
    assert len(set(mutants)) > MUTANTS * 0.9, "mutations too alike to be worth comparing"
    differences = []
    kinds: dict[str, int] = {}
    with quiet():
        for number, data in enumerate(mutants):
            theirs = outcome(pymarc, data)
            ours = outcome(fastmarc, data)
            kind = theirs[0][0] if theirs[0][0] == "record" else theirs[0][1]
            kinds[kind] = kinds.get(kind, 0) + 1
            if swallows_the_stream(data):
                assert ours[1] == [("bad", "EndOfRecordNotFound")], (number, ours)
                theirs, ours = theirs[0], ours[0]
            if ours != theirs:
                differences.append((number, data, theirs, ours))
    # The mutations must reach both good records and several kinds of error.
    assert kinds.get("record", 0) > MUTANTS // 10 and len(kinds) >= 5, kinds
    report = "\n".join(
        f"mutant {n}: {data[:40]!r}...\n  pymarc:   {str(t)[:300]}\n  fastmarc: {str(o)[:300]}"
        for n, data, t, o in differences[:8]
    )
    assert not differences, f"{len(differences)} of {MUTANTS} inputs differ:\n{report}"


DOCUMENT_MUTANTS = 800
# Characters XML does not allow, and some it does, as themselves and as references.
XML_INSERTS = [b"\x00", b"\x01", b"\x1b", b"\x1f", b"\x0b", "\ufffe".encode(), "\uffff".encode(), b"\t",
               "\u00e9".encode(), b"&#1;", b"&#x1F;", b"&#xFFFE;", b"&#9;", b"&#65;", b"&#x10000;", b"&#0;",
               b"&nbsp;", b"<", b"'", b'"', b" ", b"="]
# No lone surrogate escape (\ud800): text that UTF-8 cannot hold is a documented difference
# (README, "Two things differ").
JSON_INSERTS = [b'"', b",", b":", b"{", b"}", b"[", b"]", b"\\", b"\\u0000", b"\\u00e9", b"null", b"1", b'""',
                b"\x00", b"\x1f", "\u00e9".encode(), b" "]


def mutate_document(rng: random.Random, document: bytes, inserts: list[bytes]) -> bytes:
    data = bytearray(document)
    for _ in range(rng.choice((1, 1, 2, 3))):
        at = rng.randrange(len(data))
        how = rng.randrange(3)
        if how == 0:  # something inserted
            data[at:at] = rng.choice(inserts)
        elif how == 1:  # a byte lost
            del data[at]
        else:  # a stretch of the document repeated elsewhere
            source = rng.randrange(len(data))
            data[at:at] = data[source : source + rng.randrange(1, 20)]
    return bytes(data)


def document_outcome(read) -> tuple:
    try:
        return ("records", [view(r) for r in read()])
    except Exception as error:  # noqa: BLE001 - the type is the result compared
        return ("raises", type(error).__name__)


def differences_from_pymarc(document: bytes, inserts: list[bytes], read) -> list:
    """Mutants of `document` read by `read(lib, data)` with each library: those that differ."""
    rng = random.Random(SEED)
    differences = []
    kinds: dict[str, int] = {}
    with quiet():
        for number in range(DOCUMENT_MUTANTS):
            data = mutate_document(rng, document, inserts)
            theirs = document_outcome(lambda: read(pymarc, data))
            ours = document_outcome(lambda: read(fastmarc, data))
            kind = theirs[0] if theirs[0] == "records" else theirs[1]
            kinds[kind] = kinds.get(kind, 0) + 1
            if ours != theirs:
                differences.append(f"mutant {number}:\n  pymarc:   {str(theirs)[:200]}\n  fastmarc: {str(ours)[:200]}")
    # The mutations must reach both good documents and several kinds of error.
    assert kinds.get("records", 0) > DOCUMENT_MUTANTS // 20 and len(kinds) >= 3, kinds
    return differences


def sample_records(sample_path: Path) -> list:
    return list(pymarc.MARCReader(sample_path.read_bytes()))[:6]


def test_mutated_marcxml_gives_pymarcs_records_or_exception_type(sample_path: Path) -> None:
    # Documents written by pymarc from the sample, then broken: characters XML does not
    # allow, references, bytes lost, stretches repeated (names, attributes, declarations).
    out = io.BytesIO()
    writer = pymarc.XMLWriter(out)
    for record in sample_records(sample_path):
        writer.write(record)
    writer.close(close_fh=False)
    differences = differences_from_pymarc(
        out.getvalue(), XML_INSERTS, lambda lib, data: lib.parse_xml_to_array(io.BytesIO(data))
    )
    assert not differences, f"{len(differences)} documents differ:\n" + "\n".join(differences[:8])


def test_mutated_marc_in_json_gives_pymarcs_records_or_exception_type(sample_path: Path) -> None:
    document = ("[" + ",".join(r.as_json() for r in sample_records(sample_path)) + "]").encode()
    differences = differences_from_pymarc(
        document, JSON_INSERTS, lambda lib, data: lib.JSONReader(data.decode("utf-8", "replace"))
    )
    assert not differences, f"{len(differences)} documents differ:\n" + "\n".join(differences[:8])
