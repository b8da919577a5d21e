"""Hypothesis: a broker cut off from the network is contained on the asynchronous path.

The broker loses every peer at once, below the proxies (on Docker its container leaves the
network; on local processes every AMQP edge is black-holed at its proxy). Reactions go to the
outbox instead of failing, so the gateway stays within tolerance of its baseline; once the
partition heals, the publisher and the consumer are connected again and every accepted reaction
is delivered (lost = 0).
"""

from __future__ import annotations

import pytest

from chaos import Experiment, RecordingTarget, Tolerance, assert_contained
from fixtures.plans import CLEAN_BASELINE_MS, PLAN, REACTION_RATE
from fixtures.system import System

pytestmark = pytest.mark.experiment()

# The first publishes wait out one publish timeout before the outbox takes over: 5% slack.
CONTAINED = Tolerance(
    percentile=99,
    ratio=3.0,
    slack_ms=600,
    error_rate_slack=0.05,
    clean_baseline_ms=CLEAN_BASELINE_MS,
)


def test_broker_partition_is_contained(
    experiment: Experiment, system: System, reactions: RecordingTarget
) -> None:
    system.set_mode("async")
    run = experiment(
        PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=lambda: system.partition("broker"),
    )
    assert_contained(run.phase("reactions", "baseline"), run.phase("reactions", "fault"), CONTAINED)
    system.wait_for(
        "publisher reconnected", lambda: system.metric("reactions", "broker_connected") == 1
    )
    system.wait_for(
        "consumer reconnected", lambda: system.metric("notifier_worker", "consumer_connected") == 1
    )
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
