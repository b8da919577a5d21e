"""Hypothesis: a broker that refuses messages for a while loses none of them.

For two seconds the work queue is full and rejects every new message (a max-length 0 policy with
overflow reject-publish), so the broker nacks each publish. The publisher in confirm mode sees
every nack: the reaction goes to the outbox instead, and the outbox drains once the broker takes
messages again. Every accepted reaction is delivered: lost = 0.

Negative control (expected to fail): without publisher confirms a publish counts as done once
written to the socket; the broker drops what it refuses, the client got its 202, and the
reaction is lost.
"""

from __future__ import annotations

import pytest

from chaos import Experiment, LedgerViolation, Plan, RecordingTarget, negative_control
from fixtures.plans import REACTION_RATE
from fixtures.system import System

pytestmark = pytest.mark.experiment()

# Ledger only (no latency verdict): a short baseline; the fault long enough for about 30 refused
# reactions at 15/s.
PLAN = Plan(baseline=1.0, fault=2.0, recovery=1.0)


@pytest.mark.parametrize(
    "confirms", [True, negative_control(False, "publisher confirms", LedgerViolation)]
)
def test_refused_messages_are_not_lost(
    experiment: Experiment, system: System, reactions: RecordingTarget, confirms: bool
) -> None:
    system.set_mode("async")
    system.protections("reactions", confirms=confirms)
    run = experiment(
        PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=system.broker_refusing,
        probes={"outbox": system.outbox_size},
    )
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
    # Evidence that the broker refused: the nacked reactions waited in the outbox.
    outbox = run.samples("outbox")
    assert outbox and max(outbox) > 0, f"the outbox never held a reaction: {outbox}"
