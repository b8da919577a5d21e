"""A small circuit breaker for asyncio code.

Why not pybreaker: it has no asyncio support (wrapping an ``async def`` counts the returned
coroutine as a success before it has even run) and it holds a threading lock while the guarded
call runs, which in an event loop would serialize or deadlock the requests. Here all state
changes happen on the event loop thread between awaits, so no lock is needed.
"""

import time
from collections.abc import Callable

CLOSED, HALF_OPEN, OPEN = "closed", "half-open", "open"


class BreakerOpen(Exception):
    """The breaker refused the call without trying it."""


class AsyncBreaker:
    """Open after ``fail_max`` consecutive failures; allow one trial after ``reset_timeout_s``.

    Usage: ``breaker.before_call()`` (raises BreakerOpen), then exactly one of
    ``breaker.success()`` / ``breaker.failure()`` once the awaited call has finished.
    """

    def __init__(
        self,
        fail_max: int,
        reset_timeout_s: float,
        *,
        on_transition: Callable[[str, str], None] = lambda old, new: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(fail_max, bool) or not isinstance(fail_max, int) or fail_max < 1:
            raise ValueError(f"fail_max={fail_max!r} must be an integer >= 1")
        if not reset_timeout_s >= 0:
            raise ValueError(f"reset_timeout_s={reset_timeout_s!r} must be >= 0")
        self.fail_max = fail_max
        self.reset_timeout_s = float(reset_timeout_s)
        self._on_transition = on_transition
        self._clock = clock
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> str:
        """The current state name: closed, half-open or open."""
        return self._state

    def before_call(self) -> None:
        """Admit a call or raise BreakerOpen; in half-open only one trial runs at a time."""
        if self._state == OPEN:
            if self._clock() - self._opened_at < self.reset_timeout_s:
                raise BreakerOpen("breaker open")
            self._move(HALF_OPEN)
        if self._state == HALF_OPEN:
            if self._trial_running:
                raise BreakerOpen("breaker half-open: trial call in progress")
            self._trial_running = True

    def success(self) -> None:
        """Record a successful call."""
        self._trial_running = False
        self._failures = 0
        if self._state != CLOSED:
            self._move(CLOSED)

    def failure(self) -> None:
        """Record a failed call."""
        self._trial_running = False
        self._failures += 1
        if self._state == HALF_OPEN or (self._state == CLOSED and self._failures >= self.fail_max):
            self._opened_at = self._clock()
            self._move(OPEN)

    def _move(self, new: str) -> None:
        old, self._state = self._state, new
        self._on_transition(old, new)
