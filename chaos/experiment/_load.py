"""Open-loop load generator: requests start on a schedule, latency from the scheduled start.

Measuring from the scheduled start (not from when the request was actually sent) avoids
coordinated omission: when the system or the generator stalls, every request that should have
started during the stall carries the stall in its latency, instead of silently never existing.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.experiment._clock import Clock, MonotonicClock
from chaos.experiment._histogram import LatencyHistogram
from chaos.experiment._profiles import MAX_RATE, RateProfile

# The targets live in their own module; these names stay importable from here.
from chaos.experiment._targets import classify

__all__ = [
    "MAX_DURATION",
    "MAX_IN_FLIGHT",
    "MAX_RATE",
    "MAX_REQUESTS",
    "LoadGenerator",
    "LoadResults",
    "PhaseResult",
    "SeriesBucket",
    "Target",
]

Target = Callable[[], Awaitable[object]]

MAX_DURATION = 3_600.0
MAX_REQUESTS = 1_000_000
MAX_IN_FLIGHT = 10_000
_ERROR_SAMPLES = 3


@dataclass
class PhaseResult:
    """What happened to the requests scheduled during one phase.

    `scheduled` = `sent` + shed (`errors["overload"]`). `latency` holds successes only;
    `latency_all` every request that completed (success or failure), measured from its scheduled
    start. Shed and abandoned requests have no latency; they count in `errors` and `error_rate`.
    `windows` are the (start, end) spans of the phase in seconds since the run's first request;
    a phase name used twice has two windows.
    """

    name: str
    windows: list[tuple[float, float]] = field(default_factory=list)
    scheduled: int = 0
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    latency_all: LatencyHistogram = field(default_factory=LatencyHistogram)
    max_lag_s: float = 0.0
    error_samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Wall time the phase was current, over all its windows."""
        return sum(end - start for start, end in self.windows)

    @property
    def started_s(self) -> float | None:
        """Start of the first window (None if the phase never began)."""
        return self.windows[0][0] if self.windows else None

    @property
    def ended_s(self) -> float | None:
        """End of the last window (None if the phase never began)."""
        return self.windows[-1][1] if self.windows else None

    @property
    def failed(self) -> int:
        """Requests that ended in any error, shed ones included."""
        return sum(self.errors.values())

    @property
    def settled(self) -> int:
        """Requests with an outcome (ok or failed)."""
        return self.ok + self.failed

    @property
    def in_flight(self) -> int:
        """Requests sent but not yet settled."""
        return self.scheduled - self.settled

    @property
    def error_rate(self) -> float:
        """Failed / settled (0.0 when nothing settled)."""
        return self.failed / self.settled if self.settled else 0.0

    @property
    def throughput(self) -> float:
        """Successes among the phase's requests per second of the phase's wall time."""
        return self.ok / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "name": self.name,
            "duration_s": round(self.duration_s, 6),
            "windows": [[round(a, 6), round(b, 6)] for a, b in self.windows],
            "scheduled": self.scheduled,
            "sent": self.sent,
            "ok": self.ok,
            "failed": self.failed,
            "in_flight": self.in_flight,
            "errors": dict(self.errors),
            "error_rate": self.error_rate,
            "throughput_per_s": self.throughput,
            "max_lag_ms": self.max_lag_s * 1000.0,
            "latency": self.latency.to_dict(),
            "latency_all": self.latency_all.to_dict(),
            "error_samples": {k: list(v) for k, v in self.error_samples.items()},
        }


