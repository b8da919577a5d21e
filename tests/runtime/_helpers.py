"""Polling helpers for tests that watch real processes come and go."""

from __future__ import annotations

import time
from collections.abc import Callable

from chaos.runtime import _procfs


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; return its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return predicate()
        time.sleep(0.02)
    return True


def all_gone(pids: list[int], timeout: float = 15.0) -> bool:
    """True once none of ``pids`` is alive (zombies count as gone)."""
    return wait_until(lambda: not any(_procfs.pid_alive(p) for p in pids), timeout)
