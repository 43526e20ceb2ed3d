"""pymarc's diagnostics and exception forms, side by side with the real pymarc 5.4.0 (issue 24, 4).

For each odd record both libraries read, the same messages must reach the `pymarc` logger,
the `warnings` module and `sys.stderr`, in the same order, and be silenced or turned into
errors the same way.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings

import pytest

import fastmarc
import pymarc
from marc_bytes import MARC8_LEADER, SD, UTF8_LEADER, raw_record

ODD_RECORDS = {
    "no indicators": raw_record(UTF8_LEADER, [("001", b"id1"), ("245", SD + b"aNo indicators")]),
    "one indicator": raw_record(UTF8_LEADER, [("245", b"1" + SD + b"aOne")]),
    "three indicators": raw_record(UTF8_LEADER, [("245", b"123" + SD + b"aThree")]),
    "non-ASCII subfield code": raw_record(
        UTF8_LEADER, [("245", b"10" + SD + "éa".encode() + SD + b"bok"), ("500", b"  " + SD + b"\xe9x")]
    ),
    "unmapped MARC-8": raw_record(MARC8_LEADER, [("245", b"10" + SD + b"a\xff bad \xbf" + SD + b"b\x80")]),
    "all at once": raw_record(
        MARC8_LEADER,
        [("100", b"1" + SD + b"a\xffx"), ("245", b"10" + SD + b"\xc3\xa9a"), ("650", SD + b"aok")],
    ),
}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.levelname, record.getMessage()))


def observe(read):
    """What `read()` returns, logs on 'pymarc', warns and prints on stderr."""
    handler = _Collect()
    logger = logging.getLogger("pymarc")
    logger.addHandler(handler)
    stderr = io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(stderr):
            warnings.simplefilter("always")
            result = read()
    finally:
        logger.removeHandler(handler)
    shown = [(w.category.__name__, str(w.message), repr(getattr(w.message, "subf", None))) for w in caught]
    return result, handler.seen, shown, stderr.getvalue()


def text(record) -> str | None:
    return None if record is None else str(record)


@pytest.mark.parametrize("name", sorted(ODD_RECORDS))
@pytest.mark.parametrize("hide", [False, True])
def test_reader_reports_what_pymarc_reports(name: str, hide: bool) -> None:
    data = ODD_RECORDS[name]
    results = [
        observe(lambda lib=lib: [text(r) for r in lib.MARCReader(data, hide_utf8_warnings=hide)])
        for lib in (pymarc, fastmarc)
    ]
    assert results[1] == results[0]
    records, logged, warned, printed = results[0]
    assert records[0] is not None
    assert logged or warned or printed or hide


@pytest.mark.parametrize("name", sorted(ODD_RECORDS))
def test_record_from_bytes_reports_what_pymarc_reports(name: str) -> None:
    data = ODD_RECORDS[name]
    results = [observe(lambda lib=lib: text(lib.Record(data=data))) for lib in (pymarc, fastmarc)]
    assert results[1] == results[0]


def test_silenced_logger_and_warnings_stay_silent() -> None:
    data = ODD_RECORDS["all at once"]
    outcomes = []
    for lib in (pymarc, fastmarc):
        logger = logging.getLogger("pymarc")
        handler = _Collect()
        logger.addHandler(handler)
        logger.disabled = True
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("ignore", lib.BadSubfieldCodeWarning)
                records = [text(r) for r in lib.MARCReader(data, hide_utf8_warnings=True)]
        finally:
            logger.disabled = False
            logger.removeHandler(handler)
        outcomes.append((records, handler.seen, len(caught)))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][1:] == ([], 0)


def test_a_warning_turned_into_an_error_makes_the_record_bad_as_in_pymarc() -> None:
    data = ODD_RECORDS["non-ASCII subfield code"] + ODD_RECORDS["one indicator"]
    outcomes = []
    for lib in (pymarc, fastmarc):
        with warnings.catch_warnings():
            warnings.simplefilter("error", lib.BadSubfieldCodeWarning)
            reader = lib.MARCReader(data)
            first = next(reader)
            error = reader.current_exception
            second = next(reader)
        outcomes.append((first, type(error).__name__, str(error), text(second)))
    assert outcomes[1] == outcomes[0]
    assert outcomes[0][0] is None and outcomes[0][1] == "BadSubfieldCodeWarning"


def test_marc8_to_unicode_prints_on_python_stderr() -> None:
    results = [observe(lambda lib=lib: lib.marc8_to_unicode(b"a\xffb")) for lib in (pymarc, fastmarc)]
    assert results[1] == results[0]
    assert "Unable to parse character 0xff" in results[0][3]


def raised(action):
    try:
        action()
    except Exception as error:  # noqa: BLE001 - the exception itself is what is compared
        return type(error).__name__, error.args, str(error)
    return None


@pytest.mark.parametrize(
    "action",
    [
        lambda lib: lib.Field("245", subfields=[lib.Subfield("a", "x")])["z"],
        lambda lib: lib.Field("001", data="x")["a"],
        lambda lib: lib.Record()["245"],
        lambda lib: lib.Field("245", subfields=["a", "legacy"]),
        lambda lib: lib.Field("245", indicators=["1"]),
        lambda lib: lib.Field("245", indicators=("1", "2", "3")),
        lambda lib: setattr(lib.Field("245"), "indicators", ["1", "2", "3"]),
        lambda lib: lib.Field(),
        lambda lib: lib.Field("245", note="x"),
        lambda lib: lib.Record(leader="x" * 24, unknown=1),
        lambda lib: lib.Field("245", subfields=[lib.Subfield("a", "x")]).__setitem__("b", "y"),
        lambda lib: lib.Record().remove_field(lib.Field("245")),
        lambda lib: lib.Leader("short"),
    ],
)
def test_exceptions_have_pymarc_types_messages_and_arguments(action) -> None:
    theirs = raised(lambda: action(pymarc))
    ours = raised(lambda: action(fastmarc))
    assert theirs is not None
    if theirs[0] == "TypeError":
        # Python counts `self` among the positional arguments of a Python __init__.
        assert ours[0] == "TypeError" and "__init__()" in ours[2]
        assert ours[2].split("__init__()")[0] == theirs[2].split("__init__()")[0]
    else:
        assert ours == theirs


@pytest.mark.parametrize("quiet", [False, True])
def test_a_cut_short_eacc_character_is_reported_as_in_pymarc(quiet: bool) -> None:
    # pymarc says the multi-byte position is past the end even when quiet.
    data = b"\x1b$1!!0!!"
    results = [observe(lambda lib=lib: lib.marc8_to_unicode(data, quiet)) for lib in (pymarc, fastmarc)]
    assert results[1] == results[0]
    assert "Multi-byte position 9 exceeds length of marc8 string 8" in results[0][3]
    record = raw_record(MARC8_LEADER, [("245", b"10" + SD + b"a" + data)])
    read = [
        observe(lambda lib=lib: [text(r) for r in lib.MARCReader(record, hide_utf8_warnings=quiet)])
        for lib in (pymarc, fastmarc)
    ]
    assert read[1] == read[0]
