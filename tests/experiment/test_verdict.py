"""Tests for chaos.experiment._verdict: tolerances and hypothesis verdicts, passing and failing."""

from __future__ import annotations

import asyncio
import json
import random
import re

import pytest

from chaos.experiment._clock import FakeClock
from chaos.experiment._load import LoadGenerator, PhaseResult
from chaos.experiment._verdict import (
    CascadeNotObserved,
    ContainmentBroken,
    HypothesisFailed,
    InsufficientData,
    NotRecovered,
    Tolerance,
    Verdict,
    assert_cascade,
    assert_contained,
    assert_recovered,
    check_cascade,
    check_contained,
)

pytestmark = pytest.mark.timeout(30)


def make_phase(name: str, latencies_ms: list[float], errors: int = 0) -> PhaseResult:
    """A phase built by hand: successes with these latencies plus `errors` timeouts."""
    phase = PhaseResult(name)
    for ms in latencies_ms:
        phase.latency.record(ms / 1000)
        phase.latency_all.record(ms / 1000)
    phase.ok = len(latencies_ms)
    phase.errors["timeout"] = errors
    phase.scheduled = phase.sent = phase.ok + errors
    return phase


BASELINE = make_phase("baseline", [5.0] * 100)


# -- cascade ----------------------------------------------------------------------------------


def test_cascade_observed_through_latency() -> None:
    fault = make_phase("fault", [505.0] * 100)
    verdict = assert_cascade(BASELINE, fault, injected_delay_ms=500)
    assert isinstance(verdict, Verdict)
    assert verdict.passed and verdict.name == "cascade"
    # HDR reports a bucket's highest equivalent value: within 0.1 % of what was recorded.
    assert re.match(
        r"p50 rose by 500\.\d ms \(>= 250\.0 ms = 0\.5 x 500 ms injected\)", verdict.reason
    )
    assert verdict.figures["latency_rise_ms"] == pytest.approx(500.0, rel=1e-3)
    assert verdict.figures["required_rise_ms"] == 250.0


def test_cascade_observed_through_errors() -> None:
    fault = make_phase("fault", [6.0] * 50, errors=50)
    verdict = assert_cascade(BASELINE, fault, injected_delay_ms=500)
    assert "error rate rose by 50.0%" in verdict.reason


def test_cascade_when_every_fault_request_failed() -> None:
    fault = make_phase("fault", [], errors=100)
    verdict = assert_cascade(BASELINE, fault, injected_delay_ms=500)
    assert verdict.figures["fault_p50_ms"] is None
    assert verdict.figures["fault_error_rate"] == 1.0


def test_no_cascade_fails_with_the_figures() -> None:
    fault = make_phase("fault", [8.0] * 97, errors=3)
    with pytest.raises(CascadeNotObserved) as info:
        assert_cascade(BASELINE, fault, injected_delay_ms=500, share=0.5)
    err = info.value
    assert isinstance(err, HypothesisFailed) and isinstance(err, AssertionError)
    assert not err.verdict.passed and not err.verdict.inconclusive
    message = str(err)
    assert "no cascade: p50 rose by 3.0 ms (needed >= 250.0 ms = 0.5 x 500 ms injected)" in message
    assert "error rate rose by 3.0% (0.0% -> 3.0%) (needed >= 10.0%)" in message
    assert "baseline_p50_ms=5.0" in message
    assert err.figures["fault_p50_ms"] == pytest.approx(8.0, rel=1e-3)


def test_cascade_on_p99_sees_a_tail_only_cascade() -> None:
    fault = make_phase("fault", [5.0] * 90 + [1005.0] * 10)
    with pytest.raises(CascadeNotObserved):
        assert_cascade(BASELINE, fault, injected_delay_ms=1000)
    verdict = assert_cascade(BASELINE, fault, injected_delay_ms=1000, percentile=99)
    assert re.match(r"p99 rose by 1000\.\d ms", verdict.reason)


def test_check_cascade_returns_a_failed_verdict_without_raising() -> None:
    verdict = check_cascade(BASELINE, make_phase("fault", [5.0] * 100), injected_delay_ms=100)
    assert verdict.passed is False
    assert verdict.reason.startswith("no cascade")


