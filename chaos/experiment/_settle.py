"""Waiting until a system is quiet: bounded polling with an error that says what was seen."""

from __future__ import annotations

import threading
from collections.abc import Callable

from chaos.experiment._clock import Clock, MonotonicClock

__all__ = ["SettleTimeout", "wait_until"]


class SettleTimeout(TimeoutError):
    """A condition did not become true in time; `last` is the last value or error seen."""

    def __init__(self, what: str, timeout: float, last: object) -> None:
        super().__init__(f"{what}: not true after {timeout:g} s (last seen: {last!r})")
        self.what, self.timeout, self.last = what, timeout, last


def wait_until(
    what: str,
    check: Callable[[], object],
    timeout: float = 30.0,
    interval: float = 0.2,
    *,
    clock: Clock | None = None,
) -> object:
    """Poll `check()` until it returns something truthy, and return that; bounded by `timeout`.

    An exception from `check` counts as "not yet" (a service still restarting); the last value
    or exception is in the `SettleTimeout`, so "queue not drained: last seen 12" tells why.
    `clock` is for tests (a `FakeClock` makes the waits instant).
    """
    if not timeout > 0 or not interval > 0:
        raise ValueError(f"timeout and interval must be > 0 s, got {timeout!r}, {interval!r}")
    clock = clock or MonotonicClock()
    never = threading.Event()  # nothing stops a wait early: only the deadline ends it
    deadline = clock.now() + timeout
    last: object = None
    while True:
        try:
            last = check()
        except Exception as exc:
            last = exc
        else:
            if last:
                return last
        now = clock.now()
        if now >= deadline:
            raise SettleTimeout(what, timeout, last)
        clock.wait_until(min(now + interval, deadline), never)
