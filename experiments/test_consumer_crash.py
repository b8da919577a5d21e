"""Hypothesis: the notifier-worker killed mid-message loses nothing.

Reactions arrive in async mode while the push is slowed until the queue holds a backlog: the
worker's prefetch window is full (unacknowledged messages in its hands, one of them mid-push).
Then it is killed with SIGKILL, and started again. The broker requeues what it held unacked;
the new worker delivers it all: lost = 0.

None is delivered twice either: duplicated = 0. The worker records a message as pending
before its push and as done after it, so the one being pushed at the kill is left pending.
Its redelivery is looked up at the provider first (GET /deliveries/{id}, a status read the
injected delay does not slow): if the provider has it, it is acked without a push, so it is not
pushed twice. The window left: a push still in transit when the restarted worker looks it up
(sent before the kill, not yet recorded) reads as not delivered and is pushed again. Here the
push is slowed to 300 ms and the restart takes about a second, so the push in flight is
recorded long before the lookup; a push held up longer than the worker takes to restart would
still be delivered twice. The verdict needs the kill to have met a push: without a lookup
that found one, it is inconclusive.

Negative control: with acks sent on receipt (auto-ack, not after the push), the messages the
worker held die with it (expected to fail).
"""

from __future__ import annotations

import pytest

from chaos import (
    Experiment,
    InsufficientData,
    LedgerViolation,
    Plan,
    RecordingTarget,
    negative_control,
)
from fixtures.backlog import BacklogCrash
from fixtures.plans import REACTION_RATE
from fixtures.system import System

# Alone (fixtures/turns.py): the worker's restart and its backlog take both cores. Untimed:
# only the ledger is judged, so an untimed experiment may run beside it.
pytestmark = [pytest.mark.experiment(), pytest.mark.alone, pytest.mark.untimed]

# No latency verdict (the ledger is the claim): a baseline of 1 s, as nothing judges it.
PLAN = Plan(baseline=1.0, fault=2.0, recovery=2.0)
# Accepted and not yet delivered at the kill: more than the worker's prefetch (10), so its
# window is full. Counted end to end, as an auto-acking worker empties the queue into itself.
BACKLOG = 15


@pytest.mark.parametrize(
    "ack_after_push", [True, negative_control(False, "acking only after the push", LedgerViolation)]
)
def test_consumer_crash_mid_message_loses_no_reaction(
    experiment: Experiment, system: System, reactions: RecordingTarget, ack_after_push: bool
) -> None:
    system.set_mode("async")
    system.protections("notifier_worker", ack_after_push=ack_after_push)
    crash = BacklogCrash(
        system,
        system.stack.services["notifier_worker"].crashed,
        pending=lambda: len(reactions.accepted) - len(system.ledger()["counts"]),
        backlog=BACKLOG,
    )
    experiment(PLAN, {"reactions": (reactions, REACTION_RATE)}, fault=crash)
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
    # The evidence duplicated = 0 needs: the kill met a push, which the restarted worker found
    # in doubt and looked up (its counters start at the restart).
    resolved = system.metric(
        "notifier_worker", "worker_acked", {"reason": "duplicate_in_doubt"}, default=0.0
    )
    if not resolved:
        raise InsufficientData(
            "the kill met no push in doubt (worker_acked{reason=duplicate_in_doubt} = 0): "
            "duplicated = 0 says nothing of a push cut short; rerun"
        )