@dataclass(frozen=True)
class SeriesBucket:
    """One fixed interval of the run, by scheduled start; latency figures of successes in ms."""

    start_s: float
    scheduled: int
    ok: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class LoadResults:
    """A snapshot of a run: per-phase results, phase marks and a time series.

    Times in `phase_marks` and `series` are seconds since the first scheduled request;
    `started` is on the generator's clock, `started_wall` is epoch seconds, for aligning with
    other timelines. `rate` is the rate offered first; `profile` says how it changed (None: a
    fixed rate).
    """

    rate: float
    started: float
    started_wall: float
    duration_s: float
    phases: dict[str, PhaseResult]
    phase_marks: list[tuple[float, str]]
    series: list[SeriesBucket]
    interval_s: float
    profile: RateProfile | None = None

    def phase(self, name: str) -> PhaseResult:
        """The result of phase `name`."""
        try:
            return self.phases[name]
        except KeyError:
            raise KeyError(f"no phase {name!r}; phases seen: {list(self.phases)}") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rate": self.rate,
            "profile": self.profile.to_dict() if self.profile is not None else None,
            "started_wall": self.started_wall,
            "duration_s": round(self.duration_s, 6),
            "interval_s": self.interval_s,
            "phase_marks": [[round(t, 6), name] for t, name in self.phase_marks],
            "phases": {name: p.to_dict() for name, p in self.phases.items()},
            "series": [b.to_dict() for b in self.series],
        }


@dataclass
class _Bucket:
    scheduled: int = 0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


def _nearest_rank(sorted_ms: list[float], p: float) -> float:
    rank = max(1, math.ceil(p / 100.0 * len(sorted_ms)))
    return sorted_ms[rank - 1]


def _positive(name: str, value: float, limit: float) -> float:
    if not (isinstance(value, int | float) and 0 < value <= limit):
        raise ValueError(f"{name} must be > 0 and <= {limit:g}, got {value!r}")
    return float(value)


class _Schedule:
    """When request i is due under a profile: i / rate, integrated over the rate's steps.

    Kept exact for a fixed rate (t0 + i / rate, no accumulated rounding): a segment starts at
    a step (or at the last request sent when the anchor became known) and counts from there.
    """

    def __init__(self, rates: RateProfile, t0: float) -> None:
        self._rates = rates
        self._known: float | None = None
        self._last = (t0, 0.0)  # (time, index) of the last request sent; t0 counts as index 0
        self._start, self._count, self._rate = t0, 0.0, rates.before
        self.waits_for_anchor = rates.phase is not None and bool(rates.points)

    def anchor(self, at: float | None) -> None:
        """Re-plan from the last request sent once the anchor's clock time is known."""
        if at is None or self._known is not None:
            return
        self._known = at
        self.waits_for_anchor = False
        self._start, self._count = self._last
        self._rate = self._rate_at(self._start)

    def sent(self, index: int, at: float) -> None:
        self._last = (at, float(index))

    def time_of(self, index: int) -> float:
        while True:
            due = self._start + (index - self._count) / self._rate
            change = self._next_change(self._start)
            if change is None or due < change:
                return due
            self._count += (change - self._start) * self._rate
            self._start, self._rate = change, self._rate_at(change)

    def _rate_at(self, t: float) -> float:
        offset = None if self._known is None else t - self._known
        return self._rates.rate_at(offset)

    def _next_change(self, t: float) -> float | None:
        if self._known is None:
            return None
        return next((self._known + o for o in self._rates.offsets if self._known + o > t), None)


