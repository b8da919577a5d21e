"""Hypothesis: latency on a deep edge of the synchronous chain cascades up to the gateway.

The push provider answers 500 ms late (latency toxic on notifications -> push-provider). In sync
mode every reaction waits for that answer, so gateway latency rises by most of the delay, and the
gateway's bounded concurrency fills up: its unrelated /feed endpoint, which never touches
notifications, slows down or fails too. The failure cascades.
"""

from __future__ import annotations

import pytest

from chaos import (
    Experiment,
    HttpTarget,
    RecordingTarget,
    assert_cascade,
    assert_recovered,
)
from fixtures.plans import FEED_RATE, PLAN, REACTION_RATE, tolerance
from fixtures.plant import PlantFault
from fixtures.system import System

pytestmark = pytest.mark.experiment(pair="latency", path="sync")


DELAY_MS = 500


def test_latency_on_sync_chain_cascades_to_gateway(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    feed: HttpTarget,
    plant: PlantFault,
) -> None:
    system.set_mode("sync")
    edge = system.proxy("notifications-push")
    run = experiment(
        PLAN,
        {"reactions": (reactions, REACTION_RATE), "feed": (feed, FEED_RATE)},
        fault=plant(lambda: edge.latency(DELAY_MS), after=True),
    )
    assert_cascade(run.phase("reactions", "baseline"), run.phase("reactions", "fault"), DELAY_MS)
    # The unrelated endpoint is hit through exhaustion, not directly: a lower bar, same verdict.
    assert_cascade(run.phase("feed", "baseline"), run.phase("feed", "fault"), DELAY_MS, share=0.2)
    assert_recovered(
        run.phase("reactions", "baseline"),
        run.phase("reactions", "recovery"),
        tolerance(250),
    )
