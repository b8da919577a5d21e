"""Hypothesis: naive retries multiply the load on a struggling dependency; disciplined ones don't.

The push provider fails every call for a while: the proxy on the worker -> push-provider edge
answers each HTTP call with 503 (an `http_error` toxic; the provider's own code is untouched).
A worker that retries at once, many times, with no breaker sends it several calls for every
message (a retry storm); the worker as designed (tenacity with exponential backoff, jitter and a
stop, behind a circuit breaker) sends it fewer calls than there are messages. The amplification
factor is the calls sent to the provider during the failure (the worker's count of its HTTP
calls, as the proxy answers them in the provider's place) divided by the messages that arrived
in that time. Both deliver everything once it heals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from chaos import Experiment, Plan, RecordingTarget, judge
from fixtures.plans import REACTION_RATE
from fixtures.system import System

pytestmark = pytest.mark.experiment()


PLAN = Plan(baseline=2.0, fault=4.0, recovery=2.0)
NAIVE = {
    "WORKER_RETRY_ATTEMPTS": "50",
    "WORKER_RETRY_BACKOFF_S": "0",
    "WORKER_RETRY_BACKOFF_MAX_S": "0",
    "WORKER_RETRY_JITTER_S": "0",
    "WORKER_RETRY_MAX_S": "30",
    "WORKER_BREAKER_FAIL_MAX": "1000000",
}


def amplification(experiment: Experiment, system: System, reactions: RecordingTarget) -> float:
    calls: dict[str, float] = {}
    edge = system.proxy("worker-push")

    def provider_calls() -> float:
        return system.metric("notifier_worker", "worker_push_calls", default=0.0)

    @contextlib.contextmanager
    def provider_failing() -> Iterator[None]:
        calls["before"] = provider_calls()
        try:
            with edge.http_error(503, match={"path": "/push"}):
                yield
        finally:
            calls["after"] = provider_calls()

    system.set_mode("async")
    run = experiment(PLAN, {"reactions": (reactions, REACTION_RATE)}, fault=provider_failing)
    messages = run.phase("reactions", "fault").ok
    assert messages > 0, "no reaction was accepted during the failure"
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
    return (calls["after"] - calls["before"]) / messages


@pytest.mark.parametrize("naive", [True, False], ids=["naive-retries", "backoff-breaker"])
def test_retry_amplification(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    naive: bool,
) -> None:
    if naive:
        with system.stack.replaced("notifier_worker", NAIVE):
            factor = amplification(experiment, system, reactions)
        judge(
            "retry storm",
            factor >= 2.0,
            f"naive retries sent the failing provider x{factor:.2f} calls per message "
            "(expected >= x2)",
            amplification=round(factor, 2),
        )
    else:
        factor = amplification(experiment, system, reactions)
        judge(
            "no retry storm",
            factor <= 1.0,
            f"backoff and breaker sent the failing provider x{factor:.2f} calls per message "
            "(expected <= x1)",
            amplification=round(factor, 2),
        )
