#!/usr/bin/env python3
"""Thread scaling of fastmarc from Python: the speed-up table and plot.

    python3 benches/python/bench_threads.py [--records 10000] [--threads 1,2,4,8]
        [--repeat 5] [--plot docs/thread_speedup.png] [--markdown OUT.md]

Three measurements. Each compares two things timed in alternation, --repeat rounds, and
gives the median of the rounds' ratios (this machine's speed drifts by up to half within
minutes, which one-after-the-other timing would read as a speed-up or a slow-down):
1. N Python threads, each iterating its own MARCReader over its own copy of the fixture
   and reading every record's `title`, for each source kind (path, bytes, file object);
   and N threads each writing its own file with MARCWriter (records read beforehand),
   given a path, an open file, or an open file with a 1 MiB buffer; and, for the file
   system's own limit, the same bytes written 64 KiB at a time with no MARC work at all.
   Speed-up = N x (time with 1 thread) / (time with N threads), each round timing both.
2. One consumer thread with the parallel reader, MARCReader(path, threads=N), against the
   plain reader on the same file, and fastmarc.parse_all(bytes, threads=N).
3. The same file through the core's Rust pipeline (`read_bench --threads N`), to give the
   efficiency of parse_all against pure Rust.
For 2 threads, each figure is also given as a share of this machine's ceiling for the same
work, measured in the same run: the work done by two processes at once (for 1., each on
its own copy; for 2., each on one half of the file) against one process.
"""

from __future__ import annotations

import argparse
import io
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import fastmarc
from fixture import (REPO, at_once, fixture, machine, median_seconds, paired, paired_seconds, real_fixture,
                     split_records)


def run_threads(n: int, work) -> None:
    """Run work(i) on n threads at once and wait for all."""
    barrier = threading.Barrier(n)
    errors = []

    def body(i):
        barrier.wait()
        try:
            work(i)
        except BaseException as e:  # noqa: BLE001 - reported after the join
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def read_titles(source) -> int:
    """Read every record of `source` (anything MARCReader takes, or a reader) and its title;
    a source is read by the plain reader, one thread."""
    reader = source if isinstance(source, fastmarc.MARCReader) else fastmarc.MARCReader(source, threads=1)
    n = 0
    for record in reader:
        if record.title is not None:
            n += 1
    return n


WRITERS = ("path", "file object", "file object, 1 MiB buffer", "bytes alone, no MARC (the file system's limit)")


def write_work(kind: str, records: list, data: bytes, out: Path) -> None:
    """Write `records` to `out` as the `kind` row of the writer table does."""
    if kind == "path":
        writer = fastmarc.MARCWriter(str(out))
        for r in records:
            writer.write(r)
        writer.close()
    elif kind.startswith("file object"):
        # A file object's write() releases the GIL each time its buffer goes to the OS
        # (every 8 KiB by default, some 7 records): each time the GIL may pass to the
        # other thread and must be waited for to come back. A 1 MiB buffer makes that
        # 128 times rarer.
        with open(out, "wb", buffering=1 << 20 if "1 MiB" in kind else -1) as handle:
            writer = fastmarc.MARCWriter(handle)
            for r in records:
                writer.write(r)
            writer.close(close_fh=False)
    else:
        # What the writers' output costs the OS alone: no writer can scale past it.
        view = memoryview(data)
        with open(out, "wb", buffering=0) as handle:
            for start in range(0, len(view), 1 << 16):
                handle.write(view[start:start + (1 << 16)])


def worker_command(row: str, file: Path, out: Path) -> list[str]:
    """The command of one ceiling process: a table row's work, alone in its own process."""
    return [sys.executable, __file__, "--worker", row, str(file), str(out)]


