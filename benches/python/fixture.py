"""Benchmark fixtures: realistic ~1.1 KB MARC 21 records, generated once and cached.

The records come from the core crate's generator (`make_fixture` example: a realistic field
mix, UTF-8 with accented, Greek, Cyrillic and CJK text, or MARC-8), so Rust and Python
benchmarks read the very same bytes. Files are written under cache/bench/ (git-ignored).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "cache" / "bench"


def fixture(records: int, marc8: bool = False) -> Path:
    """Path of a file of `records` generated records (built on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"fixture-{'marc8' if marc8 else 'utf8'}-{records}.mrc"
    if not path.is_file():
        cmd = ["cargo", "run", "--quiet", "--release", "-p", "fastmarc", "--example",
               "make_fixture", "--", str(path), str(records)]
        if marc8:
            cmd.append("--marc8")
        subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return path


def split_records(path: Path, parts: int) -> list[Path]:
    """`path` cut into `parts` files of about equal size at record boundaries (cached beside
    it): the inputs of the ceiling runs, one process per part."""
    data = path.read_bytes()
    cuts, pos = [0], 0
    while pos < len(data) and len(cuts) < parts:
        pos += int(data[pos : pos + 5])
        if pos >= len(data) * len(cuts) / parts:
            cuts.append(pos)
    cuts.append(len(data))
    out = []
    for i in range(parts):
        part = path.with_name(f"{path.stem}.part{i + 1}of{parts}.mrc")
        if not part.is_file() or part.stat().st_size != cuts[i + 1] - cuts[i]:
            part.write_bytes(data[cuts[i] : cuts[i + 1]])
        out.append(part)
    return out


def at_once(commands: list[list[str]]) -> float:
    """Start every command at once and return the slowest one's own time.

    Each command prepares (imports, reads its input), prints a line, waits for a line on
    stdin, does its work and prints the seconds it took; all are told to start together
    once all are ready, so that start-up time is left out."""
    procs = [subprocess.Popen(c, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for c in commands]
    for proc in procs:
        proc.stdout.readline()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outs = [proc.communicate()[0] for proc in procs]
    if any(proc.returncode for proc in procs):
        raise RuntimeError(f"a ceiling process failed: {commands[0]}")
    return max(float(out.split()[-1]) for out in outs)


def median_seconds(work: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of `work()` over `repeat` runs; `setup()` runs untimed before each.

    What `work()` returns is freed after the clock stops: a program keeps what it made
    (the records `parse_all` returns, say) and frees it later, if ever."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
        del result
    return statistics.median(times)


def paired(measure_a: Callable[[], float], measure_b: Callable[[], float], rounds: int) -> tuple[float, float, float]:
    """Two measurements (each returns seconds) taken in alternation, `rounds` times. Returns
    the median of each and the median of the rounds' ratios a/b, so that the machine's drift
    over minutes is not read as a difference between the two."""
    a_times, b_times, ratios = [], [], []
    for _ in range(rounds):
        a, b = measure_a(), measure_b()
        a_times.append(a)
        b_times.append(b)
        ratios.append(a / b)
    return statistics.median(a_times), statistics.median(b_times), statistics.median(ratios)


def paired_seconds(slow: Callable[[], object], fast: Callable[[], object], rounds: int, repeat: int,
                   setup_slow: Callable[[], object] | None = None,
                   setup_fast: Callable[[], object] | None = None) -> tuple[float, float, float]:
    """`slow` and `fast` timed in alternation with `paired`: per round, `slow` once and `fast`
    `repeat` times (their median)."""
    return paired(lambda: median_seconds(slow, 1, setup_slow),
                  lambda: median_seconds(fast, repeat, setup_fast), rounds)


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    import os
    import platform

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, Linux {platform.release()}, Python {platform.python_version()}"


def real_fixture(records: int = 30_000) -> Path:
    """Path of a file of `records` real catalogue records: those of pymarc's test files that
    pymarc reads without an error, a warning or a printed complaint, repeated (built on first
    use; needs pymarc's sdist unpacked in cache/, as scripts/install.sh does)."""
    import contextlib
    import io
    import warnings

    import pymarc

    path = CACHE / f"real-{records}.mrc"
    if path.is_file():
        return path
    clean = []
    for file in sorted((REPO / "cache" / "pymarc-5.4.0" / "test").glob("*.dat")):
        data = file.read_bytes()
        said = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            warnings.simplefilter("error")
            try:
                reader = pymarc.MARCReader(io.BytesIO(data))
                chunks = [reader.current_chunk for record in reader if record is not None]
                ok = reader.current_exception is None and b"".join(chunks) == data
            except Exception:  # noqa: BLE001 - a file pymarc cannot read cleanly is left out
                ok = False
        if ok and not said.getvalue():
            clean.extend(chunks)
    if not clean:
        raise RuntimeError("no clean records found in pymarc's test files")
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(clean[i % len(clean)] for i in range(records)))
    return path
