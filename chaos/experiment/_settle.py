"""Waiting until a system is quiet: bounded polling with an error that says what was seen."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["SettleTimeout", "wait_until"]


class SettleTimeout(TimeoutError):
    """A condition did not become true in time; `last` is the last value or error seen."""

    def __init__(self, what: str, timeout: float, last: object) -> None:
        super().__init__(f"{what}: not true after {timeout:g} s (last seen: {last!r})")
        self.what, self.timeout, self.last = what, timeout, last


def wait_until(
    what: str, check: Callable[[], object], timeout: float = 30.0, interval: float = 0.2
) -> object:
    """Poll `check()` until it returns something truthy, and return that; bounded by `timeout`.

    An exception from `check` counts as "not yet" (a service still restarting); the last value
    or exception is in the `SettleTimeout`, so "queue not drained: last seen 12" tells why.
    """
    if not timeout > 0 or not interval > 0:
        raise ValueError(f"timeout and interval must be > 0 s, got {timeout!r}, {interval!r}")
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = check()
        except Exception as exc:
            last = exc
        else:
            if last:
                return last
        left = deadline - time.monotonic()
        if left <= 0:
            raise SettleTimeout(what, timeout, last)
        time.sleep(min(interval, left))
