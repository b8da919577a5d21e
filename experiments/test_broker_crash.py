"""Hypothesis: a broker crash under load loses nothing and stays invisible to clients.

RabbitMQ is killed with SIGKILL while reactions arrive in async mode. Reactions keep being
accepted (the publisher falls back to its local outbox), the broker restarts from its data
directory, the outbox drains and the worker reconnects: every accepted reaction is delivered,
its delivery lag back under a second within 8 s of recovery.

Negative control: with the outbox off, the crash reaches clients (expected to fail).
"""

from __future__ import annotations

import dataclasses

import pytest

from chaos import (
    ContainmentBroken,
    Experiment,
    RecordingTarget,
    assert_contained,
    assert_lag_recovered,
    delivery_lag,
    negative_control,
)
from fixtures.plans import LAG_UNDER_S, PLAN, REACTION_RATE, tolerance
from fixtures.plant import PlantFault
from fixtures.system import System

# Alone (fixtures/turns.py): a broker restart takes seconds of both cores.
pytestmark = [pytest.mark.experiment(), pytest.mark.alone]

# The backlog is the whole crash (planned 4 s plus a 6-12 s restart) at 15/s, drained behind
# new reactions: lag was back under 1 s 0.135 / 1.747 / 2.449 s (min / median / max) after
# recovery began in a bench of 10 runs, and 4.4 s on Docker (a CI check). 8 s is 1.8x the
# worst; the recovery runs 1 s longer. (Runs beside other heavy work, load average 9-13,
# once took about 10.5 s: experiments that restart a broker now run alone.)
LAG_WITHIN_S = 8.0
DRAIN_PLAN = dataclasses.replace(PLAN, recovery=LAG_WITHIN_S + 1.0)


# Requests in flight when the broker dies wait out one publish timeout: judge p90, not p99.
ACCEPTED = tolerance(300, percentile=90)


@pytest.mark.parametrize("outbox", [True, negative_control(False, "outbox", ContainmentBroken)])
def test_broker_crash_loses_no_reaction(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    outbox: bool,
    plant: PlantFault,
) -> None:
    system.set_mode("async")
    system.set_outbox(outbox)
    # The control fails on its fault phase, before the recovery: a long one would judge nothing.
    run = experiment(
        DRAIN_PLAN if outbox else PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=plant(system.broker_crash),
        probes={"outbox": system.outbox_size},
    )
    assert_contained(run.phase("reactions", "baseline"), run.phase("reactions", "fault"), ACCEPTED)
    outbox = run.samples("outbox")
    assert outbox and max(outbox) > 0, f"the outbox never held a reaction: {outbox}"
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
    lag = delivery_lag(reactions.accepted_at, system.delivered_at(), run)
    assert_lag_recovered(lag, under_s=LAG_UNDER_S, within_s=LAG_WITHIN_S)
