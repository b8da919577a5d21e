"""Precise sleeps: deadlines kept to well under a millisecond, in order, cancellable."""

from __future__ import annotations

import asyncio
import ctypes
import os
import time

import pytest

from chaos.proxy import timer
from chaos.proxy.runner import new_event_loop

PR_GET_TIMERSLACK = 30
pytestmark = pytest.mark.skipif(os.uname().sysname != "Linux", reason="timerfd is Linux's")


def run(coro_fn):  # type: ignore[no-untyped-def]
    loop = new_event_loop()
    try:
        return loop.run_until_complete(coro_fn())
    finally:
        loop.close()


def test_a_loop_gets_a_timerfd() -> None:
    async def main() -> object:
        await timer.precise_sleep(0.001)
        return timer._timers.get(asyncio.get_running_loop())

    assert isinstance(run(main), timer._Timer)


def test_sleeps_never_end_before_their_deadline() -> None:
    # How close to it they end is a figure of bench/proxy_bench.py, not a test's assertion.
    async def main() -> list[float]:
        lateness = []
        for _ in range(50):
            began = time.monotonic()
            await timer.precise_sleep(0.0033)
            lateness.append(time.monotonic() - began - 0.0033)
        return lateness

    lateness = run(main)
    assert min(lateness) >= 0, f"a sleep ended {-min(lateness) * 1e6:.0f} µs early"


def test_the_timer_learns_how_late_it_wakes_and_arms_that_much_early() -> None:
    # A wake-up always comes after its arming time, so the lead is > 0 after the first, and
    # it is capped: the loop never spins longer than MAX_SPIN.
    async def main() -> float:
        for _ in range(20):
            await timer.precise_sleep(0.002)
        found = timer._timers[asyncio.get_running_loop()]
        assert found is not None
        return found.lead

    lead = run(main)
    assert 0 < lead <= timer.MAX_SPIN


def test_concurrent_sleepers_wake_in_deadline_order() -> None:
    async def main() -> list[int]:
        woke: list[int] = []

        async def sleeper(i: int, seconds: float) -> None:
            await timer.precise_sleep(seconds)
            woke.append(i)

        await asyncio.gather(*(sleeper(i, s) for i, s in enumerate([0.03, 0.01, 0.02, 0.005])))
        return woke

    assert run(main) == [3, 1, 2, 0]


def test_a_cancelled_sleep_does_not_disturb_the_others() -> None:
    async def main() -> tuple[bool, float]:
        long = asyncio.ensure_future(timer.precise_sleep(60))
        await asyncio.sleep(0)
        began = time.monotonic()
        short = asyncio.ensure_future(timer.precise_sleep(0.01))
        long.cancel()
        await short
        with pytest.raises(asyncio.CancelledError):
            await long
        return long.cancelled(), time.monotonic() - began

    cancelled, took = run(main)
    assert cancelled and 0.01 <= took < 5


def test_many_cancelled_sleeps_are_swept() -> None:
    async def main() -> int:
        sleeps = [asyncio.ensure_future(timer.precise_sleep(60)) for _ in range(200)]
        await asyncio.sleep(0)
        for s in sleeps:
            s.cancel()
        await asyncio.gather(*sleeps, return_exceptions=True)
        await timer.precise_sleep(0.001)
        t = timer._timers[asyncio.get_running_loop()]
        assert t is not None
        return len(t._heap)

    assert run(main) < 100


def test_zero_or_less_yields_once() -> None:
    async def main() -> bool:
        flag = []
        asyncio.get_running_loop().call_soon(flag.append, 1)
        await timer.precise_sleep(0)
        return bool(flag)

    assert run(main)


def test_timer_slack_can_be_set() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    before = libc.prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)
    try:
        assert timer.set_timer_slack(1)
        assert libc.prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == 1
    finally:
        timer.set_timer_slack(before)
