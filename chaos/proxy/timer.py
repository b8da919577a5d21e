"""Precise sleeps: one timerfd per event loop, armed for the earliest deadline.

uvloop's timers have whole-millisecond granularity and run on a clock cached once per loop
iteration (asyncio's round epoll's timeout up to a millisecond), so a 20 ms latency toxic was
late or early by up to ~1.5 ms. A timerfd fires at its nanosecond deadline on CLOCK_MONOTONIC
(time.monotonic's clock) and wakes the loop's epoll at once. Linux only: elsewhere, or where
timerfd cannot be had, `sleep` falls back to asyncio.sleep.

Trap: even a timerfd wakes late, by the kernel's (and, in a VM, the hypervisor's) wake-up
from idle: measured here, 20 ms sleeps ended 250 µs late at p50 (plain time.sleep: 120 µs).
So the timer learns that lateness and is armed that much early; a sleeper woken before its
deadline is held in a short spin (at most MAX_SPIN) and released at it, never before.
"""

from __future__ import annotations

import asyncio
import ctypes
import heapq
import itertools
import logging
import os
import time
import weakref

__all__ = ["precise_sleep", "set_timer_slack"]

log = logging.getLogger(__name__)

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = 0o2000000
_TFD_TIMER_ABSTIME = 1
_PR_SET_TIMERSLACK = 29
MAX_SPIN = 0.0005
"""The most a wake-up is moved early, so the longest the loop spins (seconds)."""
_LEARN = 0.1
"""Weight of each new wake-up's lateness in the running estimate."""


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> ctypes.CDLL | None:
    if os.uname().sysname != "Linux":
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.timerfd_create  # noqa: B018 (probe: AttributeError where libc lacks it)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def set_timer_slack(ns: int = 1) -> bool:
    """Set the calling thread's timer slack (Linux's default 50 µs); False where unsupported.

    Slack lets the kernel defer a thread's timed waits (epoll timeouts, nanosleep) to batch
    wake-ups; a proxy that promises sub-millisecond delays wants it near zero.
    """
    if _LIBC is None:
        return False
    return bool(_LIBC.prctl(_PR_SET_TIMERSLACK, ctypes.c_ulong(ns), 0, 0, 0) == 0)


class _Timer:
    """The deadlines of one loop's sleepers, and the timerfd armed for the earliest."""

    def __init__(self, loop: asyncio.AbstractEventLoop, libc: ctypes.CDLL) -> None:
        self._libc = libc
        fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"timerfd_create failed: {os.strerror(err)}")
        self.fd = fd
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._armed = float("inf")
        self._abandoned = 0
        self._woken_at = float("inf")
        """When the timerfd was set to fire (the deadline less the lead)."""
        self.lead = 0.0
        """How early the timerfd is armed: wake-ups' mean lateness plus twice its mean
        deviation (as TCP estimates a retransmit timeout), at most MAX_SPIN."""
        self._late = self._spread = 0.0
        loop.add_reader(fd, self._fire)
        # The loop holds this timer (its reader), never the other way: the fd goes with it.
        weakref.finalize(loop, os.close, fd)

    def _arm(self, due: float) -> None:
        spec = _Itimerspec()
        at = due - self.lead
        if due != float("inf"):
            # 0 would disarm: a deadline already past is armed for 1 ns after the epoch.
            sec, frac = divmod(max(at, 1e-9), 1.0)
            spec.it_value.tv_sec, spec.it_value.tv_nsec = int(sec), max(1, int(frac * 1e9))
        if self._libc.timerfd_settime(self.fd, _TFD_TIMER_ABSTIME, ctypes.byref(spec), None):
            err = ctypes.get_errno()
            raise OSError(err, f"timerfd_settime({due}) failed: {os.strerror(err)}")
        # Only a wake-up armed for the future tells how late the kernel wakes.
        self._armed, self._woken_at = due, at if at > time.monotonic() else float("inf")

    async def sleep(self, seconds: float) -> None:
        due = time.monotonic() + seconds
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (due, next(self._seq), future))
        if due < self._armed:
            self._arm(due)
        try:
            await future
        finally:
            if future.cancelled():
                self._abandon()

    def _abandon(self) -> None:
        # A cancelled sleeper stays in the heap until its deadline; many of them (long
        # sleeps cancelled by a toxic update) are swept so the heap stays small.
        self._abandoned += 1
        if self._abandoned > 64 and self._abandoned > len(self._heap) // 2:
            self._heap = [entry for entry in self._heap if not entry[2].done()]
            heapq.heapify(self._heap)
            self._abandoned = 0

    def _fire(self) -> None:
        try:
            os.read(self.fd, 8)
            expired = True
        except BlockingIOError:  # woken by an earlier arming: the deadlines decide
            expired = False
        now = time.monotonic()
        if expired and now >= self._woken_at:
            late = now - self._woken_at
            self._spread += _LEARN * (abs(late - self._late) - self._spread)
            self._late += _LEARN * (late - self._late)
            self.lead = min(self._late + 2 * self._spread, MAX_SPIN)
        heap = self._heap
        if heap and now < heap[0][0] <= now + MAX_SPIN:
            # Woken early on purpose (the lead): hold on to the deadline, then release.
            while (now := time.monotonic()) < heap[0][0]:
                pass
        while heap and heap[0][0] <= now:
            _, _, future = heapq.heappop(heap)
            if not future.done():
                future.set_result(None)
        self._armed = float("inf")
        if heap:
            self._arm(heap[0][0])
        else:
            self._arm(float("inf"))


_timers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Timer | None] = (
    weakref.WeakKeyDictionary()
)


def _timer(loop: asyncio.AbstractEventLoop) -> _Timer | None:
    try:
        return _timers[loop]
    except KeyError:
        pass
    timer = None
    if _LIBC is not None:
        try:
            timer = _Timer(loop, _LIBC)
        except (OSError, NotImplementedError, RuntimeError) as exc:
            log.info("no timerfd on this loop (%s): sleeps have the loop's granularity", exc)
    _timers[loop] = timer
    return timer


async def precise_sleep(seconds: float) -> None:
    """Sleep `seconds` (<= 0: yield once) to the precision of a timerfd where there is one."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    timer = _timer(asyncio.get_running_loop())
    if timer is None:
        await asyncio.sleep(seconds)
    else:
        await timer.sleep(seconds)
