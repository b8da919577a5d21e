"""run_phases: every phase in order, the fault applied only during its window, figures."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator

import pytest

from chaos.experiment._phases import Plan, run_phases
from chaos.experiment._targets import RequestFailed


@pytest.mark.parametrize("field", ["baseline", "fault", "recovery", "request_timeout"])
def test_plan_refuses_non_positive_phases(field: str) -> None:
    with pytest.raises(ValueError, match=rf"Plan\.{field} must be > 0 seconds, got 0"):
        Plan(**{field: 0})


def test_plan_refuses_negative_settle() -> None:
    with pytest.raises(ValueError, match=r"Plan\.settle must be >= 0 seconds, got -1"):
        Plan(settle=-1)


@pytest.mark.timeout(30)
def test_phases_fault_window_and_figures() -> None:
    broken = {"now": False}
    applied: list[float] = []

    async def target() -> None:
        if broken["now"]:
            raise RequestFailed("5xx", "fault on")

    @contextlib.contextmanager
    def fault() -> Iterator[None]:
        applied.append(time.time())
        broken["now"] = True
        time.sleep(0.1)  # a slow API: the fault is live before the call returns
        try:
            yield
        finally:
            broken["now"] = False
            applied.append(time.time())

    plan = Plan(warmup=0.2, baseline=0.6, settle=0.2, fault=0.6, recovery=0.6)
    shown: list[str] = []
    run = run_phases(plan, {"t": (target, 50)}, fault=fault, progress=shown.append)

    assert list(run.marks) == ["baseline", "handover", "settle", "fault", "recovery", "end"]
    # The fault is applied after settle begins and removed before recovery begins.
    assert run.marks["baseline"] <= run.marks["settle"] <= applied[0] <= run.marks["fault"]
    assert run.marks["fault"] <= applied[1] <= run.marks["recovery"]
    # Expected race: requests count by their scheduled time, so one scheduled just before
    # settle but dispatched a little late (max_lag_s) can meet the fault; never more than one.
    assert run.phase("t", "baseline").failed <= 1
    assert run.phase("t", "fault").error_rate > 0.9
    assert run.phase("t", "recovery").error_rate < 0.1
    figures = run.figures()
    assert figures["t.fault.error_rate"] > 0.9
    assert "t.warmup.sent" not in figures  # warm-up is not judged
    assert shown and shown[-1] == "" and any(s.startswith("fault") for s in shown)


def test_a_rollback_slower_than_the_load_leaves_a_shortfall_not_a_short_phase() -> None:
    """The recovery phase lasts as planned after a slow rollback; past max_rollback it says so."""

    async def ok() -> None:
        return None

    @contextlib.contextmanager
    def slow_rollback() -> Iterator[None]:
        yield
        time.sleep(0.8)  # a stand-in for a broker restart

    plan = Plan(warmup=0, baseline=0.3, fault=0.3, recovery=0.6)
    run = run_phases(plan, {"svc": (ok, 40)}, slow_rollback)
    assert run.shortfalls == []
    assert run.phase("svc", "recovery").duration_s >= 0.6 - 0.25
    tight = Plan(warmup=0, baseline=0.3, fault=0.3, recovery=0.6, max_rollback=0.2)
    short = run_phases(tight, {"svc": (ok, 40)}, slow_rollback)
    assert len(short.shortfalls) == 1
    assert short.shortfalls[0].startswith("recovery phase of load 'svc' carried load for")
    assert "Plan.max_rollback (0.2 s)" in short.shortfalls[0]


def test_baseline_requests_in_flight_finish_before_the_fault_is_applied() -> None:
    """A request sent at the end of the baseline never meets the fault (it would pollute it)."""
    faulty = {"on": False}

    async def slow() -> None:
        started_faulty = faulty["on"]
        await asyncio.sleep(0.05)
        if started_faulty or faulty["on"]:
            await asyncio.sleep(0.5)  # what a toxic does to a live connection

    @contextlib.contextmanager
    def fault() -> Iterator[None]:
        faulty["on"] = True
        yield
        faulty["on"] = False

    run = run_phases(
        Plan(warmup=0, baseline=0.5, fault=0.5, recovery=0.3), {"s": (slow, 100)}, fault
    )
    baseline = run.phase("s", "baseline")
    assert baseline.ok > 30 and baseline.latency.percentile(100) < 300
    assert run.phase("s", "fault").latency.percentile(50) >= 500
    assert (
        "handover" in run.marks
        and run.marks["baseline"] < run.marks["handover"] <= run.marks["fault"]
    )


def test_the_objects_from_before_a_run_are_frozen_while_it_runs_and_only_then() -> None:
    """A full collection late in a session stalled the load generator 49-68 ms: during a run,
    the collector sees only the run's objects; after it, everything again."""

    async def ok() -> None:
        return None

    frozen_during: list[int] = []

    @contextlib.contextmanager
    def fault() -> Iterator[None]:
        frozen_during.append(gc.get_freeze_count())
        yield

    assert gc.get_freeze_count() == 0
    run_phases(Plan(warmup=0, baseline=0.2, fault=0.2, recovery=0.2), {"svc": (ok, 20)}, fault)
    assert frozen_during and frozen_during[0] > 0
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen() -> None:
    async def ok() -> None:
        return None

    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        run_phases(
            Plan(warmup=0, baseline=0.2, fault=0.2, recovery=0.2),
            {"svc": (ok, 20)},
            contextlib.nullcontext,
        )
        assert gc.get_freeze_count() == mine
    finally:
        gc.unfreeze()
