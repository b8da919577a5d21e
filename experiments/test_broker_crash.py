"""Hypothesis: a broker crash under load loses nothing and stays invisible to clients.

RabbitMQ is killed with SIGKILL while reactions arrive in async mode. Reactions keep being
accepted (the publisher falls back to its local outbox), the broker restarts from its data
directory, the outbox drains and the worker reconnects: every accepted reaction is delivered.

Negative control: with the outbox off, the crash reaches clients (expected to fail).
"""

from __future__ import annotations

import pytest

from chaos import (
    ContainmentBroken,
    Experiment,
    RecordingTarget,
    Tolerance,
    assert_contained,
    negative_control,
)
from fixtures.plans import CLEAN_BASELINE_MS, PLAN, REACTION_RATE
from fixtures.system import System

pytestmark = pytest.mark.experiment()


# Requests in flight when the broker dies wait out one publish timeout: judge p90, not p99.
ACCEPTED = Tolerance(
    percentile=90,
    ratio=3.0,
    slack_ms=300,
    error_rate_slack=0.05,
    clean_baseline_ms=CLEAN_BASELINE_MS,
)


@pytest.mark.parametrize("outbox", [True, negative_control(False, "outbox", ContainmentBroken)])
def test_broker_crash_loses_no_reaction(
    experiment: Experiment, system: System, reactions: RecordingTarget, outbox: bool
) -> None:
    system.set_mode("async")
    system.set_outbox(outbox)
    run = experiment(
        PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=system.broker_crash,
        probes={"outbox": system.outbox_size},
    )
    assert_contained(run.phase("reactions", "baseline"), run.phase("reactions", "fault"), ACCEPTED)
    outbox = run.samples("outbox")
    assert outbox and max(outbox) > 0, f"the outbox never held a reaction: {outbox}"
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