def worker(row: str, file: str, out: str) -> None:
    """One ceiling process (see `fixture.at_once`): prepare, wait for the go, time the work."""
    data = Path(file).read_bytes()
    label, kind = row.split(" ", 1)
    if label == "read":
        source = {"path": lambda: file, "bytes": lambda: data, "file object": lambda: io.BytesIO(data)}[kind]
        work = lambda: read_titles(source())  # noqa: E731
    else:
        records = list(fastmarc.MARCReader(data))
        work = lambda: write_work(kind, records, data, Path(out))  # noqa: E731
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    work()
    print(time.perf_counter() - start, flush=True)


def rust_pipeline_seconds(path: Path, threads: int) -> float:
    """One run of the core's read_bench (0 threads: its sequential reader), as it times itself."""
    # Built (or brought up to date) by cargo once per process, so the figure is today's code.
    if not getattr(rust_pipeline_seconds, "built", False):
        subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "fastmarc", "--example", "read_bench"],
                       cwd=REPO, check=True)
        rust_pipeline_seconds.built = True
    exe = REPO / "target" / "release" / "examples" / "read_bench"
    args = [str(exe), str(path)] + (["--threads", str(threads)] if threads else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return float(out.split("seconds=")[1])


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:5])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--threads", default="1,2,4,8")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--plot", help="write a PNG of the speed-up curves here (needs matplotlib)")
    ap.add_argument("--markdown", help="also write the tables to this Markdown file")
    ap.add_argument("--out-dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where the files read and written go (default: /dev/shm, a RAM file "
                         "system, so that the figures measure fastmarc and not the disk)")
    ap.add_argument("--only", choices=("threads", "parallel"),
                    help="run only measurement 1 (threads) or only 2 and 3 (parallel)")
    ap.add_argument("--real", action="store_true",
                    help="real catalogue records (pymarc's test files, repeated) instead of generated ones")
    args = ap.parse_args()
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        # Said before the minutes of measuring, not after them.
        ap.error("--plot needs matplotlib: python3 -m pip install -r requirements-bench.txt")
    counts = [int(x) for x in args.threads.split(",")]
    path = real_fixture(args.records) if args.real else fixture(args.records)
    data = path.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="fastmarc-bench-", dir=args.out_dir))
    lines = [f"{args.records} records, {len(data) / 1e6:.1f} MB; {machine()}; medians of {args.repeat} runs; "
             f"files in {tmp.parent}", ""]
    curves: dict[str, list[float]] = {}
    try:
        if args.only != "parallel":
            # Each thread gets its own copy of the file, as separate files on disk would be.
            copies = []
            for i in range(max(counts)):
                p = tmp / f"in-{i}.mrc"
                shutil.copyfile(path, p)
                copies.append(p)
            # Each writer thread writes its own records (as threads writing their own files
            # would): shared record objects would bounce their reference counts between cores.
            own_records = [list(fastmarc.MARCReader(data)) for _ in range(max(counts))]
            sources = {
                "path": lambda i: str(copies[i]),
                "bytes": lambda i: data,
                "file object": lambda i: io.BytesIO(data),
            }
            table = []
            ceilings: dict[tuple[str, str], float] = {}

            def scaling(label, kind, work):
                """One thread against n, in alternating rounds: (n, seconds with n, speed-up),
                and for 2 threads the same work in two processes at once (the ceiling)."""
                curve = []
                if 2 in counts:
                    one = [worker_command(f"{label} {kind}", copies[0], tmp / "ceiling-0.mrc")]
                    two = [worker_command(f"{label} {kind}", copies[i], tmp / f"ceiling-{i}.mrc") for i in (0, 1)]
                    _, _, ratio = paired(lambda: at_once(one), lambda: at_once(two), args.repeat)
                    ceilings[(label, kind)] = 2 * ratio
                for n in counts:
                    if n == 1:
                        t, speedup = median_seconds(lambda: run_threads(1, work), args.repeat), 1.0
                    else:
                        _, t, ratio = paired_seconds(lambda: run_threads(1, work), lambda n=n: run_threads(n, work),
                                                     args.repeat, 1)
                        speedup = n * ratio
                    curve.append(speedup)
                    table.append((label, kind, n, t, speedup))
                curves[f"{label}, {kind}"] = curve

            for kind, make in sources.items():
                scaling("read", kind, lambda i, make=make: read_titles(make(i)))

            writers = [(kind, lambda i, kind=kind: write_work(kind, own_records[i], data, tmp / f"out-{i}.mrc"))
                       for kind in WRITERS]
            for kind, write_all in writers:
                scaling("write", kind, write_all)
                assert (tmp / "out-0.mrc").read_bytes() == data

            lines += ["| work | source | threads | seconds | speed-up | 2 processes (the ceiling) | share |",
                      "|---|---|---:|---:|---:|---:|---:|"]
            for w, k, n, t, s in table:
                c = ceilings.get((w, k)) if n == 2 else None
                extra = f"{c:.2f}× | {s / c:.2f}" if c else " | "
                lines.append(f"| {w} | {k} | {n} | {t:.3f} | {s:.2f}× | {extra} |")

        if args.only != "threads":
            # The parallel reader with one consumer, and parse_all, against pure Rust.
            # Each ratio from its own alternating rounds.
            plain = median_seconds(lambda: read_titles(str(path)), args.repeat)
            rust_seq = statistics.median(rust_pipeline_seconds(path, 0) for _ in range(args.repeat))
            # The ceiling: the plain reader in one process on the whole file, against two
            # processes at once, each on one half.
            whole = [worker_command("read path", path, tmp / "unused")]
            halves = [worker_command("read path", part, tmp / "unused") for part in split_records(path, 2)]
            _, _, ceiling = paired(lambda: at_once(whole), lambda: at_once(halves), args.repeat)
            lines += ["", f"Plain MARCReader(path), one thread: {plain:.4f} s. "
                          f"Rust sequential reader (read_bench): {rust_seq:.4f} s. "
                          f"The ceiling, two processes each reading one half: {ceiling:.2f}×.", "",
                      "| parser threads | MARCReader(path, threads=N) | vs plain | share of the ceiling "
                      "| parse_all(bytes, threads=N) | Rust pipeline | parse_all / Rust |",
                      "|---:|---:|---:|---:|---:|---:|---:|"]
            for n in counts:
                _, par, vs_plain = paired_seconds(lambda: read_titles(str(path)),
                                                  lambda n=n: read_titles(fastmarc.MARCReader(str(path), threads=n)),
                                                  args.repeat, 1)
                rust, bulk, efficiency = paired(lambda n=n: rust_pipeline_seconds(path, n),
                                                lambda n=n: median_seconds(lambda: fastmarc.parse_all(data, threads=n), 1),
                                                args.repeat)
                share = f"{vs_plain / ceiling:.2f}" if n == 2 else ""
                lines.append(f"| {n} | {par:.4f} s | {vs_plain:.2f}× | {share} | {bulk:.4f} s | {rust:.4f} s "
                             f"| {efficiency:.0%} |")

            def free_seconds():
                records = fastmarc.parse_all(data)
                start = time.perf_counter()
                del records
                return time.perf_counter() - start

            free = statistics.median(free_seconds() for _ in range(args.repeat))
            lines += ["", f"Freeing the list parse_all returns ({args.records:,} records), timed apart: "
                          f"{free:.4f} s. The parse_all column leaves it out: a program keeps the records it parsed."]
        text = "\n".join(lines)
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(text + "\n")
        if args.plot and curves:
            plot(curves, counts, args.plot, machine())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def plot(curves: dict[str, list[float]], counts: list[int], out: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    cores = len(os.sched_getaffinity(0))
    ideal = [min(n, cores) for n in counts]
    ax.plot(counts, ideal, "k--", linewidth=1, label=f"ideal on {cores} cores")
    for name, ys in curves.items():
        ax.plot(counts, ys, marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_xlabel("Python threads")
    ax.set_ylabel("speed-up over one thread")
    ax.set_title("fastmarc: Python threads, each with its own reader or writer", fontsize=10)
    ax.text(0.01, -0.2, title, transform=ax.transAxes, fontsize=7)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    sys.exit(main())
