"""Hypothesis: after a frozen broker and cut AMQP links, everything recovers by itself.

RabbitMQ is frozen with SIGSTOP (sockets open, nothing answers) and both AMQP links, the
publisher's and the consumer's, are cut at the proxy. Once the broker is resumed, the publisher
and the consumer reconnect without operator action and every accepted reaction is delivered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from chaos import Experiment, RecordingTarget, judge
from fixtures.plans import PLAN, REACTION_RATE
from fixtures.system import System

pytestmark = pytest.mark.experiment()


# Once the broker is back, clients see no more than noise.
MAX_RECOVERY_ERROR_RATE = 0.05


def test_frozen_broker_and_cut_links_recover(
    experiment: Experiment, system: System, reactions: RecordingTarget
) -> None:
    system.set_mode("async")
    links = [system.proxy("reactions-broker"), system.proxy("worker-broker")]

    @contextlib.contextmanager
    def fault() -> Iterator[None]:
        with system.broker_freeze():
            for link in links:
                link.cut()
            yield

    run = experiment(PLAN, {"reactions": (reactions, REACTION_RATE)}, fault=fault)
    # While frozen, requests wait out one publish timeout before the outbox takes them, so the
    # gateway may shed some: that is measured, not judged. The hypothesis is about recovery.
    recovery = run.phase("reactions", "recovery")
    judge(
        "recovered",
        recovery.error_rate <= MAX_RECOVERY_ERROR_RATE,
        f"recovery error rate {recovery.error_rate:.1%} (at most {MAX_RECOVERY_ERROR_RATE:.0%})",
        recovery_error_rate=round(recovery.error_rate, 4),
        fault_error_rate=round(run.phase("reactions", "fault").error_rate, 4),
    )
    system.wait_for(
        "publisher reconnected", lambda: system.metric("reactions", "broker_connected") == 1
    )
    system.wait_for(
        "consumer reconnected", lambda: system.metric("notifier_worker", "consumer_connected") == 1
    )
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
