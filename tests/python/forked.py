"""Running a piece of a test in a child made by os.fork(), with a deadline."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest


def lines_from_child(work: Callable[[], list[str]], timeout: float = 60) -> list[str]:
    """Fork; the child runs `work` and sends back the lines it returns (or the exception it
    raised, as its type and text) and leaves without cleanup. Fails the test if the child
    has not ended within `timeout` seconds (it is then killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            with os.fdopen(write_end, "w") as out:
                try:
                    lines = work()
                except BaseException as e:  # noqa: BLE001 - reported to the parent
                    lines = [f"{type(e).__name__}: {e}"]
                out.write("".join(f"{line}\n" for line in lines))
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            pytest.fail("the forked child hung")
        time.sleep(0.05)
    with os.fdopen(read_end) as got:
        return got.read().splitlines()
