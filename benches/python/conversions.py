#!/usr/bin/env python3
"""MARC-8 writing and MarcEdit .mrk text, against fastmarc's own reading and text dump and
against yaz-marcdump doing the nearest job on the same file.

    python3 benches/python/conversions.py [--records 20000] [--rounds 7]

yaz-marcdump comes from Debian's `yaz` package (`sudo apt-get install yaz`); without it
the yaz rows are left out. Builds the standalone binary (release), makes the fixtures if
needed (UTF-8 records with accented, Greek, Cyrillic and CJK text), then runs every job
as its own process, single-threaded (`--threads 1`, as yaz is; the "every core" rows use
fastmarc's default), in a new random order
every round, output on /dev/shm when it exists. Prints each job's median wall time, records
per second and CPU time, and the medians of the rounds' ratios for each comparison:

- MARC-8 writing (UTF-8 in, MARC-8 out) against MARC-8 reading (MARC-8 in, UTF-8 out);
- .mrk writing against the MARC text dump (`convert --to text`);
- .mrk reading (.mrk in, ISO 2709 out) against ISO 2709 reading (`count`);
- each conversion against yaz-marcdump: UTF-8 to MARC-8 (`-f utf8 -t marc8 -o marc`),
  ISO 2709 to its line format (`-o line`) and its line format back to ISO 2709
  (`-i line -o marc`).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fixture import REPO, fixture, machine


def build() -> str:
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "fastmarc-cli"], cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "fastmarc")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], stdout_path: Path | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run; on a shared machine the CPU time
    is the steadier of the two, as waiting for a core is not counted."""
    cpu = children_cpu()
    start = time.perf_counter()
    if stdout_path is None:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    else:
        with open(stdout_path, "wb") as out:
            subprocess.run(cmd, check=True, stdout=out)
    return time.perf_counter() - start, children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    exe = build()
    yaz = shutil.which("yaz-marcdump")
    utf8 = fixture(args.records)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        work = Path(tmp)
        marc8 = work / "in-marc8.mrc"
        mrk = work / "in.mrk"
        line = work / "in.line"
        subprocess.run([exe, "convert", "--to-encoding", "marc8", str(utf8), str(marc8)], check=True,
                       stderr=subprocess.DEVNULL)
        subprocess.run([exe, "convert", str(utf8), str(mrk)], check=True)
        if yaz:
            timed([yaz, "-o", "line", str(utf8)], line)
        out = work / "out"
        f1 = [exe]
        jobs: dict[str, tuple[list[str], Path | None]] = {
            "marc8 read (MARC-8 -> UTF-8)": (f1 + ["convert", "--threads", "1", str(marc8), str(out) + ".mrc"], None),
            "marc8 write (UTF-8 -> MARC-8)": (
                f1 + ["convert", "--threads", "1", "--to-encoding", "marc8", str(utf8), str(out) + "8.mrc"], None),
            "text dump (ISO -> text)": (f1 + ["convert", "--threads", "1", str(utf8), str(out) + ".txt"], None),
            "mrk write (ISO -> .mrk)": (f1 + ["convert", "--threads", "1", str(utf8), str(out) + ".mrk"], None),
            "mrk write, every core": (f1 + ["convert", str(utf8), str(out) + "-all.mrk"], None),
            "marc8 write, every core": (
                f1 + ["convert", "--to-encoding", "marc8", str(utf8), str(out) + "8-all.mrc"], None),
            "iso read (count)": (f1 + ["count", "--threads", "1", str(utf8)], None),
            "mrk read (count .mrk)": (f1 + ["count", str(mrk)], None),
            "mrk -> ISO": (f1 + ["convert", str(mrk), str(out) + "-back.mrc"], None),
        }
        if yaz:
            jobs["yaz UTF-8 -> MARC-8"] = ([yaz, "-f", "utf8", "-t", "marc8", "-o", "marc", str(utf8)], work / "y8.mrc")
            jobs["yaz ISO -> line"] = ([yaz, "-o", "line", str(utf8)], work / "y.line")
            jobs["yaz line -> ISO"] = ([yaz, "-i", "line", "-o", "marc", str(line)], work / "y.mrc")
        times: dict[str, list[float]] = {name: [] for name in jobs}
        cpu: dict[str, list[float]] = {name: [] for name in jobs}
        names = list(jobs)
        for _ in range(args.rounds):
            random.shuffle(names)
            for name in names:
                cmd, stdout_path = jobs[name]
                wall, used = timed(cmd, stdout_path)
                times[name].append(wall)
                cpu[name].append(used)

    print(f"# {machine()}; {args.records} records, {args.rounds} rounds, medians")
    for name, ts in times.items():
        m = statistics.median(ts)
        c = statistics.median(cpu[name])
        print(f"{name:32} {m * 1000:9.1f} ms {args.records / m:12,.0f} records/s {c * 1000:9.1f} ms CPU")

    def ratio(fast: str, slow: str, of: dict[str, list[float]]) -> float:
        # Per round, so the machine's drift cancels out.
        return statistics.median(s / f for f, s in zip(of[fast], of[slow]))

    print("\nratios of wall time (CPU time in brackets; median of the rounds; >1 means the first is faster)")
    comparisons = [
        ("marc8 write (UTF-8 -> MARC-8)", "marc8 read (MARC-8 -> UTF-8)", 0.5),
        ("mrk write (ISO -> .mrk)", "text dump (ISO -> text)", 1.0),
        ("mrk read (count .mrk)", "iso read (count)", 0.5),
    ]
    if yaz:
        comparisons += [
            ("marc8 write (UTF-8 -> MARC-8)", "yaz UTF-8 -> MARC-8", 3.0),
            ("mrk write (ISO -> .mrk)", "yaz ISO -> line", 3.0),
            ("mrk write, every core", "yaz ISO -> line", 3.0),
            ("marc8 write, every core", "yaz UTF-8 -> MARC-8", 3.0),
            ("mrk -> ISO", "yaz line -> ISO", 3.0),
        ]
    for fast, slow, target in comparisons:
        r = ratio(fast, slow, times)
        verdict = "meets" if r >= target else "MISSES"
        print(f"{fast} / {slow}: {r:.2f}x [{ratio(fast, slow, cpu):.2f}x] ({verdict} the {target:g}x target)")
    if not yaz:
        print("\nyaz-marcdump not found: install it with `sudo apt-get install yaz` for the yaz rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
