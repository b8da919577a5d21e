"""Hypothesis: a dependency that hangs costs each caller at most its timeout, never more.

A hung dependency accepts a call and never answers it. Each caller's timeouts bound what such
a call can take from it, so:
- a hung push provider (every push made during the hang waits HANG_MS, then fails unrecorded):
  the worker gives up on its push after 1 s, its breaker and requeue do the rest, and every
  accepted reaction is delivered, its lag back under a second; on the sync chain,
  notifications gives up after 2 s and reactions succeed again within RECOVER_S of the hang's
  end;
- a hung broker (the publisher's edge swallows every frame): a publish waits at most its
  timeout, then the outbox takes the reaction, and the next ones at once: reactions succeed
  through the hang;
- a hung reactions (SIGSTOP): the gateway answers every request within its call timeout plus
  its queue timeout, with a 504 or a 503 if need be: its bounded concurrency lets 4 calls wait,
  and the others get a 503 once no slot freed up within the queue timeout.

Negative controls (expected to fail), each removing one service's timeouts: a call caught by
the hang holds what it holds for as long as the hang lasts: the worker's one push at a time,
notifications' pool of connections (long after the provider is back), each request waiting on
reactions' publisher, the gateway's slots and its clients. And without the gateway's bounded
concurrency, every request waits for a pooled connection (up to its pool timeout, 5 s) before
its call timeout even begins. The test cuts the connections left stuck (after the verdict), so
that the next experiment finds a working system.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest

from chaos import (
    Experiment,
    HintedProbe,
    HypothesisFailed,
    NotRecovered,
    Plan,
    RecordingTarget,
    Run,
    SettleTimeout,
    assert_lag_recovered,
    delivery_lag,
    fault,
    judge,
    negative_control,
    probe,
    settle_ledger,
)
from fixtures.plans import LAG_UNDER_S, REACTION_RATE
from fixtures.plant import PlantFault
from fixtures.system import System

pytestmark = pytest.mark.experiment()

HANG_S = 2.0
HANG_MS = 30_000
"""How long a push made during the hang waits: longer than anything the test waits for."""
MAX_ERROR_SHARE = 0.05
"""Of the judged requests (about 45 at 15/s), those that may fail: one stray error is noise."""
MIN_JUDGED = 20

# A push caught by the hang ends within notifications' push timeout (2 s); the requests queued
# behind it at the gateway wait at most its queue timeout (1 s) for a slot: 3 s, and 1 s more.
RECOVER_S = 4.0
# 4 s judged: 60 requests offered, fewer answered in time when the gateway queues them.
SYNC_PLAN = Plan(baseline=2.0, fault=HANG_S, recovery=RECOVER_S + 4.0)

# The worker meets the hang mid-push: 3 attempts of 1 s (WORKER_PUSH_TIMEOUT_S) open its
# breaker, whose trial 1.5 s later finds the provider back; the backlog then drains at once.
LAG_WITHIN_S = 3.0
ASYNC_PLAN = Plan(baseline=2.0, fault=HANG_S, recovery=LAG_WITHIN_S + 1.5)
DELIVER_S = 5.0
"""How long after the run the accepted reactions may take to arrive: what is missing then is
judged by the lag verdict (never delivered), not waited for."""

# The first publish caught by the hang waits out the publish timeout (0.5 s): judge from 1 s on.
BROKER_PLAN = Plan(baseline=2.0, fault=4.0, recovery=1.0)
BROKER_JUDGED_FROM_S = 1.0

# The gateway holds a call at most its timeout (3 s), after at most its queue timeout (1 s) for
# a slot: 4 s, and 1 s of margin (a histogram bucket of the gateway's). The freeze lasts well
# beyond that: a call it catches without a timeout waits the whole 8 s.
ANSWER_WITHIN_S = 5.0
FREEZE_PLAN = Plan(baseline=2.0, fault=8.0, recovery=1.0)
_ALL = re.compile(r'^gateway_latency_seconds_count\{endpoint="reactions"\} (\S+)$', re.M)
_WITHIN = re.compile(
    rf'^gateway_latency_seconds_bucket\{{endpoint="reactions",le="{ANSWER_WITHIN_S}"\}} (\S+)$',
    re.M,
)
"""The gateway's histogram bucket at ANSWER_WITHIN_S (one of prometheus_client's defaults)."""


def _remove(system: System, caller: str) -> str:
    """`caller` is a service, or "service.protection" for a control: switch that one off, and
    return the service."""
    service, _, protection = caller.partition(".")
    if protection:
        system.protections(service, **{protection: False})
    return service


@contextlib.contextmanager
def freed_afterwards(system: System, edge: str) -> Iterator[None]:
    """Cut the connections of `edge` at the end of the block (after the verdict, even a failed
    one): a caller without timeouts is otherwise stuck on them, into the next test."""
    try:
        yield
    finally:
        system.proxy(edge).cut()


def provider_hang(system: System) -> contextlib.AbstractContextManager[object]:
    """Every push that arrives in the block waits HANG_MS, then fails without being recorded."""
    return fault(
        "hang",
        "push_provider",
        lambda: system.push_faults(error_rate=1.0, delay_ms=HANG_MS),
        system.push_faults,
        {"delay_ms": HANG_MS, "error_rate": 1.0},
    )


_ANSWER = re.compile(r'^gateway_requests_total\{endpoint="reactions",status="(\d+)"\} (\S+)$', re.M)


def gateway_answers(system: System) -> dict[str, HintedProbe]:
    """Probes of the gateway's answers to POST /reactions so far: the 5xx, and the others.

    Counted by the gateway as it answers, so a load generator lagging on a loaded machine
    (its latency counts from the scheduled start) cannot turn a fast answer into a failure.
    """

    def count(failed: bool) -> float:
        text = system.http.get(system.url("gateway") + "/metrics").text
        by_status = {status: float(value) for status, value in _ANSWER.findall(text)}
        return sum(n for status, n in by_status.items() if (status >= "500") == failed)

    return {
        "ok": probe(lambda: count(False), title="Reactions answered (not 5xx)", unit="requests"),
        "failed": probe(lambda: count(True), title="Reactions failed (5xx)", unit="requests"),
    }


def succeeded_from(run: Run, phase: str, seconds: float, until: str | None) -> None:
    """Judge the gateway's answers from `seconds` after `phase` began until the phase `until`
    begins (None: the end of the run): at most MAX_ERROR_SHARE of them may be a 5xx."""
    assert run.probes is not None and run.probes_started_wall is not None
    t0 = run.probes_started_wall
    start = run.marks[phase] + seconds - t0
    ok = run.probes["series"]["ok"]
    failed = run.probes["series"]["failed"]
    # To the end: up to the last sample, when the requests sent last have been answered too.
    end = run.marks[until] - t0 if until else max(t for t, _ in failed)

    def delta(series: list[list[float]]) -> float:
        inside = [value for t, value in series if start <= t <= end]
        return inside[-1] - inside[0] if len(inside) >= 2 else 0.0

    errors = delta(failed)
    total = delta(ok) + errors
    span = f"from {seconds} s into the {phase} to {'the end' if until is None else until}"
    assert total >= MIN_JUDGED, (
        f"only {total:.0f} reactions answered {span} (need {MIN_JUDGED}): lengthen the {phase}"
    )
    share = errors / total
    seen = dict(run.phase("reactions", phase).errors)
    judge(
        "succeeded",
        share <= MAX_ERROR_SHARE,
        f"{errors:.0f} of {total:.0f} reactions answered {span} were 5xx ({share:.0%}, at most"
        f" {MAX_ERROR_SHARE:.0%}; the load generator's whole {phase}: {seen})",
        phase=phase,
        judged_from_s=seconds,
        answered=int(total),
        failed=int(errors),
    )


@pytest.mark.parametrize(
    "caller",
    [
        "notifier_worker",
        negative_control("notifier_worker.timeouts", "worker timeouts", NotRecovered),
    ],
)
def test_hung_provider_costs_the_worker_its_timeout(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    caller: str,
    plant: PlantFault,
) -> None:
    system.set_mode("async")
    _remove(system, caller)
    with freed_afterwards(system, "worker-push"):
        run = experiment(
            ASYNC_PLAN,
            {"reactions": (reactions, REACTION_RATE)},
            # Planted (tests/experiments), pushes slowed from the rollback on: lag not back.
            fault=plant(lambda: provider_hang(system), at="pushes", after=True),
            probes={"queue_depth": system.queue_depth},
        )
        # Bounded: what is still missing then is the lag verdict's "never delivered".
        with contextlib.suppress(SettleTimeout):
            settle_ledger(reactions, system.delivered, timeout=DELIVER_S)
        lag = delivery_lag(reactions.accepted_at, system.delivered_at(), run)
        assert_lag_recovered(lag, under_s=LAG_UNDER_S, within_s=LAG_WITHIN_S)
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()


@pytest.mark.parametrize(
    "caller",
    [
        "notifications",
        negative_control("notifications.timeouts", "notifications timeouts", HypothesisFailed),
    ],
)
def test_hung_provider_costs_notifications_its_timeout(
    experiment: Experiment, system: System, reactions: RecordingTarget, caller: str
) -> None:
    system.set_mode("sync")
    _remove(system, caller)
    with freed_afterwards(system, "notifications-push"):
        run = experiment(
            SYNC_PLAN,
            {"reactions": (reactions, REACTION_RATE)},
            fault=lambda: provider_hang(system),
            probes=gateway_answers(system),
        )
        succeeded_from(run, "recovery", RECOVER_S, until=None)


@pytest.mark.parametrize(
    "caller",
    ["reactions", negative_control("reactions.timeouts", "reactions timeouts", HypothesisFailed)],
)
def test_hung_broker_costs_a_publish_its_timeout(
    experiment: Experiment, system: System, reactions: RecordingTarget, caller: str
) -> None:
    system.set_mode("async")
    _remove(system, caller)
    edge = system.proxy("reactions-broker")
    with freed_afterwards(system, "reactions-broker"):
        run = experiment(
            BROKER_PLAN,
            {"reactions": (reactions, REACTION_RATE)},
            fault=lambda: edge.timeout(0, stream="upstream"),
            probes={"outbox": system.outbox_size, **gateway_answers(system)},
        )
        succeeded_from(run, "fault", BROKER_JUDGED_FROM_S, until="recovery")
    system.check_ledger(reactions.accepted, reactions.unknown).assert_ok()


@pytest.mark.parametrize(
    "caller",
    [
        "gateway",
        negative_control("gateway.timeouts", "gateway timeouts", HypothesisFailed),
        negative_control(
            "gateway.bounded_concurrency", "gateway bounded concurrency", HypothesisFailed
        ),
    ],
)
def test_hung_reactions_costs_a_client_the_gateways_timeouts(
    experiment: Experiment, system: System, reactions: RecordingTarget, caller: str
) -> None:
    system.set_mode("sync")
    _remove(system, caller)

    def slower_than_bound() -> float:
        """POST /reactions answered so far in more than ANSWER_WITHIN_S, by the gateway's clock."""
        text = system.http.get(system.url("gateway") + "/metrics").text
        return float(_ALL.findall(text)[0]) - float(_WITHIN.findall(text)[0])

    before = slower_than_bound()
    with freed_afterwards(system, "gateway-reactions"):
        experiment(
            FREEZE_PLAN,
            {"reactions": (reactions, REACTION_RATE)},
            fault=system.stack.services["reactions"].paused,
        )
        # The calls the freeze caught are answered once reactions resumes: count them too.
        system.wait_for(
            "the gateway idle", lambda: system.metric("gateway", "gateway_inflight") == 0, 15
        )
    slow = slower_than_bound() - before
    judge(
        "answered within the timeouts",
        slow == 0,
        f"{slow:.0f} reactions took the gateway more than {ANSWER_WITHIN_S} s to answer, during"
        f" the freeze or after it (expected none: its queue timeout, 1 s, plus its call timeout,"
        f" 3 s, and 1 s of margin)",
        slower=int(slow),
        within_s=ANSWER_WITHIN_S,
    )
