"""Hypothesis: a broker killed while its queue holds a backlog loses none of it.

Reactions arrive in async mode while the push is slowed until the queue holds a backlog; then
RabbitMQ is killed with SIGKILL and restarted from its data directory. The backlog survives
because the messages are persistent and the queue durable; the worker, which was pushing when
the broker died and could not ack, has its messages redelivered and skips those it already
pushed. Every accepted reaction is delivered exactly once: lost = 0, duplicated = 0.

Negative controls (expected to fail), each removing one protection:
- transient messages (delivery mode 1): the backlog dies with the broker;
- no deduplication: a message pushed but not acked before the crash is pushed again;
- a non-durable work queue (start-up only: reactions and the worker restarted with it): the
  restarted broker has no queue left, and the backlog is gone with it.
"""

from __future__ import annotations

import contextlib

import pytest

from chaos import Experiment, LedgerViolation, Plan, RecordingTarget, negative_control
from fixtures.backlog import BacklogCrash
from fixtures.plans import REACTION_RATE
from fixtures.system import System

# Alone (fixtures/turns.py): a broker restart takes seconds of both cores. Untimed: only the
# ledger is judged, so an untimed experiment may run beside it.
pytestmark = [pytest.mark.experiment(), pytest.mark.alone, pytest.mark.untimed]

# No latency verdict here (test_broker_crash has it): the load only feeds the ledger, and the
# broker's restart (6-10 s here) dominates the run. A baseline of 1 s: nothing judges it.
PLAN = Plan(baseline=1.0, fault=1.0, recovery=1.0)
BACKLOG = 5
"""Messages ready in the queue at the kill (the worker holds its prefetch besides)."""


@pytest.mark.parametrize(
    "removed",
    [
        pytest.param(None, id="protected"),
        negative_control("reactions.persistent", "persistent messages", LedgerViolation),
        negative_control("notifier_worker.dedupe", "deduplication", LedgerViolation),
        negative_control("durable_queue", "durable queues", LedgerViolation),
    ],
)
def test_broker_crash_with_backlog_loses_nothing(
    experiment: Experiment, system: System, reactions: RecordingTarget, removed: str | None
) -> None:
    with contextlib.ExitStack() as variant:
        if removed == "durable_queue":
            variant.enter_context(system.queue_not_durable())
        run_backlog_crash(experiment, system, reactions, removed)


def run_backlog_crash(
    experiment: Experiment, system: System, reactions: RecordingTarget, removed: str | None
) -> None:
    system.set_mode("async")
    if removed is not None and "." in removed:
        service, protection = removed.split(".")
        system.protections(service, **{protection: False})
    crash = BacklogCrash(system, system.broker_crash, backlog=BACKLOG)
    experiment(
        PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=crash,
        probes={"queue_depth": system.queue_depth, "outbox": system.outbox_size},
    )
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
