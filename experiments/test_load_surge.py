"""A load surge, with no fault at all: the offered rate jumps to 5x for three seconds.

The push provider is a bounded third party in both modes, before, during and after the surge:
it serves one push at a time, in 50 ms (20 per second, like a throttled account). The
surge (8 -> 40 reactions per second) is the only change; nothing is injected, and the
timeline's "surge" entry only marks when it happens.

- Sync: every reaction waits for its push, and the gateway's 4 slots fill: requests queue,
  then get a 503 once a slot stays busy past the gateway's queue timeout. The surge is dropped.
- Async: reactions are published and answered at once; the queue takes the surge and the
  worker drains it at the provider's pace afterwards. The delivery lag is the price: measured
  and reported, not judged (it peaked at 3.5-3.7 s in three runs).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest

from chaos import (
    Experiment,
    Plan,
    RecordingTarget,
    Run,
    assert_contained,
    burst,
    delivery_lag,
    fault,
    judge,
)
from fixtures.plans import tolerance
from fixtures.plant import PlantFault
from fixtures.system import System

BASE_RATE = 8.0
SURGE_S = 3.0
SURGE = burst(BASE_RATE, 5 * BASE_RATE, at=0, duration=SURGE_S)
"""The surge is the fault phase: it starts when the phase does and lasts as long."""
# 3 s of baseline at 8/s: 24 samples, above the 20 a tolerance needs even if one fails.
PLAN = Plan(baseline=3.0, fault=SURGE_S, recovery=3.0)
# 50 ms, not 100: the sync baseline waits for every push, and its p99 must stay a clean one
# (at 100 ms it was 126-137 ms, by design, yet above the 100 ms of every other baseline). The
# surge overloads the provider as much as before: twice what it serves.
PUSH_MS, PUSH_AT_ONCE = 50, 1
# The surge requests the provider cannot serve, 20/s of 40/s, must show as drops: 10% at least.
MIN_DROPPED = 0.10
CONTAINED = tolerance(150)


def _surge(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    mode: str,
    plant: PlantFault,
) -> Run:
    system.set_mode(mode)
    system.push_faults(delay_ms=PUSH_MS, concurrency=PUSH_AT_ONCE)

    def marked() -> AbstractContextManager[object]:
        # Nothing to apply or remove: the load profile is the surge; this only dates it.
        return fault("surge", "gateway", lambda: None, lambda: None, {"rate": SURGE.describe()})

    return experiment(
        PLAN,
        {"reactions": (reactions, SURGE)},
        fault=plant(marked),
        probes={"queue_depth": system.queue_depth},
    )


@pytest.mark.experiment(pair="surge", path="sync")
@pytest.mark.alone  # fixtures/turns.py: 5x the load takes both cores
def test_surge_on_sync_chain_is_dropped(
    experiment: Experiment, system: System, reactions: RecordingTarget, plant: PlantFault
) -> None:
    """The sync chain does not absorb a 5x surge: the gateway drops it with 503s and timeouts."""
    run = _surge(experiment, system, reactions, "sync", plant)
    baseline, surge = run.phase("reactions", "baseline"), run.phase("reactions", "fault")
    dropped = surge.errors["5xx"] + surge.errors["timeout"]
    share = dropped / surge.settled if surge.settled else 0.0
    needed = baseline.error_rate + MIN_DROPPED
    judge(
        "surge dropped",
        surge.settled > 0 and share >= needed,
        f"{dropped} of {surge.settled} surge requests dropped ({share:.0%}: {dict(surge.errors)}),"
        f" needed >= {needed:.0%} (baseline {baseline.error_rate:.0%} + {MIN_DROPPED:.0%})",
        dropped=dropped,
        surge_settled=surge.settled,
        surge_p50_ms=round(surge.latency.percentile(50), 1) if surge.latency.count else None,
        baseline_error_rate=round(baseline.error_rate, 3),
    )


@pytest.mark.experiment(pair="surge", path="async")
@pytest.mark.alone
def test_surge_on_async_path_is_absorbed(
    experiment: Experiment, system: System, reactions: RecordingTarget, plant: PlantFault
) -> None:
    """The async path absorbs a 5x surge: the gateway stays within tolerance, the queue takes
    the surge and drains afterwards, and every reaction is delivered exactly once."""
    run = _surge(experiment, system, reactions, "async", plant)
    assert_contained(run.phase("reactions", "baseline"), run.phase("reactions", "fault"), CONTAINED)
    depths = run.samples("queue_depth")
    assert depths and max(depths) > 0, f"the queue never held a message: {depths}"
    system.check_ledger(reactions.accepted, reactions.unknown, drain_timeout=30).assert_ok()
    delivery_lag(reactions.accepted_at, system.delivered_at(), run)
