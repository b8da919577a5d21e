"""Hypothesis: a circuit breaker with a fallback at the gateway contains the sync cascade.

The push provider's link black-holes data, so every sync reaction would hang for the
notification timeout and the gateway's slots would fill up (experiment 3). With the gateway's
breaker on, a few failures open it; reactions then get a fast fallback and the unrelated /feed
endpoint keeps its baseline. After the fault the breaker goes half-open, a trial succeeds and it
closes: the transitions closed -> open -> half-open -> closed all happen.

Negative control: the same fault with the breaker off must break /feed (expected to fail).
"""

from __future__ import annotations

import pytest

from chaos import (
    ContainmentBroken,
    Experiment,
    HttpTarget,
    Plan,
    RecordingTarget,
    assert_contained,
    negative_control,
)
from fixtures.plans import FEED_RATE, PLAN, REACTION_RATE, tolerance
from fixtures.plant import PlantFault
from fixtures.system import System

pytestmark = pytest.mark.experiment()


# The first seconds of the fault trip the breaker (a few slow calls hold gateway slots): a
# "settle" phase of their own. The hypothesis is about the steady state once it is open.
BREAKER_PLAN = Plan(baseline=PLAN.baseline, settle=4.0, fault=5.0, recovery=4.0)
FEED_CONTAINED = tolerance(250)
TRANSITIONS = [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]


@pytest.mark.parametrize(
    "breaker",
    [True, negative_control(False, "gateway breaker", ContainmentBroken)],
)
def test_gateway_breaker_contains_sync_cascade(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    feed: HttpTarget,
    plant: PlantFault,
    breaker: bool,
) -> None:
    system.set_mode("sync")
    system.gateway_breaker(breaker, fail_max=5, reset_timeout_s=1.5)

    def transitions() -> dict[tuple[str, str], float]:
        return {
            (a, b): system.metric("gateway", "breaker_transitions", {"from": a, "to": b}, 0.0)
            if breaker
            else 0.0
            for a, b in TRANSITIONS
        }

    before = transitions()
    edge = system.proxy("notifications-push")
    run = experiment(
        BREAKER_PLAN,
        {"reactions": (reactions, REACTION_RATE), "feed": (feed, FEED_RATE)},
        fault=plant(lambda: edge.timeout(0), at="feed"),
        probes={"breaker": system.breaker_probe("gateway")},
    )
    assert_contained(run.phase("feed", "baseline"), run.phase("feed", "fault"), FEED_CONTAINED)
    # Reactions fail fast with the fallback instead of hanging for the timeout.
    assert run.phase("reactions", "fault").latency_all.percentile(50) < 500
    system.wait_for("breaker closed again", lambda: system.metric("gateway", "breaker_state") == 0)
    after = transitions()
    seen = {f"{a}->{b}": after[(a, b)] - before[(a, b)] for a, b in TRANSITIONS}
    assert all(count >= 1 for count in seen.values()), f"breaker transitions seen: {seen}"
