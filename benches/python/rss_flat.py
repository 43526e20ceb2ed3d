"""Resident memory while MARCReader streams a large file: it should stay flat.

Writes N records (default 250,000, about 1 KB each: data/sample.mrc's records again and
again, each with its own 001) to a temporary file, then reads it through each reader
backend (a path, bytes, a file object, a path with threads=2), each in a fresh process,
and prints VmRSS from /proc/self/status after the first record and at 25, 50, 75 and 100%.
The bytes backend holds the whole file in memory by design; what matters is that no line
grows after the first.

    python3 benches/python/rss_flat.py [N]

Not a test: it reports figures, it asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import fastmarc

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["path", "bytes", "fileobj", "path, threads=2"]
MARKS = (0.25, 0.5, 0.75, 1.0)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def write_fixture(path: Path, count: int) -> None:
    originals = list(fastmarc.MARCReader(str(REPO / "data" / "sample.mrc")))
    with open(path, "wb") as out:
        for i in range(count):
            record = originals[i % len(originals)]
            record["001"].data = f"rss{i:010d}"
            out.write(record.as_marc())


def measure(path: Path, backend: str, count: int) -> None:
    """Run in a child process: read the file, print the RSS figures on one line."""
    start = rss_mib()
    handle = None
    if backend == "bytes":
        target = path.read_bytes()
    elif backend == "fileobj":
        target = handle = open(path, "rb")  # noqa: SIM115 - closed below
    else:
        target = str(path)
    threads = 2 if "threads=2" in backend else 1
    marks = [int(count * m) for m in MARKS]
    figures = []
    seen = 0
    for record in fastmarc.MARCReader(target, threads=threads):
        assert record is not None
        seen += 1
        if seen == 1:
            figures.append(("first", rss_mib()))
        if seen in marks:
            figures.append((f"{MARKS[marks.index(seen)]:.0%}", rss_mib()))
    if handle is not None:
        handle.close()
    assert seen == count, (seen, count)
    shown = "  ".join(f"{name} {mib:7.1f}" for name, mib in figures)
    growth = figures[-1][1] - figures[0][1]
    print(f"{backend:<16} start {start:6.1f}  {shown}   (first -> 100%: {growth:+.1f} MiB)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        measure(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 250_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rss.mrc"
        write_fixture(path, count)
        size = os.path.getsize(path)
        print(f"{count:,} records, {size / 2**20:.1f} MiB ({size / count:.0f} bytes each); VmRSS in MiB")
        for backend in BACKENDS:
            subprocess.run([sys.executable, __file__, "--measure", str(path), backend, str(count)], check=True)


if __name__ == "__main__":
    main()
