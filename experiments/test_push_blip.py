"""Hypothesis: a blip of the push provider shorter than the worker's retry window is absorbed by
its retries: the breaker stays closed and no message is requeued.

The worker's edge to the push provider goes down for a tenth of a second (connections refused
and closed) while reactions arrive in async mode. A push that meets it fails at once; the
worker retries with exponential backoff and jitter (WORKER_RETRY_BACKOFF_S 0.1: waits of
0.1-0.2 s, then 0.2-0.3 s), so its third attempt comes at least RETRY_WINDOW_S after its first,
after the blip. Two failures do not open the breaker (3 in a row do), so nothing is requeued
and nothing waits for the breaker's reset. Every reaction is delivered, once but for at most
the one push in flight when the blip closed its connection: the provider may have recorded it
before its answer was lost, and the worker, which asks the provider only about a redelivered
message (test_consumer_crash), not between its own retries, pushes it again (seen once in 4
runs).

Negative control (expected to fail): retries at once, without backoff, spend all three
attempts inside the blip; the third failure opens the breaker and the message is requeued.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest

from chaos import Experiment, HypothesisFailed, Plan, RecordingTarget, judge, negative_control
from fixtures.plans import REACTION_RATE
from fixtures.system import System

# Untimed (fixtures/turns.py): no latency is judged, so it may run beside a broker restart.
pytestmark = [pytest.mark.experiment(), pytest.mark.untimed]

BLIP_S = 0.1
RETRY_WINDOW_S = 0.3
"""The shortest time from a push's first attempt to its third: the waits' lower bounds."""
IN_DOUBT = 1
"""Pushes in flight at once: the worker pushes one message at a time."""
# No latency verdict (the gateway never sees the blip): the load only feeds the worker.
PLAN = Plan(baseline=1.0, fault=BLIP_S, recovery=1.5)


@pytest.mark.parametrize(
    "retry_backoff",
    [
        True,
        negative_control(False, "worker retries with backoff inside a budget", HypothesisFailed),
    ],
)
def test_push_blip_is_absorbed_by_retries(
    experiment: Experiment, system: System, reactions: RecordingTarget, retry_backoff: bool
) -> None:
    system.set_mode("async")
    system.protections("notifier_worker", retry_backoff=retry_backoff)
    edge = system.proxy("worker-push")
    window: dict[str, float] = {}

    @contextlib.contextmanager
    def blip() -> Iterator[None]:
        window["from"] = time.monotonic()
        with edge.down():
            yield
        window["to"] = time.monotonic()

    def worker(name: str, labels: dict[str, str] | None = None) -> float:
        return system.metric("notifier_worker", name, labels, default=0.0)

    opened = {"from": "closed", "to": "open"}
    before = {
        "retries": worker("worker_push_retries"),
        "requeued": worker("worker_requeued"),
        "opened": worker("breaker_transitions", opened),
    }
    experiment(PLAN, {"reactions": (reactions, REACTION_RATE)}, fault=blip)
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok(max_duplicated=IN_DOUBT)
    seen = {
        "retries": worker("worker_push_retries") - before["retries"],
        "requeued": worker("worker_requeued") - before["requeued"],
        "opened": worker("breaker_transitions", opened) - before["opened"],
    }
    lasted = window["to"] - window["from"]
    # The evidence the verdict needs: the blip met a push, and was shorter than the window.
    assert seen["retries"] > 0, f"the blip met no push (no retry counted): {seen}"
    assert lasted < RETRY_WINDOW_S, (
        f"the blip lasted up to {lasted:.3f} s (apply to rollback), not under the retries'"
        f" {RETRY_WINDOW_S} s window: nothing to judge; a loaded machine? rerun"
    )
    judge(
        "blip absorbed",
        seen["opened"] == 0 and seen["requeued"] == 0,
        f"a {lasted * 1000:.0f} ms blip: {seen['retries']:.0f} retries, the breaker opened"
        f" {seen['opened']:.0f} times, {seen['requeued']:.0f} messages requeued (expected 0 and 0)",
        blip_ms=round(lasted * 1000, 1),
        **{k: int(v) for k, v in seen.items()},
    )
