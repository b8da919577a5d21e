"""Hypothesis: naive retries multiply the load on a struggling dependency; disciplined ones don't.

The push provider fails every call for a while: the proxy on the worker -> push-provider edge
answers each HTTP call with 503 (an `http_error` toxic; the provider's own code is untouched).
A worker that retries at once, many times, with no breaker sends it several calls for every
message (a retry storm); the worker as designed (tenacity with exponential backoff, jitter and a
stop, behind a circuit breaker) sends it fewer calls than there are messages. The amplification
factor is the calls sent to the provider during the failure (the worker's count of its HTTP
calls, as the proxy answers them in the provider's place) divided by the messages that arrived
in that time. Both deliver everything once it heals.

The breaker's own share: once open, it lets through only one trial call per reset period, so
the failing provider gets at most the calls that opened it plus those trials, however many
messages wait. Backoff alone would keep the factor under x1 (each message's retries take
0.3-0.5 s), so that bound, not the factor, is what needs the breaker.

Negative controls (expected to fail), each removing one protection of the worker:
- no breaker (backoff still on): every message's three attempts reach the provider, several
  times the bound;
- transient failures dead-lettered like poison (an open breaker, retries exhausted): the
  messages that met the failure are lost instead of requeued.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chaos import (
    Experiment,
    HypothesisFailed,
    LedgerViolation,
    Plan,
    RecordingTarget,
    judge,
    negative_control,
)
from fixtures.plans import REACTION_RATE
from fixtures.system import System

# Untimed (fixtures/turns.py): no latency is judged, so it may run beside a broker restart.
pytestmark = [pytest.mark.experiment(), pytest.mark.untimed]


PLAN = Plan(baseline=2.0, fault=4.0, recovery=2.0)
NAIVE = {
    "WORKER_RETRY_ATTEMPTS": "50",
    "WORKER_RETRY_BACKOFF_S": "0",
    "WORKER_RETRY_BACKOFF_MAX_S": "0",
    "WORKER_RETRY_JITTER_S": "0",
    "WORKER_RETRY_MAX_S": "30",
    "WORKER_BREAKER_FAIL_MAX": "1000000",
}
# The worker's breaker as the stack runs it (fixtures.system.STACK_ENV).
BREAKER_FAIL_MAX = 3
BREAKER_RESET_S = 1.5


@dataclass(frozen=True)
class Storm:
    """Provider calls during the failure, the messages that arrived then, and its length."""

    calls: float
    messages: int
    seconds: float

    @property
    def factor(self) -> float:
        return self.calls / self.messages

    @property
    def breaker_bound(self) -> int:
        """Calls an open breaker lets through: those that open it, then one trial per reset
        period (the first one once the failure began, the last one at its end)."""
        return BREAKER_FAIL_MAX + math.ceil(self.seconds / BREAKER_RESET_S) + 1


def amplification(experiment: Experiment, system: System, reactions: RecordingTarget) -> Storm:
    calls: dict[str, float] = {}
    edge = system.proxy("worker-push")

    def provider_calls() -> float:
        return system.metric("notifier_worker", "worker_push_calls", default=0.0)

    @contextlib.contextmanager
    def provider_failing() -> Iterator[None]:
        calls["before"] = provider_calls()
        try:
            with edge.http_error(503, match={"path": "/push"}):
                calls["started"] = time.monotonic()
                yield
        finally:
            calls["ended"] = time.monotonic()
            calls["after"] = provider_calls()

    system.set_mode("async")
    run = experiment(PLAN, {"reactions": (reactions, REACTION_RATE)}, fault=provider_failing)
    messages = run.phase("reactions", "fault").ok
    assert messages > 0, "no reaction was accepted during the failure"
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
    return Storm(calls["after"] - calls["before"], messages, calls["ended"] - calls["started"])


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param("naive", id="naive-retries"),
        pytest.param("designed", id="backoff-breaker"),
        negative_control("notifier_worker.breaker", "worker breaker", HypothesisFailed),
        negative_control(
            "notifier_worker.requeue_transient",
            "dead-lettering only poison or rejected messages",
            LedgerViolation,
        ),
    ],
)
def test_retry_amplification(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    variant: str,
) -> None:
    if variant == "naive":
        with system.stack.replaced("notifier_worker", NAIVE):
            factor = amplification(experiment, system, reactions).factor
        judge(
            "retry storm",
            factor >= 2.0,
            f"naive retries sent the failing provider x{factor:.2f} calls per message "
            "(expected >= x2)",
            amplification=round(factor, 2),
        )
        return
    if variant != "designed":
        service, protection = variant.split(".")
        system.protections(service, **{protection: False})
    storm = amplification(experiment, system, reactions)
    judge(
        "no retry storm",
        storm.factor <= 1.0,
        f"backoff and breaker sent the failing provider x{storm.factor:.2f} calls per message "
        "(expected <= x1)",
        amplification=round(storm.factor, 2),
    )
    judge(
        "breaker sheds the load",
        storm.calls <= storm.breaker_bound,
        f"the failing provider got {storm.calls:.0f} calls in {storm.seconds:.1f} s (expected"
        f" <= {storm.breaker_bound}: {BREAKER_FAIL_MAX} to open the breaker, then one trial per"
        f" {BREAKER_RESET_S} s)",
        calls=storm.calls,
        bound=storm.breaker_bound,
        failure_s=round(storm.seconds, 2),
    )
