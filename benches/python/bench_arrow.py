"""Arrow, Parquet and Dask against plain parsing, pymarc loops and this machine's 2-core
ceiling, measured side by side in one run (alternating rounds, medians).

    python benches/python/bench_arrow.py [--records 20000] [--rounds 5]
                                         [--only arrow|dask|parquet] [--dask-records 1000000]
                                         [--fixture generated|real|both]

Every figure is measured on each fixture: the generated records (fixture.py) and real
catalogue records (pymarc's clean test records, repeated).

- parse: a projection of one column that names every field (`XXX`) and takes none of them
  (`[99999]`): the same framing as every figure below, every field parsed and decoded, and
  no value built: the plain sequential parse rate. (A projection parses only the fields
  its specs name, so one of no columns would parse none.)
- nested, 1 thread: to_arrow's full nested schema, as a share of the parse rate (each
  round the median of three runs of each job, as for the 5-column projection).
- nested, 2 threads: the speed-up over 1 thread, as a share of the 2-core ceiling: two
  processes, each running the 1-thread job on one half of the file, started together, each
  timing itself (ceiling = whole-file time / the slower half's time).
- 5 columns, 1 thread: a projection of five MARCspecs, as a share of the parse rate.
- analysis: records per 008/35-37 language plus the 20 most frequent 650 $a, by to_arrow +
  polars, by a pymarc loop and by the same loop on fastmarc.
- Parquet: the nested file's size (zstd) against the ISO 2709 file's.
- Dask: read_marc on a 2-process LocalCluster, counting the rows of every partition, on a
  file of its own (--dask-records, 8 partitions: by default 125-145 MB each, the size of
  read_marc's default blocksize, 128 MiB), against the 2-process ceiling of the
  same work: each process reads and counts half of read_marc's partitions, one after
  another, as a worker does. Timed twice: `map_partitions(len).compute()` as written,
  which this dask runs as a read task and a count task per partition, and the same after
  `.optimize()`, which fuses the two into one task (persist() fuses by itself).
- Parquet back: the nested Parquet file of the Dask file read back, by `read_parquet`
  and by `fastmarc convert` to ISO 2709, on one thread and on every core (each run a
  fresh process, timed whole, alternating).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import fastmarc
from fixture import at_once, fixture, machine, median_seconds, paired, real_fixture, split_records

FIVE = {"id": "001", "title": "245[0]$a[0]", "lang": "008[0]/35-37", "subjects": "650$a", "isbn": "020$a"}
ANALYSIS = {"lang": "008[0]/35-37", "subjects": "650$a"}
PARSE_ONLY = {"none": "XXX[99999]"}


def job(name: str, path: str) -> None:
    """One measured job on `path` (the children of the ceiling run the same jobs)."""
    if name == "parse":
        fastmarc.to_arrow(path, fields=PARSE_ONLY, threads=1)
    elif name == "nested1":
        fastmarc.to_arrow(path, threads=1)
    elif name == "nested2":
        fastmarc.to_arrow(path, threads=2)
    elif name == "five":
        fastmarc.to_arrow(path, fields=FIVE, threads=1)
    elif name.startswith("partitions"):
        # Half of read_marc's partitions of `path` (name "partitions0" or "partitions1"),
        # each read and counted as one fused Dask task does it, without Dask.
        import fastmarc.dask as marc_dask

        parts = marc_dask._parts(path, dask_blocksize(Path(path)), None)
        half = len(parts) // 2
        mine = parts[:half] if name == "partitions0" else parts[half:]
        for part in mine:
            len(marc_dask._frame(part, None, False))
    else:
        raise ValueError(name)


def timed(name: str, path: str) -> float:
    start = time.perf_counter()
    job(name, path)
    return time.perf_counter() - start


def two_processes(name: str, a: Path, b: Path, repeat: int = 1) -> float:
    """Run the job on both halves in two processes at once; the slower one's own time
    (with `repeat`, each child's median of that many runs back to back).
    Each child runs the job once untimed first (a fresh process faults in every page it
    allocates; the parent's repeated runs reuse theirs), then both start together."""
    return at_once([child(name, p, repeat) for p in (a, b)])


def child(name: str, path: Path, repeat: int) -> list[str]:
    return [sys.executable, __file__, "--child", name, str(path), "--child-repeat", str(repeat)]


def pymarc_analysis(module, path: Path) -> tuple[Counter, list]:
    langs: Counter = Counter()
    subjects: Counter = Counter()
    with path.open("rb") as f:
        for r in module.MARCReader(f):
            f008 = r["008"]
            langs[f008.data[35:38] if f008 is not None and len(f008.data) >= 38 else None] += 1
            for field in r.get_fields("650"):
                for a in field.get_subfields("a"):
                    subjects[a] += 1
    return langs, subjects.most_common(20)


def polars_analysis(path: Path):
    import polars as pl

    df = pl.DataFrame(fastmarc.to_arrow(path, fields=ANALYSIS))
    langs = df["lang"].value_counts()
    top = df["subjects"].explode().drop_nulls().value_counts(sort=True).head(20)
    return langs, top


def share(label: str, value: float, target: float) -> None:
    mark = "ok" if value >= target else "MISSED"
    print(f"{label:<58} {value:6.2f}  (target >= {target:g}: {mark})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=("arrow", "dask", "parquet"))
    parser.add_argument("--dask-records", type=int, default=1_000_000)
    parser.add_argument("--fixture", choices=("generated", "real", "both"), default="both")
    parser.add_argument("--child", nargs=2, metavar=("JOB", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--child-repeat", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        job(*args.child)
        print("ready", flush=True)
        sys.stdin.readline()
        print(statistics.median(timed(*args.child) for _ in range(args.child_repeat)))
        return
    makers = []
    if args.fixture in ("generated", "both"):
        makers.append(("generated", fixture))
    if args.fixture in ("real", "both"):
        makers.append(("real", real_fixture))
    print(f"{machine()}; medians of {args.rounds} rounds")
    for label, make in makers:
        if args.only in (None, "arrow"):
            path = make(args.records)
            print(f"\n== {label} records: {args.records}, {path.stat().st_size / 1e6:.1f} MB ==")
            measure(path, args)
        if args.only in (None, "dask", "parquet"):
            path = make(args.dask_records)
            print(f"\n== {label} records for Dask: {args.dask_records}, {path.stat().st_size / 1e6:.1f} MB ==")
            if args.only != "parquet":
                job("partitions0", str(path))  # warm the page cache and the code
                dask_vs_ceiling(path, args.rounds)
            if args.only != "dask":
                parquet_back(path, args.rounds)


def spread(values: list[float]) -> str:
    return f"[{min(values):.2f}-{max(values):.2f}]"


def measure(path: Path, args: argparse.Namespace) -> None:
    p = str(path)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        a, b = split_records(path, 2)
        job("parse", p)  # warm the page cache and the code

        rounds = []
        # Each round takes the median of three runs of each job: one run of a 20-ms job is
        # at the mercy of a single scheduling hiccup on a shared machine.
        for _ in range(args.rounds):
            t_parse, t_nested, t_five = (median_seconds(lambda n=n: job(n, p), 3) for n in ("parse", "nested1", "five"))
            rounds.append((t_parse / t_nested, t_parse / t_five))
        nested = [r[0] for r in rounds]
        five = [r[1] for r in rounds]
        share(f"nested, 1 thread: share of the parse rate {spread(nested)}", statistics.median(nested), 0.5)
        share(f"5-column projection, 1 thread: share of the parse rate {spread(five)}", statistics.median(five), 0.7)

        speedups, ceilings, shares = [], [], []
        for _ in range(args.rounds):
            one = timed("nested1", p)
            two = timed("nested2", p)
            ceiling = two_processes("nested1", a, b)
            speedups.append(one / two)
            ceilings.append(one / ceiling)
            shares.append(speedups[-1] / ceilings[-1])
        print(f"nested, 2 threads: speed-up {statistics.median(speedups):.2f}x {spread(speedups)}, "
              f"ceiling {statistics.median(ceilings):.2f}x {spread(ceilings)}")
        share(f"nested, 2 threads: share of the 2-core ceiling {spread(shares)}", statistics.median(shares), 0.9)

        import pymarc

        # The three give the same answer (checked once, untimed).
        langs, top = pymarc_analysis(pymarc, path)
        pl_langs, pl_top = polars_analysis(path)
        assert dict(pl_langs.iter_rows()) == dict(langs), "languages differ"
        assert sorted(n for _, n in pl_top.iter_rows()) == sorted(n for _, n in top), "top subjects differ"
        t_pymarc = median_seconds(lambda: pymarc_analysis(pymarc, path), 1)
        arrow_times, fast_times = [], []
        # Each round takes the median of a few runs of each: one run of the 10-ms polars
        # job is at the mercy of a single scheduling hiccup on a shared machine.
        for _ in range(args.rounds):
            arrow_times.append(median_seconds(lambda: polars_analysis(path), 5))
            fast_times.append(median_seconds(lambda: pymarc_analysis(fastmarc, path), 5))
        t_arrow, t_fast = statistics.median(arrow_times), statistics.median(fast_times)
        over_fast = [f / a for f, a in zip(fast_times, arrow_times)]
        print(f"analysis: to_arrow+polars {t_arrow:.3f}s, fastmarc loop {t_fast:.3f}s, pymarc loop {t_pymarc:.3f}s")
        share("analysis: to_arrow+polars speed-up over a pymarc loop", t_pymarc / t_arrow, 100)
        share(f"analysis: to_arrow+polars speed-up over fastmarc's loop {spread(over_fast)}", statistics.median(over_fast), 5)

        parquet = workdir / "nested.parquet"
        fastmarc.to_parquet(path, parquet)
        size = parquet.stat().st_size / path.stat().st_size
        print(f"{'Parquet (zstd, nested) / ISO 2709 size':<58} {size:6.2f}  (target <= 0.5: {'ok' if size <= 0.5 else 'MISSED'})")
        original = path.read_bytes()
        if all(r.leader[9] == "a" for r in fastmarc.MARCReader(original)):
            back = b"".join(r.as_marc() for r in fastmarc.read_parquet(parquet))
            print(f"ISO 2709 -> Parquet -> ISO 2709 byte-identical: {back == original}")
        else:
            # MARC-8 records come back decoded, as UTF-8: not the same bytes by design.
            print("ISO 2709 -> Parquet -> ISO 2709: MARC-8 records in the file, compared by the tests instead")


def parquet_back(path: Path, rounds: int) -> None:
    """`path`'s nested Parquet file read back on one thread and on every core."""
    with tempfile.TemporaryDirectory() as tmp:
        parquet, back = Path(tmp) / "nested.parquet", Path(tmp) / "back.mrc"
        fastmarc.to_parquet(path, parquet)
        read = "import fastmarc, sys; sum(1 for _ in fastmarc.read_parquet(sys.argv[1], threads=int(sys.argv[2]) or None))"
        jobs = {
            "read_parquet": lambda n: [sys.executable, "-c", read, str(parquet), str(n)],
            "fastmarc convert back to ISO 2709": lambda n: [
                sys.executable, "-m", "fastmarc.cli", "convert", *(["--threads", str(n)] if n else []),
                str(parquet), str(back)],
        }
        for name, command in jobs.items():
            one, every = [], []
            for _ in range(rounds):
                for n, times in ((1, one), (0, every)):
                    start = time.perf_counter()
                    subprocess.run(command(n), check=True)
                    times.append(time.perf_counter() - start)
            t1, tn = statistics.median(one), statistics.median(every)
            print(f"Parquet back, {name}: 1 thread {t1:.2f}s {spread(one)}, every core {tn:.2f}s "
                  f"{spread(every)}: {t1 / tn:.2f}x")


def dask_blocksize(path: Path) -> int:
    """Eight partitions: four tasks a worker, so that Dask's per-task costs show; with the
    default --dask-records each is about as large as read_marc's default blocksize."""
    return path.stat().st_size // 8 + 1


def dask_vs_ceiling(path: Path, rounds: int) -> None:
    from distributed import Client, LocalCluster

    import fastmarc.dask

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        ddf = fastmarc.dask.read_marc(str(path), blocksize=dask_blocksize(path))
        # Start the workers' imports. Not with a measured graph: a computation of the same
        # keys right after another is served from the result it left in the workers'
        # memory, before the client's release of it arrives.
        counted = ddf.map_partitions(len).sum().compute()
        assert counted == args_records(path)
        plain, fused = [], []
        # A computation takes a second or two: each round takes the median of three
        # on each side, so that one scheduling hiccup does not decide the round.
        for _ in range(rounds):
            times = {"plain": [], "fused": []}
            for _ in range(3):
                for how in times:
                    count = ddf.map_partitions(len)
                    if how == "fused":
                        # What persist() does by itself and compute() does not in this
                        # dask: the read and the count become one task per partition.
                        count = count.optimize()
                    start = time.perf_counter()
                    count.compute()
                    times[how].append(time.perf_counter() - start)
            t_ceiling = at_once([child("partitions0", path, 3), child("partitions1", path, 3)])
            plain.append(t_ceiling / statistics.median(times["plain"]))
            fused.append(t_ceiling / statistics.median(times["fused"]))
        client.close()
    share(f"Dask read_marc, 2 workers, compute(): share of the ceiling {spread(plain)}", statistics.median(plain), 0.9)
    share(f"Dask read_marc, 2 workers, optimize().compute(): share {spread(fused)}", statistics.median(fused), 0.9)


def args_records(path: Path) -> int:
    return sum(1 for _ in fastmarc.MARCReader(str(path)))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
