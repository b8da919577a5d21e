"""Injectable clocks: the real monotonic clock and a fake one that tests advance by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "MonotonicClock"]

_MAX_SETTLE_ROUNDS = 100_000


@runtime_checkable
class Clock(Protocol):
    """Time source for schedules: seconds on a monotonic scale, async and threaded waits."""

    def now(self) -> float:
        """Current time in seconds (monotonic, arbitrary origin)."""
        ...

    async def sleep_until(self, t: float) -> None:
        """Suspend the calling coroutine until `now() >= t`."""
        ...

    def wait_until(self, t: float, stop: threading.Event) -> bool:
        """Block a thread until `t` or until `stop` is set; return whether `stop` is set."""
        ...


class MonotonicClock:
    """The real clock: `time.monotonic`, the same time base as asyncio's default loop."""

    def now(self) -> float:
        """Current `time.monotonic()`."""
        return time.monotonic()

    async def sleep_until(self, t: float) -> None:
        """Sleep on the running loop until `t`."""
        delay = t - time.monotonic()
        # sleep(0) still yields, so a catching-up scheduler never starves the loop.
        await asyncio.sleep(max(delay, 0.0))

    def wait_until(self, t: float, stop: threading.Event) -> bool:
        """Wait on `stop` until `t`."""
        delay = t - time.monotonic()
        if delay <= 0:
            return stop.is_set()
        return stop.wait(delay)


class FakeClock:
    """Virtual time for unit tests: coroutines sleep until the test calls `advance`/`advance_to`.

    Thread waits (`wait_until`) advance the clock themselves, so a sampler thread runs its whole
    schedule instantly. Async sleeps fire in deadline order; after each wake-up the clock yields
    to the loop until it is idle (at least `settle_rounds` times) so woken tasks run before
    time moves on.
    """

    def __init__(self, start: float = 0.0, *, settle_rounds: int = 20) -> None:
        if settle_rounds < 1:
            raise ValueError(f"settle_rounds must be >= 1, got {settle_rounds!r}")
        self._now = float(start)
        self._settle_rounds = settle_rounds
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current virtual time."""
        return self._now

    async def sleep_until(self, t: float) -> None:
        """Suspend until the test advances the clock to `t` or beyond."""
        if t <= self._now:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (t, next(self._seq), fut))
        await fut

    def wait_until(self, t: float, stop: threading.Event) -> bool:
        """Jump to `t` at once (unless stopped) and report whether `stop` is set."""
        if stop.is_set():
            return True
        with self._lock:
            self._now = max(self._now, t)
        return stop.is_set()

    @property
    def pending(self) -> int:
        """Number of coroutines still sleeping on this clock."""
        return sum(1 for _, _, fut in self._waiters if not fut.done())

    async def advance(self, dt: float) -> None:
        """Advance by `dt` seconds, waking sleepers in deadline order."""
        if dt < 0:
            raise ValueError(f"cannot advance a clock backwards: dt={dt!r}")
        await self.advance_to(self._now + dt)

    async def advance_to(self, t: float) -> None:
        """Advance to time `t`, waking each sleeper at its own deadline."""
        await self.settle()
        while self._waiters and self._waiters[0][0] <= t:
            deadline, _, fut = heapq.heappop(self._waiters)
            if fut.done():  # the sleeper was cancelled
                continue
            self._now = max(self._now, deadline)
            fut.set_result(None)
            await self.settle()
        self._now = max(self._now, t)
        await self.settle()

    def jump(self, t: float) -> None:
        """Move time to `t` without waking anyone yet: simulates a loop that was blocked."""
        if t < self._now:
            raise ValueError(f"cannot jump backwards: now={self._now!r}, t={t!r}")
        self._now = t

    async def settle(self) -> None:
        """Yield to the loop until every runnable task has reached its next wait."""
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)
        # asyncio's default loop keeps runnable callbacks in `_ready`; while others are queued
        # behind us, the loop is not idle yet. Other loops get the fixed rounds above only.
        ready = getattr(asyncio.get_running_loop(), "_ready", None)
        for _ in range(_MAX_SETTLE_ROUNDS):
            if not ready:
                return
            await asyncio.sleep(0)