def test_too_few_samples_is_inconclusive() -> None:
    tiny = make_phase("baseline", [5.0] * 3)
    with pytest.raises(InsufficientData, match="'baseline' has 3 successful requests, need >= 20"):
        assert_cascade(tiny, make_phase("fault", [500.0] * 100), injected_delay_ms=500)
    with pytest.raises(InsufficientData, match="'fault' has 4 settled requests") as info:
        assert_contained(BASELINE, make_phase("fault", [5.0] * 4))
    assert info.value.verdict.inconclusive


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"injected_delay_ms": 0}, "injected_delay_ms must be > 0, got 0"),
        ({"injected_delay_ms": 100, "share": 0}, "share.*got 0"),
        ({"injected_delay_ms": 100, "share": 1.5}, "share.*got 1.5"),
        ({"injected_delay_ms": 100, "error_rate_margin": 0}, "error_rate_margin.*got 0"),
    ],
)
def test_cascade_rejects_bad_arguments(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_cascade(BASELINE, BASELINE, **kwargs)


# -- containment and recovery -----------------------------------------------------------------


def test_contained_when_within_tolerance() -> None:
    fault = make_phase("fault", [9.0] * 99, errors=1)
    verdict = assert_contained(BASELINE, fault)
    assert verdict.passed and verdict.name == "contained"
    assert "fault p99 9.0 ms <= 115.0 ms = 3 x baseline 5.0 + 100" in verdict.reason
    assert verdict.figures["p99_limit_ms"] == pytest.approx(115.0, rel=1e-3)


def test_containment_broken_by_latency() -> None:
    fault = make_phase("fault", [5.0] * 90 + [800.0] * 10)
    with pytest.raises(ContainmentBroken) as info:
        assert_contained(BASELINE, fault)
    assert re.search(
        r"fault p99 800\.\d ms > 115\.0 ms = 3 x baseline 5\.0 \+ 100", str(info.value)
    )
    assert "error rate" not in info.value.verdict.reason


def test_containment_broken_by_errors() -> None:
    fault = make_phase("fault", [5.0] * 90, errors=10)
    with pytest.raises(ContainmentBroken, match=r"fault error rate 10.0% > 2.0% \(baseline 0.0%"):
        assert_contained(BASELINE, fault)


def test_containment_with_a_custom_tolerance() -> None:
    fault = make_phase("fault", [5.0] * 90, errors=10)
    tolerance = Tolerance(error_rate_slack=0.2, ratio=1, slack_ms=1)
    assert assert_contained(BASELINE, fault, tolerance).passed
    with pytest.raises(ContainmentBroken, match=r"p99 7\.0 ms > 6\.0 ms"):
        assert_contained(BASELINE, make_phase("fault", [7.0] * 100), tolerance)


def test_default_tolerance_absorbs_scheduler_noise() -> None:
    """A 2 ms baseline and a fault phase jittered by a busy machine must still be contained."""
    rng = random.Random(7)
    base = make_phase("baseline", [2 + rng.expovariate(1.0) for _ in range(500)])
    noisy = make_phase("fault", [2 + rng.expovariate(0.1) for _ in range(500)], errors=5)
    assert assert_contained(base, noisy).passed


def test_recovered_and_not_recovered() -> None:
    assert assert_recovered(BASELINE, make_phase("recovery", [6.0] * 100)).name == "recovered"
    stuck = make_phase("recovery", [5.0] * 50, errors=50)
    with pytest.raises(NotRecovered, match=r"recovery error rate 50\.0%"):
        assert_recovered(BASELINE, stuck)


def test_verdicts_serialize() -> None:
    verdict = check_contained(BASELINE, make_phase("fault", [5.0] * 100))
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["passed"] is True and data["figures"]["fault_settled"] == 100
    assert data["figures"]["fault_generator_lag_ms"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"percentile": 0}, "percentile.*got 0"),
        ({"ratio": 0.5}, "ratio must be >= 1.*got 0.5"),
        ({"slack_ms": -1}, "slack_ms.*got -1"),
        ({"error_rate_slack": 2}, "error_rate_slack.*got 2"),
        ({"min_samples": 0}, "min_samples.*got 0"),
    ],
)
def test_tolerance_rejects_bad_values(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Tolerance(**kwargs)  # type: ignore[arg-type]


def test_tolerance_limits() -> None:
    tol = Tolerance(ratio=2, slack_ms=10, error_rate_slack=0.05)
    assert tol.latency_limit_ms(20) == 50
    assert tol.error_rate_limit(0.01) == pytest.approx(0.06)
    assert tol.error_rate_limit(0.99) == 1.0


# -- end to end with the load generator on a fake clock ---------------------------------------


async def test_verdicts_from_load_generator_phases() -> None:
    clock = FakeClock(0.0)
    delay = 0.0

    async def target() -> None:
        await clock.sleep_until(clock.now() + 0.004 + delay)

    gen = LoadGenerator(target, rate=50, duration=3, clock=clock, phase="baseline")
    task = asyncio.create_task(gen.run())
    await clock.advance_to(0.99)
    gen.phase("fault")
    delay = 0.3
    await clock.advance_to(1.99)
    gen.phase("recovery")
    delay = 0.0
    await clock.advance_to(4.0)
    res = await asyncio.wait_for(task, 5.0)
    base, fault, rec = res.phase("baseline"), res.phase("fault"), res.phase("recovery")
    verdict = assert_cascade(base, fault, injected_delay_ms=300)
    assert verdict.figures["fault_generator_lag_ms"] == 0.0
    with pytest.raises(ContainmentBroken):
        assert_contained(base, fault)
    assert assert_recovered(base, rec).passed


def test_judge_records_and_raises_with_figures() -> None:
    from chaos._observe import observe
    from chaos.experiment._verdict import HypothesisFailed, judge

    seen: list[object] = []
    with observe(seen.append):
        ok = judge("no retry storm", True, "x0.1 calls per message", amplification=0.1)
        with pytest.raises(HypothesisFailed, match=r"x3\.0 calls per message") as info:
            judge("no retry storm", False, "x3.0 calls per message", amplification=3.0)
    assert ok.passed and ok.figures == {"amplification": 0.1}
    assert info.value.verdict.figures == {"amplification": 3.0}
    assert [v.passed for v in seen] == [True, False]  # type: ignore[attr-defined]


# -- clean baselines and the smallest regression caught ---------------------------------------


def test_a_polluted_baseline_is_inconclusive_and_never_widens_the_limit() -> None:
    polluted = make_phase("baseline", [5.0] * 95 + [520.0] * 5)  # one carried-over stall
    slow = make_phase("fault", [1400.0] * 100)  # would pass: 1400 <= 3 x 520 + 100
    assert check_contained(polluted, slow).passed  # the old way: the outlier widened the limit
    tol = Tolerance(clean_baseline_ms=100)
    with pytest.raises(InsufficientData, match=r"polluted baseline: baseline p99 520\.\d ms > 100"):
        assert_contained(polluted, slow, tol)


def test_a_clean_baseline_is_judged_and_the_verdict_states_what_it_catches() -> None:
    tol = Tolerance(clean_baseline_ms=100)
    verdict = assert_contained(BASELINE, make_phase("fault", [9.0] * 100), tol)
    assert "catches +110 ms on 4% of requests" in verdict.reason
    assert verdict.figures["smallest_regression_p99_ms"] == pytest.approx(110.0, rel=1e-3)


def test_the_tolerance_catches_the_regression_it_states() -> None:
    """A regression just above the stated size is caught; one just below is not."""
    tol = Tolerance(clean_baseline_ms=100)
    smallest = tol.smallest_regression_ms(5.0)
    assert (
        check_contained(BASELINE, make_phase("fault", [5.0 + smallest + 2] * 100), tol).passed
        is False
    )
    assert check_contained(BASELINE, make_phase("fault", [5.0 + smallest - 2] * 100), tol).passed


def test_the_claim_starts_from_a_typical_request_not_from_the_baseline_tail() -> None:
    """A leak lands on typical requests: over a noisy baseline (p99 >> p50) the claim is the
    limit minus p50, and a leak of that size on 4% of the requests is caught, one just below
    it is not; the limit minus p99 would claim 80 ms too little."""
    noisy = make_phase("baseline", [20.0] * 95 + [100.0] * 5)
    tol = Tolerance(clean_baseline_ms=250)
    base_p99 = noisy.latency.percentile(99)
    smallest = tol.smallest_regression_ms(base_p99, noisy.latency.percentile(50))
    assert smallest == pytest.approx(tol.latency_limit_ms(base_p99) - 20.0, abs=0.5)
    assert tol.leak_share == pytest.approx(0.04)

    def leaked(extra_ms: float) -> PhaseResult:
        return make_phase("fault", [20.0] * 96 + [20.0 + extra_ms] * 4)

    caught = check_contained(noisy, leaked(smallest + 5), tol)
    assert caught.passed is False
    assert check_contained(noisy, leaked(smallest - 5), tol).passed
    # The flattering claim, limit - p99, is a leak the tolerance lets through.
    assert check_contained(noisy, leaked(tol.smallest_regression_ms(base_p99) + 5), tol).passed
    assert Tolerance(percentile=90).leak_share == pytest.approx(0.4)


def test_clean_baseline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="clean_baseline_ms must be > 0"):
        Tolerance(clean_baseline_ms=0)


def test_a_generator_far_behind_its_schedule_makes_the_verdict_inconclusive() -> None:
    fault = make_phase("fault", [9.0] * 100)
    fault.max_lag_s = 0.4  # the load generator itself was 400 ms late: the machine was busy
    tol = Tolerance()  # resolves +110 ms over a 5 ms baseline
    with pytest.raises(InsufficientData, match=r"fell 400 ms behind its schedule"):
        assert_contained(BASELINE, fault, tol)
    fault.max_lag_s = 0.05  # below half the regression it must resolve: judged as usual
    assert assert_contained(BASELINE, fault, tol).passed
