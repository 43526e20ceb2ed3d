"""Smoke test of an installed fastmarc distribution (run by scripts/check_package.sh).

    python -P tests/dist/smoke.py REPO

Run from outside the source tree with the virtualenv's Python: checks that fastmarc comes
from that virtualenv, that the distribution holds what users need (the native module, the
type stubs and py.typed, the licences, the `fastmarc` command) and that reading, writing and
the command work on the bundled sample.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path


def main(repo: Path) -> None:
    import fastmarc

    package = Path(fastmarc.__file__).resolve().parent
    assert package.is_relative_to(Path(sys.prefix).resolve()), f"fastmarc imported from {package}"
    assert not package.is_relative_to(repo.resolve()), f"fastmarc imported from the source tree: {package}"

    version = metadata.version("fastmarc")
    assert fastmarc.__version__ == version, (fastmarc.__version__, version)
    for name in ("py.typed", "_native.pyi"):
        assert (package / name).is_file(), f"{name} missing from {package}"
    licences = {Path(f).name for f in metadata.files("fastmarc") if "licenses" in str(f)}
    assert {"LICENSE-APACHE", "LICENSE-MIT"} <= licences, licences

    sample = repo / "data" / "sample.mrc"
    data = sample.read_bytes()
    records = list(fastmarc.MARCReader(str(sample)))
    assert len(records) == 50 and all(r is not None for r in records)
    assert b"".join(r.as_marc() for r in records) == data
    with open(sample, "rb") as handle:
        titles = [r.title for r in fastmarc.MARCReader(handle)]
    assert titles == [r.title for r in fastmarc.parse_all(data, threads=2)]
    assert all(titles)

    command = Path(sys.prefix) / "bin" / "fastmarc"
    run = lambda *args: subprocess.run([str(command), *args], check=True, capture_output=True, text=True).stdout
    assert run("--version").split() == ["fastmarc", version], run("--version")
    assert run("count", str(sample)).strip() == "50"
    assert "_fastmarc()" in run("completions", "bash")
    assert run("manpage").startswith(".ie")
    print(f"smoke test passed: fastmarc {version} from {package}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
