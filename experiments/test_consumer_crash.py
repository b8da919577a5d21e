"""Hypothesis: the notifier-worker killed mid-message loses nothing.

Reactions arrive in async mode while the push is slowed until the queue holds a backlog: the
worker's prefetch window is full (unacknowledged messages in its hands, one of them mid-push).
Then it is killed with SIGKILL, and started again. The broker requeues what it held unacked;
the new worker delivers it all: lost = 0.

At most one reaction may be delivered twice: the one being pushed at the kill. The provider
delivers it, but the worker dies before it records it as done, so its redelivery is pushed
again. No consumer can tell that apart from a push that never arrived (dedupe records a
message only after its push): this one is in doubt, and only the provider could dedupe it.
Every other duplicate is a bug.

Negative control: with acks sent on receipt (auto-ack, not after the push), the messages the
worker held die with it (expected to fail).
"""

from __future__ import annotations

import pytest

from chaos import Experiment, LedgerViolation, Plan, RecordingTarget, negative_control
from fixtures.backlog import BacklogCrash
from fixtures.plans import REACTION_RATE
from fixtures.system import System

# Alone (fixtures/turns.py): the worker's restart and its backlog take both cores.
pytestmark = [pytest.mark.experiment(), pytest.mark.alone]

PLAN = Plan(baseline=3.0, fault=2.0, recovery=2.0)
# Accepted and not yet delivered at the kill: more than the worker's prefetch (10), so its
# window is full. Counted end to end, as an auto-acking worker empties the queue into itself.
BACKLOG = 15
IN_DOUBT = 1
"""Pushes in flight at once: the worker pushes one message at a time."""


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
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok(max_duplicated=IN_DOUBT)
