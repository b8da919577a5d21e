"""Tenacity retries bounded by attempts AND a time budget measured on an injectable clock.

tenacity's own ``stop_after_delay`` reads ``time.monotonic`` directly, so a fake clock cannot
drive it; build one Retrying per operation instead, with the budget measured from its creation.
"""

import time
from collections.abc import Callable
from typing import Any

import tenacity


def bounded_retrying(
    *,
    attempts: int,
    max_s: float,
    wait: Any,
    retry: Any,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[tenacity.RetryCallState], None] = lambda state: None,
) -> tenacity.Retrying:
    """Return a Retrying that stops after ``attempts``, or before a wait would pass ``max_s``."""
    if attempts < 1:
        raise ValueError(f"attempts={attempts} must be >= 1 (1 = no retry)")
    started = clock()

    def budget_spent(state: tenacity.RetryCallState) -> bool:
        # upcoming_sleep is computed before stop is consulted: never sleep past the budget.
        return clock() - started + state.upcoming_sleep > max_s

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts) | budget_spent,
        wait=wait,
        retry=retry,
        before_sleep=on_retry,
        sleep=sleep,
        reraise=True,
    )


def immediate_retrying(
    *,
    attempts: int,
    retry: Any,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[tenacity.RetryCallState], None] = lambda state: None,
) -> tenacity.Retrying:
    """Return the Retrying a team ships without backoff: up to ``attempts`` at once, no budget.

    The regression switched on by ``retry_backoff`` = off. Still bounded: by ``attempts``, and in
    time by the timeout of each attempt.
    """
    if attempts < 1:
        raise ValueError(f"attempts={attempts} must be >= 1 (1 = no retry)")
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_none(),
        retry=retry,
        before_sleep=on_retry,
        sleep=sleep,
        reraise=True,
    )
