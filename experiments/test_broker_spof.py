"""Hypothesis: a single broker is a single point of failure for delivery, and that costs lag.

The one RabbitMQ node is killed with SIGKILL under load in async mode, then restarted. Reactions
are still accepted (the outbox takes them) and none is lost, but nothing is delivered while the
broker is down: the delivery lag of the reactions accepted during the outage grows by at least
the outage (kill to broker ready again), less the time the first of them took to be accepted.
The cost is the outage itself, paid by every reaction accepted in it.

The same kill on a three-node cluster with quorum queues (experiments/cluster/) sits beside this
one in the report (pair "broker-kill").
"""

from __future__ import annotations

import dataclasses

import pytest

from chaos import Experiment, RecordingTarget, delivery_lag, judge
from fixtures.plans import PLAN, REACTION_RATE, assert_accepted
from fixtures.system import System

# Alone (fixtures/turns.py): it restarts the broker, seconds of both cores.
pytestmark = [pytest.mark.experiment(pair="broker-kill", path="single-node"), pytest.mark.alone]

# The kill is held 2 s; the restart that follows is part of the outage (6-23 s measured under
# load). The recovery only needs to show acceptance back to normal: the lag of the outage's
# reactions is read once the ledger has drained, after the run.
SPOF_PLAN = dataclasses.replace(PLAN, fault=2.0)
# A request in flight at the kill waits out one publish timeout (REACTIONS_PUBLISH_TIMEOUT_S
# 0.5 s) before the outbox takes it: the first reaction of the outage is accepted up to about
# that late, and its lag is short of the outage by as much. 1 s is twice that.
FIRST_ACCEPT_S = 1.0


def test_single_broker_is_a_spof_for_delivery(
    experiment: Experiment, system: System, reactions: RecordingTarget
) -> None:
    system.set_mode("async")
    run = experiment(
        SPOF_PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=system.broker_crash,
        probes={"outbox": system.outbox_size},
    )
    assert_accepted(run)  # the outbox's part; its latency is test_broker_crash's business
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
    lag = delivery_lag(reactions.accepted_at, system.delivered_at(), run)
    crash = [e for e in system.timeline.events if e.kind == "crash"][-1]
    assert crash.applied_at is not None and crash.removed_at is not None, crash
    outage_s = crash.removed_at - crash.applied_at
    down = (crash.applied_at - lag.t0, crash.removed_at - lag.t0)
    during = [s for s in lag.samples if down[0] <= s.accepted_s <= down[1]]
    assert during, f"no reaction was accepted during the {outage_s:.1f} s outage"
    peak_s = max(s.lag_s for s in during if s.lag_s is not None)
    first_s = during[0].accepted_s - down[0]
    baseline_p99_s = lag.phase("baseline").p99_s
    judge(
        "broker_spof",
        peak_s >= outage_s - FIRST_ACCEPT_S,
        f"{len(during)} reactions accepted during the {outage_s:.1f} s outage (kill to broker "
        f"ready): peak delivery lag {peak_s:.1f} s (need >= outage - {FIRST_ACCEPT_S:g} s = "
        f"{outage_s - FIRST_ACCEPT_S:.1f} s; the first was accepted {first_s:.2f} s after the "
        f"kill); baseline lag p99 {baseline_p99_s or 0:.3f} s",
        outage_s=round(outage_s, 3),
        peak_lag_s=round(peak_s, 3),
        first_accepted_after_kill_s=round(first_s, 3),
        accepted_during_outage=len(during),
        baseline_lag_p99_s=baseline_p99_s,
    )