class LoadGenerator:
    """Starts `target()` at `rate` per second for at most `duration` seconds, open loop.

    Request i is scheduled at t0 + i/rate; its latency is completion time minus that scheduled
    time, so stalls (in the system or in the generator itself) are counted, never hidden.
    Each request belongs to the phase that was current at its scheduled time (`phase()`).

    `rate` may be a `RateProfile` (`chaos.steps`, `chaos.burst`): request i is then scheduled
    when the profile's cumulative count reaches i, still open loop. A profile anchored to a
    phase changes rate from the moment `phase()` first enters it (the scheduler is woken, so the
    new rate applies at once). `max_requests` and the `rate * duration` bound use its peak.

    Overload rule: when `max_in_flight` requests are outstanding at a scheduled time, that
    request is not sent. It is counted at once as an error of kind `overload` (like a client
    bulkhead that fails fast) and gets no latency: its true latency is unknowable, and inventing
    one would distort the histogram. It still counts in `error_rate`, so a stall that fills the
    in-flight limit shows up as errors, never as missing requests.

    `timeout` (seconds on the generator's clock, counted from the scheduled start) fails a
    request with kind `timeout`.
    Use as a context manager (background thread with its own loop) or `await run()` on a loop
    of your own, calling `request_stop()` to end early.
    """

    def __init__(
        self,
        target: Target,
        *,
        rate: float | RateProfile,
        duration: float = 60.0,
        max_requests: int | None = None,
        max_in_flight: int = 256,
        timeout: float | None = 30.0,
        drain_timeout: float = 10.0,
        interval: float = 1.0,
        phase: str = "warmup",
        clock: Clock | None = None,
    ) -> None:
        if not callable(target):
            raise TypeError(f"target must be an async callable, got {target!r}")
        if isinstance(rate, RateProfile):
            self.profile: RateProfile | None = rate
            self._rates = rate
        else:
            self.profile = None
            self._rates = RateProfile(_positive("rate", rate, MAX_RATE), phase=None)
        self.rate = self._rates.before
        self.duration = _positive("duration", duration, MAX_DURATION)
        if not (isinstance(max_in_flight, int) and 1 <= max_in_flight <= MAX_IN_FLIGHT):
            raise ValueError(
                f"max_in_flight must be within 1..{MAX_IN_FLIGHT}, got {max_in_flight!r}"
            )
        if timeout is not None:
            timeout = _positive("timeout", timeout, MAX_DURATION)
        if not (isinstance(drain_timeout, int | float) and drain_timeout >= 0):
            raise ValueError(f"drain_timeout must be >= 0 seconds, got {drain_timeout!r}")
        self.interval = _positive("interval", interval, MAX_DURATION)
        # The epsilon keeps 0.1/s * 30 s (= 3.0000000000000004) at 3 requests.
        by_duration = max(1, math.ceil(self._rates.peak * self.duration - 1e-9))
        if max_requests is not None and not (
            isinstance(max_requests, int) and 1 <= max_requests <= MAX_REQUESTS
        ):
            raise ValueError(f"max_requests must be within 1..{MAX_REQUESTS}, got {max_requests!r}")
        total = by_duration if max_requests is None else min(by_duration, max_requests)
        if total > MAX_REQUESTS:
            raise ValueError(
                f"{'peak rate' if self.profile else 'rate'} * duration = {by_duration} "
                f"requests exceeds {MAX_REQUESTS}; "
                "lower the rate or duration, or pass max_requests"
            )
        self._check_phase_name(phase)
        self.total = total
        self.max_in_flight = max_in_flight
        self.timeout = timeout
        self.drain_timeout = float(drain_timeout)
        self._target = target
        self._clock: Clock = clock or MonotonicClock()
        self._lock = threading.Lock()
        self._marks: list[tuple[float, str]] = []
        self._initial_phase = phase
        self._phases: dict[str, PhaseResult] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._t0: float | None = None
        self._t0_wall = 0.0
        self._end: float | None = None
        self._ran = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._stop_at: float | None = None  # clock time of the first stop request
        self._next_due = 0.0
        self._unsent: float | None = None  # scheduled time of the request being waited for
        self._end_due: float | None = None  # when the schedule ran out, had it not been stopped
        self._anchor: float | None = None  # clock time offset 0 of the profile
        self._anchor_event: asyncio.Event | None = None
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self._crash: BaseException | None = None

    # -- control -----------------------------------------------------------------------------

    def phase(self, name: str) -> None:
        """Attribute requests scheduled from now on to phase `name` (names may repeat)."""
        self._check_phase_name(name)
        with self._lock:
            if self._t0 is None:
                self._initial_phase = name
                return
            at = max(self._clock.now(), self._marks[-1][0])
            self._marks.append((at, name))
            self._phases.setdefault(name, PhaseResult(name))
            anchored = self._anchor is None and name == self._rates.phase
            if anchored:
                self._anchor = at
        loop, event = self._loop, self._anchor_event
        if anchored and loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to wake
                loop.call_soon_threadsafe(event.set)

    def start(self) -> LoadGenerator:
        """Run in a background thread with its own event loop; returns self."""
        if self._thread is not None or self._ran:
            raise RuntimeError("this LoadGenerator was already started; create a new one")
        self._thread = threading.Thread(target=self._thread_main, name="chaos-load", daemon=True)
        self._thread.start()
        if not self._running.wait(10.0):
            raise RuntimeError("load generator thread did not start within 10 s")
        return self

    def in_flight(self, phase: str) -> int:
        """Requests of `phase` not yet settled (0 for a phase that never ran).

        That counts a request due in `phase` that the scheduler has not sent yet: woken late,
        it goes out after the phase ended, still as `phase` (seen: a baseline request sent
        after the fault was applied, 560 ms in a 30 ms baseline).
        """
        with self._lock:
            result = self._phases.get(phase)
            if result is None:
                return 0
            due = self._unsent
            unsent = due is not None and due <= self._clock.now() and self._phase_at(due) is result
            return result.in_flight + int(unsent)

    def request_stop(self) -> None:
        """Stop scheduling at this instant and drain; safe from any thread, returns at once.

        Requests due before this instant that a lagging scheduler has not sent yet still go out.
        """
        if self._stop_at is None:
            self._stop_at = self._clock.now()
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to stop
                loop.call_soon_threadsafe(event.set)

    def stop(self, timeout: float | None = None) -> LoadResults:
        """Stop scheduling, wait up to `timeout` (default drain_timeout) for in-flight requests.

        Requests still in flight after that are cancelled and counted as `abandoned`.
        Idempotent; returns the final results.
        """
        if timeout is not None:
            if not (isinstance(timeout, int | float) and timeout >= 0):
                raise ValueError(f"stop timeout must be >= 0 seconds, got {timeout!r}")
            self.drain_timeout = float(timeout)
        self.request_stop()
        thread = self._thread
        if thread is not None:
            # Margin over the drain: abandoned requests get a moment to unwind after cancel.
            thread.join(self.drain_timeout + 10.0)
            if thread.is_alive():
                raise RuntimeError(
                    f"load generator thread still running {self.drain_timeout + 10.0:g} s "
                    f"after stop ({len(self._inflight)} requests in flight); "
                    "does the target swallow cancellation?"
                )
        if self._crash is not None:
            raise RuntimeError(f"load generator crashed: {self._crash!r}") from self._crash
        return self.results()

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.stop()
            return
        with contextlib.suppress(Exception):  # never mask the body's own failure
            self.stop()

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> LoadResults:
        """Run the schedule on the current loop until done or stopped, then drain."""
        if self._ran:
            raise RuntimeError("this LoadGenerator already ran; create a new one")
        self._ran = True
        self._stop_event = asyncio.Event()
        self._anchor_event = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if self._stop_at is not None:
            self._stop_event.set()
        with self._lock:
            self._t0 = t0 = self._clock.now()
            self._t0_wall = time.time()
            self._marks = [(t0, self._initial_phase)]
            self._phases.setdefault(self._initial_phase, PhaseResult(self._initial_phase))
            if self._rates.phase in (None, self._initial_phase):
                self._anchor = t0
        self._running.set()
        scheduler = asyncio.ensure_future(self._schedule(t0))
        stopper = asyncio.ensure_future(self._stop_event.wait())
        try:
            await asyncio.wait({scheduler, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stop_at = self._stop_at
            if not scheduler.done() and stop_at is not None and self._next_due <= stop_at:
                # The scheduler is behind: requests due before the stop must still go out,
                # or a lagging generator would silently drop the tail of its own schedule.
                await asyncio.wait({scheduler})
        finally:
            for task in (scheduler, stopper):
                task.cancel()
            await asyncio.gather(scheduler, stopper, return_exceptions=True)
            with self._lock:
                end = self._end_due if self._end_due is not None else self._clock.now()
                if self._stop_at is not None:
                    end = max(t0, min(end, self._stop_at))
                self._end = end
            await self._drain()
            aclose = getattr(self._target, "aclose", None)
            if aclose is not None:
                await aclose()
        if not scheduler.cancelled() and scheduler.exception() is not None:
            raise RuntimeError("load scheduler failed") from scheduler.exception()
        return self.results()

    async def _schedule(self, t0: float) -> None:
        loop = asyncio.get_running_loop()
        plan = _Schedule(self._rates, t0)
        limit = t0 + self.duration
        i = 0
        try:
            while i < self.total:
                plan.anchor(self._anchor)
                scheduled = self._next_due = plan.time_of(i)
                if scheduled >= limit:
                    break
                stop_at = self._stop_at
                if stop_at is not None and scheduled > stop_at:
                    return
                self._unsent = scheduled
                if plan.waits_for_anchor:
                    if not await self._sleep_unless_anchored(scheduled):
                        continue  # the anchor phase began: the rest of the schedule changed
                else:
                    await self._clock.sleep_until(scheduled)
                plan.sent(i, scheduled)
                i += 1
                lag = self._clock.now() - scheduled
                with self._lock:
                    self._unsent = None
                    phase = self._phase_at(scheduled)
                    bucket = self._bucket_at(scheduled)
                    phase.scheduled += 1
                    bucket.scheduled += 1
                    phase.max_lag_s = max(phase.max_lag_s, lag)
                    if len(self._inflight) >= self.max_in_flight:
                        detail = f"{len(self._inflight)} requests in flight (max_in_flight)"
                        self._record_error(phase, bucket, "overload", detail, None)
                        continue
                    phase.sent += 1
                task = loop.create_task(self._one(scheduled, phase, bucket))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
        finally:
            self._unsent = None  # stopped or done: nothing is waiting to go out
        plan.anchor(self._anchor)
        self._end_due = plan.time_of(i)

    async def _sleep_unless_anchored(self, t: float) -> bool:
        """Sleep until `t`; False (early) if the profile's anchor phase began meanwhile."""
        event = self._anchor_event
        assert event is not None
        sleeper = asyncio.ensure_future(self._clock.sleep_until(t))
        waker = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        return self._anchor is None

    async def _one(self, scheduled: float, phase: PhaseResult, bucket: _Bucket) -> None:
        try:
            if self.timeout is None:
                await self._target()
            else:
                await self._call_with_deadline(scheduled + self.timeout)
        except asyncio.CancelledError:
            with self._lock:
                self._record_error(phase, bucket, "abandoned", "cancelled by stop()", None)
            raise
        except Exception as exc:
            latency = self._clock.now() - scheduled
            with self._lock:
                self._record_error(phase, bucket, classify(exc), repr(exc), latency)
        else:
            latency = self._clock.now() - scheduled
            with self._lock:
                phase.ok += 1
                phase.latency.record(latency)
                phase.latency_all.record(latency)
                bucket.ok += 1
                bucket.latencies.append(latency * 1000.0)

    async def _call_with_deadline(self, deadline: float) -> None:
        # Raced against the injected clock (not asyncio.timeout) so fake-clock tests can time out.
        request = asyncio.ensure_future(self._target())
        timer = asyncio.ensure_future(self._clock.sleep_until(deadline))
        try:
            await asyncio.wait({request, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not request.done():
                request.cancel()
                await asyncio.wait({request})
        if request.cancelled():
            raise TimeoutError(f"request exceeded timeout={self.timeout:g}s from scheduled start")
        request.result()

    async def _drain(self) -> None:
        pending = {t for t in self._inflight if not t.done()}
        if pending:
            deadline = self._clock.now() + self.drain_timeout
            timer = asyncio.ensure_future(self._clock.sleep_until(deadline))
            while pending and not timer.done():
                await asyncio.wait(pending | {timer}, return_when=asyncio.FIRST_COMPLETED)
                pending = {t for t in pending if not t.done()}
            timer.cancel()
        leftovers = [t for t in self._inflight if not t.done()]
        for task in leftovers:
            task.cancel()
        if leftovers:
            # Real-time bound: a target that swallows cancellation must not hang the run.
            await asyncio.wait(leftovers, timeout=5.0)

    # -- bookkeeping (callers hold self._lock) -------------------------------------------------

    def _phase_at(self, t: float) -> PhaseResult:
        index = bisect.bisect_right(self._marks, t, key=lambda mark: mark[0]) - 1
        return self._phases[self._marks[max(index, 0)][1]]

    def _bucket_at(self, t: float) -> _Bucket:
        assert self._t0 is not None
        index = int((t - self._t0) / self.interval + 1e-9)
        return self._buckets.setdefault(index, _Bucket())

    @staticmethod
    def _record_error(
        phase: PhaseResult, bucket: _Bucket, kind: str, detail: str, latency: float | None
    ) -> None:
        phase.errors[kind] += 1
        bucket.errors += 1
        samples = phase.error_samples.setdefault(kind, [])
        if len(samples) < _ERROR_SAMPLES:
            samples.append(detail)
        if latency is not None:
            phase.latency_all.record(latency)

    @staticmethod
    def _check_phase_name(name: str) -> None:
        if not (isinstance(name, str) and name.strip()):
            raise ValueError(f"phase name must be a non-empty string, got {name!r}")

    def _thread_main(self) -> None:
        try:
            asyncio.run(self.run())
        except BaseException as exc:  # surfaced by stop(); a thread has nowhere else to raise
            self._crash = exc
        finally:
            self._running.set()

    # -- results -----------------------------------------------------------------------------

    def results(self) -> LoadResults:
        """A consistent snapshot; final once the run has ended."""
        with self._lock:
            t0 = self._t0
            if t0 is None:
                phase = PhaseResult(self._initial_phase)
                return LoadResults(
                    self.rate,
                    0.0,
                    0.0,
                    0.0,
                    {phase.name: phase},
                    [],
                    [],
                    self.interval,
                    self.profile,
                )
            end = self._end if self._end is not None else self._clock.now()
            windows: dict[str, list[tuple[float, float]]] = {name: [] for name in self._phases}
            for (start, name), nxt in zip(self._marks, [*self._marks[1:], (None, "")], strict=True):
                stop_at = end if nxt[0] is None else min(nxt[0], end)
                windows[name].append((start - t0, max(start, stop_at) - t0))
            phases = {name: self._copy_phase(p, windows[name]) for name, p in self._phases.items()}
            series = [self._summarize(i, b) for i, b in sorted(self._buckets.items())]
            marks = [(t - t0, name) for t, name in self._marks]
            return LoadResults(
                self.rate,
                t0,
                self._t0_wall,
                end - t0,
                phases,
                marks,
                series,
                self.interval,
                self.profile,
            )

    @staticmethod
    def _copy_phase(p: PhaseResult, windows: list[tuple[float, float]]) -> PhaseResult:
        return PhaseResult(
            name=p.name,
            windows=windows,
            scheduled=p.scheduled,
            sent=p.sent,
            ok=p.ok,
            errors=Counter(p.errors),
            latency=p.latency.copy(),
            latency_all=p.latency_all.copy(),
            max_lag_s=p.max_lag_s,
            error_samples={k: list(v) for k, v in p.error_samples.items()},
        )

    def _summarize(self, index: int, b: _Bucket) -> SeriesBucket:
        lat = sorted(b.latencies)
        return SeriesBucket(
            start_s=index * self.interval,
            scheduled=b.scheduled,
            ok=b.ok,
            errors=b.errors,
            p50_ms=_nearest_rank(lat, 50.0) if lat else None,
            p99_ms=_nearest_rank(lat, 99.0) if lat else None,
            max_ms=lat[-1] if lat else None,
        )
