"""Hypothesis: a broker that refuses messages for a while loses none of them.

For two seconds the work queue is full and rejects every new message (a max-length 0 policy with
overflow reject-publish), so the broker nacks each publish. The publisher in confirm mode sees
every nack: the reaction goes to the outbox instead, and the outbox keeps it (the drainer's
attempts are nacked too) until the broker takes messages again. Every accepted reaction is
delivered: lost = 0.

Negative controls (expected to fail), each removing one protection:
- no publisher confirms: a publish counts as done once written to the socket; the broker drops
  what it refuses, the client got its 202, and the reaction is lost;
- the outbox row deleted before its publish is confirmed: each drain attempt the broker nacks
  loses its row.
"""

from __future__ import annotations

import pytest

from chaos import Experiment, LedgerViolation, Plan, RecordingTarget, negative_control
from fixtures.plans import REACTION_RATE
from fixtures.system import System

# Untimed (fixtures/turns.py): no latency is judged, so it may run beside a broker restart.
pytestmark = [pytest.mark.experiment(), pytest.mark.untimed]

# Ledger only (no latency verdict, so no baseline to pollute): a short baseline; the fault long
# enough for about 30 refused reactions at 15/s and several drain attempts.
PLAN = Plan(baseline=1.0, fault=2.0, recovery=1.0)


@pytest.mark.parametrize(
    "removed",
    [
        pytest.param(None, id="protected"),
        negative_control("confirms", "publisher confirms", LedgerViolation),
        negative_control(
            "delete_after_confirm", "deleting an outbox row only after its confirm", LedgerViolation
        ),
    ],
)
def test_refused_messages_are_not_lost(
    experiment: Experiment, system: System, reactions: RecordingTarget, removed: str | None
) -> None:
    system.set_mode("async")
    if removed is not None:
        system.protections("reactions", **{removed: False})
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
