"""Hypothesis: the publisher's retries ride out a broker blip shorter than their budget.

The publisher's link to the broker is cut and the broker refuses connections for one second
(its proxy down), then takes them again. The publisher retries with an exponential backoff
(0.5 s, then 1 s, then 1 s) inside a 3 s budget, so its attempts outlast the blip: no publish is
given up on (publish failures = 0), and every accepted reaction is delivered (lost = 0).

These are not the stack's retry settings (0.05 s, then 0.1 s: a 0.15 s span, too short to
time a blip against on a loaded machine); reactions runs with these ones for this module.

Negative control (expected to fail): with retry_backoff off, the attempts follow each other at
once and all land inside the blip: publishes are given up on (to the outbox, so still no loss).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from chaos import Experiment, HypothesisFailed, Plan, RecordingTarget, judge, negative_control
from fixtures.plans import REACTION_RATE
from fixtures.stack import SampleStack
from fixtures.system import System

# Untimed (fixtures/turns.py): no latency is judged, so it may run beside a broker restart.
pytestmark = [pytest.mark.experiment(), pytest.mark.untimed]

# Attempts at 0, 0.5, 1.5 and 2.5 s after the first failure: the third lands 0.5 s after a 1 s
# blip, the fourth is the margin; the budget (3 s) lets all four run.
RETRIES = {
    "REACTIONS_PUBLISH_ATTEMPTS": "4",
    "REACTIONS_PUBLISH_BACKOFF_S": "0.5",
    "REACTIONS_PUBLISH_BACKOFF_MAX_S": "1.0",
    "REACTIONS_PUBLISH_MAX_S": "3.0",
}
# No latency verdict: a short baseline. The recovery outlasts the last retry (2.5 s after the
# first failure, 1.5 s after the blip).
PLAN = Plan(baseline=1.0, fault=1.0, recovery=2.0)


@pytest.fixture(scope="module")
def spaced_retries(sample_stack: SampleStack) -> Iterator[None]:
    """reactions with RETRIES for this module's tests (one restart each way, not per test)."""
    with sample_stack.replaced("reactions", RETRIES):
        yield


@pytest.mark.parametrize(
    "retry_backoff",
    [
        True,
        negative_control(False, "publisher retries with backoff inside a budget", HypothesisFailed),
    ],
)
def test_publisher_rides_out_a_broker_blip(
    spaced_retries: None,
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    retry_backoff: bool,
) -> None:
    system.set_mode("async")
    system.protections("reactions", retry_backoff=retry_backoff)
    counts: dict[str, dict[str, float]] = {}

    def publisher_counts() -> dict[str, float]:
        return {
            name: system.metric("reactions", f"publish_{name}", default=0.0)
            for name in ("retries", "failures")
        }

    @contextlib.contextmanager
    def blip() -> Iterator[None]:
        counts["before"] = publisher_counts()
        with system.proxy("reactions-broker").down():
            yield

    experiment(PLAN, {"reactions": (reactions, REACTION_RATE)}, fault=blip)
    after = publisher_counts()
    retries, failures = (after[k] - counts["before"][k] for k in ("retries", "failures"))
    # Evidence that the blip met the publisher: it retried.
    assert retries > 0, f"the publisher never retried: {counts['before']} -> {after}"
    judge(
        "rode out the blip",
        failures == 0,
        f"{failures:g} publishes given up on after {retries:g} retries (expected none)"
        if failures
        else f"no publish given up on; {retries:g} retries rode the blip out",
        retries=retries,
        failures=failures,
    )
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()
