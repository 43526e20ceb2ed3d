"""Arrow tables and Parquet files: the nested schema keeps every record, projections give the
values pymarc finds, and pyarrow, polars and DuckDB take the tables as they are."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pymarc
import pytest

import fastmarc
from forked import lines_from_child


def pymarc_records(path: Path, **kwargs: object) -> list[pymarc.Record]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with path.open("rb") as f:
            return [r for r in pymarc.MARCReader(f, **kwargs) if r is not None]


def frames(data: bytes) -> list[bytes]:
    """The records of a well-framed file, as their bytes."""
    out = []
    while data:
        n = int(data[:5])
        out.append(data[:n])
        data = data[n:]
    return out


def test_the_nested_table_gives_every_record_back_byte_for_byte(sample_path: Path) -> None:
    table = pa.table(fastmarc.to_arrow(sample_path))
    assert table.num_rows == 50
    assert table.column_names == ["record_number", "offset", "leader", "control_fields", "data_fields"]
    assert table.column("record_number").to_pylist() == list(range(1, 51))
    originals = frames(sample_path.read_bytes())
    offsets = [0]
    for f in originals[:-1]:
        offsets.append(offsets[-1] + len(f))
    assert table.column("offset").to_pylist() == offsets
    back = [r.as_marc() for r in fastmarc.from_arrow(table)]
    assert back == originals


def test_sources_and_thread_counts_give_the_same_table(sample_path: Path) -> None:
    data = sample_path.read_bytes()
    expected = pa.table(fastmarc.to_arrow(sample_path, threads=1))
    class ReadsABytearray:
        def read(self) -> bytearray:
            return bytearray(data)

    sources = (lambda: str(sample_path), lambda: data, lambda: bytearray(data), lambda: io.BytesIO(data),
               ReadsABytearray)
    for source in sources:
        for threads in (1, 2):
            assert pa.table(fastmarc.to_arrow(source(), threads=threads)).equals(expected)


def test_the_records_are_pymarcs(sample_path: Path) -> None:
    ours = list(fastmarc.from_arrow(fastmarc.to_arrow(sample_path)))
    theirs = pymarc_records(sample_path)
    assert [str(r) for r in ours] == [str(r) for r in theirs]
    assert all(isinstance(r, pymarc.Record) or hasattr(r, "get_fields") for r in ours)


def test_marc8_is_decoded_as_pymarc_decodes_it(pymarc_test_dir: Path) -> None:
    path = pymarc_test_dir / "marc8.dat"
    table = pa.table(fastmarc.to_arrow(path))
    assert {leader[9] for leader in table.column("leader").to_pylist()} == {"a"}
    ours = list(fastmarc.from_arrow(table))
    theirs = pymarc_records(path, to_unicode=True)
    assert [[str(f) for f in r.fields] for r in ours] == [[str(f) for f in r.fields] for r in theirs]
    # A projection of the leader says what the nested schema says.
    projected = pa.table(fastmarc.to_arrow(path, fields={"leader": "LDR", "coding": "LDR/09"}))
    assert projected.column("leader").to_pylist() == table.column("leader").to_pylist()
    assert set(projected.column("coding").to_pylist()) == {"a"}
    # So does a subspec that reads the leader, in a projection with no column of it.
    titles = pa.table(fastmarc.to_arrow(path, fields={"t": "245$a{LDR/09=\\a}"})).column("t").to_pylist()
    assert titles == [[r["245"]["a"]] for r in theirs]


def test_polars_and_duckdb_take_the_table(sample_path: Path) -> None:
    table = fastmarc.to_arrow(sample_path, fields={"lang": "008/35-37", "subjects": "650$a"})
    df = pl.DataFrame(table)
    assert df.height == 50
    per_language = df.explode("lang").group_by("lang").len()
    expected: dict[str, int] = {}
    for r in pymarc_records(sample_path):
        lang = r["008"].data[35:38]
        expected[lang] = expected.get(lang, 0) + 1
    assert dict(per_language.iter_rows()) == expected
    projected = table
    subjects = duckdb.sql("SELECT s, count(*) FROM (SELECT unnest(subjects) AS s FROM projected) GROUP BY s").fetchall()
    counted: dict[str, int] = {}
    for r in pymarc_records(sample_path):
        for f in r.get_fields("650"):
            for a in f.get_subfields("a"):
                counted[a] = counted.get(a, 0) + 1
    assert dict(subjects) == counted


def test_pyarrow_takes_the_buffers_without_copying(sample_path: Path) -> None:
    table = fastmarc.to_arrow(sample_path, threads=1)
    first, second = pa.table(table), pa.table(table)

    def addresses(t: pa.Table) -> list[int]:
        return [buf.address for col in t.columns for chunk in col.chunks for buf in chunk.buffers() if buf is not None]

    # Two imports of one table point at the same memory: neither made a copy.
    assert addresses(first) == addresses(second)
    offsets = first.column("offset").chunk(0).buffers()[1]
    # polars keeps numeric columns where they are (its strings it lays out as views).
    assert pl.DataFrame(table)["offset"].to_arrow().buffers()[1].address == offsets.address


def test_projected_columns_hold_what_pymarc_finds(sample_path: Path) -> None:
    fields = {
        "id": "001",
        "title": "245[0]$a[0]",
        "type": "LDR/06",
        "isbn": "020$a",
        "first_isbn": "020[0]$a[0]",
    }
    table = pa.table(fastmarc.to_arrow(sample_path, fields=fields))
    assert table.column_names == list(fields)
    assert pa.types.is_list(table.schema.field("id").type)
    assert pa.types.is_string(table.schema.field("title").type)
    rows = table.to_pylist()
    for row, r in zip(rows, pymarc_records(sample_path), strict=True):
        assert row["id"] == [f.data for f in r.get_fields("001")]
        assert row["title"] == r["245"]["a"]
        assert row["type"] == str(r.leader)[6]
        isbns = [a for f in r.get_fields("020") for a in f.get_subfields("a")]
        assert row["isbn"] == isbns
        assert row["first_isbn"] == (isbns[0] if r.get_fields("020") and r.get_fields("020")[0].get_subfields("a") else None)


def test_a_bad_spec_says_which_column_and_character(sample_path: Path) -> None:
    with pytest.raises(ValueError, match=r'column "title": invalid MARCspec "24\$a" at character 3'):
        fastmarc.to_arrow(sample_path, fields={"id": "001", "title": "24$a"})


def test_a_projection_decodes_only_the_fields_it_names() -> None:
    def record(n: int) -> bytes:
        r = pymarc.Record(force_utf8=True)
        r.leader = r.leader[:9] + "a" + r.leader[10:]
        r.add_field(pymarc.Field("001", data=f"id{n}"))
        r.add_field(pymarc.Field("245", pymarc.Indicators("1", "0"), [pymarc.Subfield("a", f"Title {n}")]))
        r.add_field(pymarc.Field("500", pymarc.Indicators(" ", " "), [pymarc.Subfield("a", "Note XX.")]))
        return r.as_marc()

    # The second record's note is not UTF-8 (same length: the directory stays right).
    data = record(1) + record(2).replace(b"Note XX.", b"Note \xff\xfe.") + record(3)
    with pytest.raises(ValueError, match="record 2"):
        fastmarc.to_arrow(data)
    with pytest.raises(ValueError, match="record 2"):
        fastmarc.to_arrow(data, fields={"note": "500$a"})
    rows = pa.table(fastmarc.to_arrow(data, fields={"id": "001", "title": "245[0]$a[0]"})).to_pylist()
    lenient = list(pymarc.MARCReader(data, to_unicode=True, force_utf8=True, utf8_handling="replace"))
    assert rows == [{"id": [r["001"].data], "title": r["245"]["a"]} for r in lenient]
    assert [row["title"] for row in rows] == ["Title 1", "Title 2", "Title 3"]


def test_strict_mode_raises_and_permissive_mode_reports_every_skipped_record(pymarc_test_dir: Path) -> None:
    path = pymarc_test_dir / "bad_records.mrc"
    with pytest.raises(ValueError, match="record 2"):
        fastmarc.to_arrow(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = pa.table(fastmarc.to_arrow(path, permissive=True))
    skipped = [str(w.message) for w in caught if "skipped" in str(w.message)]
    reader = fastmarc.MARCReader(path.read_bytes(), permissive=True)
    results = list(reader)
    good = [r for r in results if r is not None]
    assert table.num_rows == len(good)
    assert len(skipped) == len(results) - len(good) > 0
    assert [r.as_marc() for r in fastmarc.from_arrow(table)] == [r.as_marc() for r in good]


def test_parquet_round_trip_is_byte_identical_and_small(sample_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "sample.parquet"
    assert fastmarc.to_parquet(sample_path, dest) == 50
    assert dest.stat().st_size <= 0.5 * sample_path.stat().st_size
    assert pq.read_table(dest).equals(pa.table(fastmarc.to_arrow(sample_path)))
    back = b"".join(r.as_marc() for r in fastmarc.read_parquet(dest))
    assert back == sample_path.read_bytes()


def well_formed_utf8(frame: bytes) -> bool:
    """A UTF-8 record (leader/09 'a') that parses strictly and that writing gives back."""
    if len(frame) < 24 or frame[9:10] != b"a":
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record = next(iter(fastmarc.MARCReader(frame)))
    except Exception:  # noqa: BLE001 - a record that does not parse is not well-formed
        return False
    return record is not None and record.as_marc() == frame


def interleaved_records() -> bytes:
    """Hand-made records whose control fields stand after or among their data fields."""
    def data(tag: str, value: str) -> fastmarc.Field:
        return fastmarc.Field(tag=tag, indicators=fastmarc.Indicators("1", " "), subfields=[fastmarc.Subfield("a", value)])

    def control(tag: str, value: str) -> fastmarc.Field:
        return fastmarc.Field(tag=tag, data=value)

    shapes = [
        [data("245", "A title"), control("001", "id1")],
        [data("100", "Doe, J."), control("001", "id2"), data("245", "T"), control("005", "20240101")],
        [control("001", "id3"), data("245", "T"), control("008", "x" * 40), control("003", "DLC")],
        [control("008", "y" * 40), control("001", "id4")],
        [data("245", "No controls")],
    ]
    out = b""
    for fields in shapes:
        record = fastmarc.Record(force_utf8=True)
        for f in fields:
            record.add_field(f)
        out += record.as_marc()
    return out


def test_every_well_formed_utf8_record_survives_arrow_and_parquet(pymarc_test_dir: Path, sample_path: Path, tmp_path: Path) -> None:
    corpus = sorted(pymarc_test_dir.glob("*.dat")) + sorted(pymarc_test_dir.glob("*.mrc")) + [sample_path]
    hand_made = tmp_path / "interleaved.mrc"
    hand_made.write_bytes(interleaved_records())
    checked = 0
    for path in [*corpus, hand_made]:
        data = path.read_bytes()
        dest = tmp_path / (path.name + ".parquet")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pa.table(fastmarc.to_arrow(path, permissive=True))
            fastmarc.to_parquet(path, dest, permissive=True)
        through_arrow = [r.as_marc() for r in fastmarc.from_arrow(table)]
        through_parquet = [r.as_marc() for r in fastmarc.read_parquet(dest)]
        assert through_parquet == through_arrow, path.name
        for offset, back in zip(table.column("offset").to_pylist(), through_arrow):
            frame = data[offset : offset + int(data[offset : offset + 5])]
            if well_formed_utf8(frame):
                assert back == frame, f"{path.name}: the record at byte {offset}"
                checked += 1
    # The sample (50), the hand-made records (5) and the UTF-8 records of pymarc's files.
    assert checked >= 60, checked
    # The hand-made records come back whole, in both directions.
    assert b"".join(r.as_marc() for r in fastmarc.from_arrow(fastmarc.to_arrow(hand_made))) == hand_made.read_bytes()
    assert b"".join(r.as_marc() for r in fastmarc.read_parquet(tmp_path / "interleaved.mrc.parquet")) == hand_made.read_bytes()


def test_damaged_files_give_the_readers_records_through_arrow_and_parquet(sample_path: Path, tmp_path: Path) -> None:
    # Seeded damage (bytes changed, cut, inserted, copied from elsewhere): in permissive
    # mode to_arrow keeps exactly the records MARCReader gives, and they come back whole
    # from the table and from a Parquet file, on one thread and on two.
    import random

    original = sample_path.read_bytes()
    dest = tmp_path / "damaged.parquet"
    for seed in range(120):
        rnd = random.Random(seed)
        data = bytearray(original)
        for _ in range(rnd.choice([1, 3, 12])):
            at, how = rnd.randrange(len(data)), rnd.random()
            if how < 0.4:
                data[at] = rnd.randrange(256)
            elif how < 0.6:
                data[at] = rnd.choice(b"0123456789\x1d\x1e\x1f ")
            elif how < 0.75:
                del data[at : at + rnd.randrange(1, 30)]
            elif how < 0.9:
                data[at:at] = rnd.randbytes(rnd.randrange(1, 10))
            else:
                source = rnd.randrange(len(data))
                data[at : at + 12] = data[source : source + 12]
        data = bytes(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = [r.as_marc() for r in fastmarc.MARCReader(data, permissive=True) if r is not None]
            for threads in (1, 2):
                table = fastmarc.to_arrow(data, permissive=True, threads=threads)
                assert [r.as_marc() for r in fastmarc.from_arrow(table)] == expected, (seed, threads)
            fastmarc.to_parquet(data, dest, permissive=True)
        assert [r.as_marc() for r in fastmarc.read_parquet(dest)] == expected, seed


def test_a_failed_parquet_conversion_leaves_no_file(pymarc_test_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "bad.parquet"
    with pytest.raises(ValueError):
        fastmarc.to_parquet(pymarc_test_dir / "bad_records.mrc", dest)
    assert not dest.exists()


def test_a_failed_parquet_conversion_leaves_an_existing_file_as_it_was(pymarc_test_dir: Path, sample_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "kept.parquet"
    dest.write_bytes(b"precious")
    with pytest.raises(ValueError):
        fastmarc.to_parquet(pymarc_test_dir / "bad_records.mrc", dest)
    assert dest.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.parquet"]
    # A link is followed: the file it names gets the Parquet data, and the link stays.
    target, link = tmp_path / "target.parquet", tmp_path / "link.parquet"
    target.write_bytes(b"old")
    link.symlink_to(target)
    assert fastmarc.to_parquet(sample_path, link) == 50
    assert link.is_symlink() and pq.read_table(target).num_rows == 50
    # The new file keeps the permissions of the one it replaces.
    target.chmod(0o640)
    fastmarc.to_parquet(sample_path, target)
    assert target.stat().st_mode & 0o777 == 0o640


def test_writing_parquet_over_its_own_source_is_refused(sample_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "records.mrc"
    source.write_bytes(sample_path.read_bytes())
    with pytest.raises(ValueError, match="source file"):
        fastmarc.to_parquet(source, source)
    with pytest.raises(ValueError, match="source file"):
        fastmarc.to_parquet(str(source), tmp_path / "." / "records.mrc")
    assert source.read_bytes() == sample_path.read_bytes()


def test_no_columns_and_non_text_specs_are_refused(sample_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one column"):
        fastmarc.to_arrow(sample_path, fields={})
    with pytest.raises(ValueError, match="at least one column"):
        fastmarc.to_parquet(sample_path, tmp_path / "none.parquet", fields={})
    assert not (tmp_path / "none.parquet").exists()
    with pytest.raises(TypeError, match="str"):
        fastmarc.to_arrow(sample_path, fields={"title": None})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="str"):
        fastmarc.to_arrow(sample_path, fields={"title": 245})  # type: ignore[dict-item]


INTERRUPTED = """
import os, signal, sys, threading, time
import fastmarc
source, dest, how, after = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if after:
    threading.Timer(after, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.perf_counter()
try:
    if how == "parquet":
        fastmarc.to_parquet(source, dest, threads=1)
    else:
        fastmarc.to_arrow(source, threads=1)
    print("finished", time.perf_counter() - start)
except KeyboardInterrupt:
    print("interrupted", time.perf_counter() - start)
"""


@pytest.mark.parametrize("how", ["parquet", "arrow"])
def test_ctrl_c_stops_a_long_conversion(sample_path: Path, tmp_path: Path, how: str) -> None:
    # Enough records that reading them all takes seconds: Ctrl-C after 0.3 s must stop
    # the read well before its end, and leave no Parquet file behind.
    source = tmp_path / "many.mrc"
    source.write_bytes(sample_path.read_bytes() * 4000)

    def run(dest: Path, after: float) -> tuple[str, float]:
        done = subprocess.run([sys.executable, "-c", INTERRUPTED, str(source), str(dest), how, str(after)],
                              capture_output=True, text=True, timeout=300)
        what, seconds = done.stdout.split()
        return what, float(seconds)

    assert run(tmp_path / "whole.parquet", 0)[0] == "finished"
    what, seconds = run(tmp_path / "cut.parquet", 0.3)
    assert what == "interrupted"
    whole = run(tmp_path / "whole.parquet", 0)[1]
    assert seconds < 0.3 + 0.5 * (whole - 0.3), (seconds, whole)
    assert not (tmp_path / "cut.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.mrc"] + (["whole.parquet"] if how == "parquet" else [])


def test_input_that_cannot_be_read_is_an_oserror(tmp_path: Path) -> None:
    # A directory opens but cannot be read: an I/O failure naming it, not a bad record.
    dest = tmp_path / "out.parquet"
    with pytest.raises(IsADirectoryError, match=f"{tmp_path}: is a directory"):
        fastmarc.to_arrow(tmp_path)
    with pytest.raises(IsADirectoryError, match=f"{tmp_path}: is a directory"):
        fastmarc.to_parquet(tmp_path, dest)
    assert not dest.exists()


def test_projected_parquet_keeps_the_columns(sample_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "p.parquet"
    fastmarc.to_parquet(sample_path, dest, fields={"id": "001", "title": "245[0]$a[0]"})
    assert pq.read_table(dest).equals(pa.table(fastmarc.to_arrow(sample_path, fields={"id": "001", "title": "245[0]$a[0]"})))
    with pytest.raises(ValueError, match="nested schema"):
        next(fastmarc.read_parquet(dest))


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "fastmarc.cli", *args], capture_output=True, timeout=120)


def test_the_command_converts_to_parquet_and_back(sample_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    back = tmp_path / "back.mrc"
    assert run_cli("convert", str(sample_path), str(out)).returncode == 0
    assert run_cli("convert", str(out), str(back)).returncode == 0
    assert back.read_bytes() == sample_path.read_bytes()
    cols = tmp_path / "cols.parquet"
    done = run_cli("convert", str(sample_path), str(cols), "--fields", "id=001,title=245$a[0]")
    assert done.returncode == 0, done.stderr
    assert pq.read_table(cols).column_names == ["id", "title"]
    bad = run_cli("convert", str(sample_path), str(tmp_path / "x.parquet"), "--fields", "id=0011")
    assert bad.returncode == 2 and b"character" in bad.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_the_command_never_destroys_a_file_it_fails_to_replace(pymarc_test_dir: Path, sample_path: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.parquet"
    assert run_cli("convert", str(sample_path), str(kept)).returncode == 0
    before = kept.read_bytes()
    # Its own input, as output: refused before anything is written.
    same = run_cli("convert", str(kept), str(kept))
    assert same.returncode == 2 and b"input file" in same.stderr
    # A failed conversion keeps what it wrote as OUT.partial, and the old file whole.
    bad = run_cli("convert", str(pymarc_test_dir / "bad_records.mrc"), str(kept))
    assert bad.returncode == 1 and b"kept.parquet.partial" in bad.stderr
    assert kept.read_bytes() == before and (tmp_path / "kept.parquet.partial").exists()
    # A FIFO is written through, not replaced by a plain file.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = __import__("threading").Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    done = run_cli("convert", str(sample_path), str(fifo), "--to", "iso2709")
    reader.join(60)
    assert done.returncode == 0 and got == [sample_path.read_bytes()]
    assert __import__("stat").S_ISFIFO(fifo.stat().st_mode)


def test_the_command_says_which_options_parquet_does_not_take(sample_path: Path, tmp_path: Path) -> None:
    nested = tmp_path / "n.parquet"
    assert run_cli("convert", str(sample_path), str(nested)).returncode == 0
    for extra in (["--select", "650$a~Fiction"], ["--delete-tag", "6XX"], ["--set-leader", "05=d"],
                  ["--to", "xml"], ["--limit", "3"], ["--normalize", "nfc"]):
        done = run_cli("convert", str(sample_path), str(tmp_path / "x.parquet"), *extra)
        assert done.returncode == 2 and extra[0].encode() in done.stderr, (extra, done.stderr)
    for extra in (["--from-encoding", "marc8"], ["--offset", "3"], ["--fields", "id=001"]):
        done = run_cli("convert", str(nested), str(tmp_path / "x.mrc"), *extra)
        assert done.returncode == 2 and extra[0].encode() in done.stderr, (extra, done.stderr)
    assert run_cli("convert", str(sample_path), str(tmp_path / "x.xml"), "--fields", "id=001").returncode == 2
    assert run_cli("convert", str(nested), str(tmp_path / "y.parquet")).returncode == 2
    # The other commands read Parquet only through convert, and say so.
    for command in (["count", str(nested)], ["dump", str(nested)]):
        done = run_cli(*command)
        assert done.returncode == 1 and b"a Parquet file" in done.stderr, done.stderr
    assert not (tmp_path / "x.parquet").exists() and not (tmp_path / "x.mrc").exists()


def test_records_from_parquet_are_selected_and_edited_as_any_others(sample_path: Path, tmp_path: Path) -> None:
    nested = tmp_path / "n.parquet"
    assert run_cli("convert", str(sample_path), str(nested)).returncode == 0
    edits = ["--select", "650", "--delete-tag", "6XX,020", "--set-leader", "05=d"]
    from_parquet, from_iso = tmp_path / "p.mrc", tmp_path / "i.mrc"
    assert run_cli("convert", str(nested), str(from_parquet), *edits).returncode == 0
    assert run_cli("convert", str(sample_path), str(from_iso), *edits).returncode == 0
    records = list(fastmarc.MARCReader(from_parquet.read_bytes()))
    assert 0 < len(records) < 50 and all(r.leader[5] == "d" and not r.get_fields("650") for r in records)
    assert from_parquet.read_bytes() == from_iso.read_bytes()


def test_a_comma_inside_a_subspec_belongs_to_its_column(sample_path: Path, tmp_path: Path) -> None:
    spec = "650$a{$a~\\poetry,\\sGreek}"  # "Epic poetry, Greek"
    fields = {"id": "001", "art": spec}
    out = tmp_path / "c.parquet"
    done = run_cli("convert", str(sample_path), str(out), "--fields", f"id=001,art={spec}")
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out)
    assert table.equals(pa.table(fastmarc.to_arrow(sample_path, fields=fields)))
    assert [v for row in table["art"].to_pylist() for v in row] == ["Epic poetry, Greek"]


def test_a_damaged_parquet_file_is_an_error_never_a_panic(sample_path: Path, tmp_path: Path) -> None:
    # The Parquet and Arrow crates panic on some damaged files (an over-long number in a
    # page, an unknown type in the footer's schema): the reader, the iterator on a thread
    # of its own and the command each report the file as damaged instead.
    good = tmp_path / "good.parquet"
    fastmarc.to_parquet(frames(sample_path.read_bytes())[0] * 3, good)
    data = good.read_bytes()
    damaged = tmp_path / "damaged.parquet"
    found = None
    for at in range(len(data)):
        damaged.write_bytes(data[:at] + b"\xff" * 12 + data[at + 12 :])
        for threads in (1, 2):
            try:
                for _ in fastmarc.read_parquet(damaged, threads=threads):
                    pass
            except ValueError as e:
                assert "damaged.parquet" in str(e)
                if "the file is damaged" in str(e):
                    found = found or at
        if found is not None:
            break
    assert found is not None, "no place in the file where the decoder gives up"
    out = tmp_path / "out.mrc"
    done = run_cli("convert", str(damaged), str(out))
    assert done.returncode == 1
    assert b"the file is damaged" in done.stderr and b"panicked" not in done.stderr
    assert b"bug in fastmarc" not in done.stderr
    assert not out.exists()


def test_parquet_reads_back_the_same_on_any_number_of_threads(sample_path: Path, tmp_path: Path) -> None:
    # 3,000 records: several of the Parquet reader's batches of 1,024.
    data = sample_path.read_bytes() * 60
    source = tmp_path / "many.mrc"
    source.write_bytes(data)
    dest = tmp_path / "many.parquet"
    fastmarc.to_parquet(source, dest)
    for threads in (1, 2, None):
        assert b"".join(r.as_marc() for r in fastmarc.read_parquet(dest, threads=threads)) == data
    # A reader left early lets its decoding thread go.
    records = fastmarc.read_parquet(dest, threads=2)
    next(records)
    del records


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is Unix's")
def test_a_child_forked_mid_read_of_parquet_gets_an_error_not_a_hang(sample_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "many.mrc"
    source.write_bytes(sample_path.read_bytes() * 60)
    dest = tmp_path / "many.parquet"
    fastmarc.to_parquet(source, dest)
    records = fastmarc.read_parquet(dest, threads=2)  # decoded on a thread of its own
    first = next(records).as_marc()

    def child() -> list[str]:
        try:
            count = 1 + sum(1 for _ in records)
            return [f"no error after {count}"]
        except ValueError as e:
            return [str(e)]

    assert lines_from_child(child) == [
        f"invalid value: reading {dest}: the thread decoding it is in the process this one was forked from"
    ]
    # The parent reads on.
    assert first + b"".join(r.as_marc() for r in records) == source.read_bytes()


def test_a_row_that_is_not_a_record_is_named_by_its_place_in_the_file(sample_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "many.mrc"
    source.write_bytes(sample_path.read_bytes() * 60)
    table = pa.table(fastmarc.to_arrow(source))
    leaders = table.column("leader").to_pylist()
    leaders[2500] = None
    at = table.schema.get_field_index("leader")
    bad = table.set_column(at, "leader", pa.array(leaders, table.schema.field(at).type))
    bad_path = tmp_path / "bad.parquet"
    pq.write_table(bad, bad_path, row_group_size=1000)
    for records in (fastmarc.read_parquet(bad_path, threads=1), fastmarc.read_parquet(bad_path, threads=2), fastmarc.from_arrow(bad)):
        taken = 0
        with pytest.raises(ValueError, match="row 2500: .*null leader"):
            for _ in records:
                taken += 1
        assert taken == 2500


def test_parquet_files_other_tools_wrote_are_read(sample_path: Path, tmp_path: Path) -> None:
    # pyarrow's, DuckDB's and Spark's default is snappy; row groups of their own size.
    table = pa.table(fastmarc.to_arrow(sample_path))
    for codec in ("snappy", "gzip", "lz4", "zstd", "none"):
        other = tmp_path / f"{codec}.parquet"
        pq.write_table(table, other, compression=codec, row_group_size=20)
        assert b"".join(r.as_marc() for r in fastmarc.read_parquet(other)) == sample_path.read_bytes(), codec
        done = run_cli("convert", str(other), str(tmp_path / "back.mrc"))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "back.mrc").read_bytes() == sample_path.read_bytes(), codec


def test_records_come_back_from_any_string_and_list_types(sample_path: Path) -> None:
    # polars hands tables back with large strings and lists, or string views; a table
    # sliced mid-way keeps its offsets into the whole buffers.
    table = pa.table(fastmarc.to_arrow(sample_path))
    expected = [r.as_marc() for r in pymarc_records(sample_path)]
    frame = pl.DataFrame(table)
    layouts = {
        "string, list": table,
        "large_string, large_list": frame.to_arrow(),
        "string_view": frame.to_arrow(compat_level=pl.CompatLevel.newest()),
    }
    for name, laid_out in layouts.items():
        assert [r.as_marc() for r in fastmarc.from_arrow(laid_out)] == expected, name
        assert [r.as_marc() for r in fastmarc.from_arrow(laid_out.slice(17, 20))] == expected[17:37], name


def test_control_field_positions_of_any_integer_type_are_taken(sample_path: Path) -> None:
    # pandas and SQL casts widen the uint32 positions; the records come back the same.
    table = pa.table(fastmarc.to_arrow(sample_path))
    expected = [r.as_marc() for r in fastmarc.from_arrow(table)]

    def with_positions(kind: pa.DataType) -> pa.Table:
        control = pa.struct([("tag", pa.string()), ("value", pa.string()), ("position", kind)])
        fields = [pa.field(f.name, pa.list_(control)) if f.name == "control_fields" else f for f in table.schema]
        return table.cast(pa.schema(fields))

    for kind in (pa.int64(), pa.uint64(), pa.int32(), pa.uint16()):
        assert [r.as_marc() for r in fastmarc.from_arrow(with_positions(kind))] == expected, kind
    widened = with_positions(pa.int64())
    controls = widened.column("control_fields").combine_chunks()
    items = controls.values
    negative = pa.StructArray.from_arrays(
        [items.field("tag"), items.field("value"), pa.array([-1] * len(items), pa.int64())], names=["tag", "value", "position"])
    broken = widened.set_column(widened.schema.get_field_index("control_fields"), "control_fields",
                                pa.ListArray.from_arrays(controls.offsets, negative))
    with pytest.raises(ValueError, match="position -1 is out of range"):
        list(fastmarc.from_arrow(broken))


def test_null_values_and_indicators_come_back_empty() -> None:
    # Another tool's table may have nulls where the nested schema has none: a null value
    # is empty, a null indicator or code blank, wherever the nulls fall.
    subfield = pa.struct([("code", pa.string()), ("value", pa.string())])
    schema = pa.schema([
        ("leader", pa.string()),
        ("control_fields", pa.list_(pa.struct([("tag", pa.string()), ("value", pa.string())]))),
        ("data_fields", pa.list_(pa.struct([
            ("tag", pa.string()), ("ind1", pa.string()), ("ind2", pa.string()),
            ("subfields", pa.list_(subfield)),
        ]))),
    ])

    def row(control: str | None, ind1: str | None, code: str | None, value: str | None) -> dict:
        return {
            "leader": "00000nam a2200000 a 4500",
            "control_fields": [{"tag": "001", "value": "id"}, {"tag": "005", "value": control}],
            "data_fields": [{
                "tag": "245", "ind1": ind1, "ind2": "0",
                "subfields": [{"code": "a", "value": "Title"}, {"code": code, "value": value}, {"code": "c", "value": "by"}],
            }],
        }

    with_nulls = pa.Table.from_pylist([row(None, None, None, None), row("x", "1", "b", "more")], schema)
    filled = pa.Table.from_pylist([row("", " ", " ", ""), row("x", "1", "b", "more")], schema)
    assert [r.as_marc() for r in fastmarc.from_arrow(with_nulls)] == [r.as_marc() for r in fastmarc.from_arrow(filled)]
    first = next(iter(fastmarc.from_arrow(with_nulls)))
    assert first["005"].data == ""
    assert first["245"].indicator1 == " "
    assert first["245"].subfields == [pymarc.Subfield("a", "Title"), pymarc.Subfield(" ", ""), pymarc.Subfield("c", "by")]


def test_arrow_data_that_breaks_arrows_rules_is_an_error_not_bad_text(sample_path: Path) -> None:
    # Arrow's C interface hands arrays over unchecked; pyarrow builds these from raw buffers
    # without a check either.
    table = pa.table(fastmarc.to_arrow(sample_path)).slice(0, 3)
    controls = table.column("control_fields").combine_chunks()
    items = controls.values
    n = len(items)

    def with_values(offsets: list[int], data: bytes, null_at: int | None = None) -> pa.Table:
        valid = None
        if null_at is not None:
            bits = bytearray(b"\xff" * (n // 8 + 1))
            bits[null_at // 8] &= ~(1 << null_at % 8)
            valid = pa.py_buffer(bytes(bits))
        buffers = [valid, pa.py_buffer(struct.pack(f"<{n + 1}i", *offsets)), pa.py_buffer(data)]
        values = pa.Array.from_buffers(pa.string(), n, buffers, null_count=-1)
        fields = [items.type.field(i) for i in range(items.type.num_fields)]
        rebuilt = pa.StructArray.from_arrays([items.field(0), values, items.field(2)], fields=fields)
        column = pa.ListArray.from_arrays(controls.offsets, rebuilt)
        return table.set_column(3, pa.field("control_fields", column.type), column)

    not_utf8 = with_values([2 * i for i in range(n + 1)], b"\xff\xfe" * n)
    backwards = with_values([0, 4, 2] + [2 * i for i in range(3, n + 1)], b"x" * (2 * n))
    # Each value alone is cut, the two together are valid.
    cut = with_values([0, 1] + [2 * i for i in range(2, n + 1)], "é".encode() * n)
    # With a null the column is read value by value: checked the same.
    not_utf8_with_a_null = with_values([2 * i for i in range(n + 1)], b"\xff\xfe" * n, null_at=n - 1)
    not_text = "invalid value: row 0: column value: a value is not UTF-8"
    out_of_order = "invalid value: reading Arrow data: rows 0 to 2: column control_fields: offsets are negative or fall"
    for bad, message in ((not_utf8, not_text), (backwards, out_of_order), (cut, not_text), (not_utf8_with_a_null, not_text)):
        with pytest.raises(ValueError) as raised:
            list(fastmarc.from_arrow(bad))
        assert str(raised.value) == message
    # Its own values, laid out the same way, read as before.
    own = [v.encode() for v in items.field(1).to_pylist()]
    ends = [sum(len(v) for v in own[:i]) for i in range(n + 1)]
    rebuilt = [r.as_marc() for r in fastmarc.from_arrow(with_values(ends, b"".join(own)))]
    assert rebuilt == [r.as_marc() for r in fastmarc.from_arrow(table)]
