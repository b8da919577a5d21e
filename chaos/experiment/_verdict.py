"""Steady-state hypotheses over load phases: cascade, containment and recovery verdicts.

Each `check_*` returns a `Verdict`; each `assert_*` returns it on success and raises a
`HypothesisFailed` subclass carrying the same figures on failure. Default tolerances are wide on
purpose: a verdict must not flip between runs on a noisy, shared 2-core machine.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol

from chaos._observe import publish
from chaos.experiment._histogram import LatencyHistogram

P = ParamSpec("P")

__all__ = [
    "CascadeNotObserved",
    "ContainmentBroken",
    "HypothesisFailed",
    "InsufficientData",
    "NotRecovered",
    "Phase",
    "Tolerance",
    "Verdict",
    "assert_cascade",
    "assert_contained",
    "assert_recovered",
    "check_cascade",
    "check_contained",
    "check_recovered",
    "judge",
]


class Phase(Protocol):
    """What a verdict reads from a phase (chaos.experiment._load.PhaseResult satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def ok(self) -> int: ...

    @property
    def settled(self) -> int: ...

    @property
    def error_rate(self) -> float: ...

    @property
    def latency(self) -> LatencyHistogram: ...


@dataclass(frozen=True)
class Verdict:
    """The outcome of one hypothesis, with the figures it was decided on.

    `inconclusive` marks a failure for lack of data rather than a hypothesis that was refuted.
    """

    name: str
    passed: bool
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)
    inconclusive: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "passed": self.passed,
            "reason": self.reason,
            "figures": dict(self.figures),
            "inconclusive": self.inconclusive,
        }


class HypothesisFailed(AssertionError):
    """A steady-state hypothesis did not hold; `verdict` and `figures` say why."""

    def __init__(self, verdict: Verdict) -> None:
        figures = ", ".join(f"{k}={v}" for k, v in verdict.figures.items())
        super().__init__(f"{verdict.name}: {verdict.reason}\n  figures: {figures}")
        self.verdict = verdict
        self.figures = verdict.figures


class CascadeNotObserved(HypothesisFailed):
    """The fault did not propagate to the caller as expected."""


class ContainmentBroken(HypothesisFailed):
    """The fault leaked into the caller's latency or error rate."""


class NotRecovered(HypothesisFailed):
    """After the fault was removed the system did not return to its baseline."""


class InsufficientData(HypothesisFailed):
    """Too few requests in a phase to decide anything."""


@dataclass(frozen=True)
class Tolerance:
    """How far a phase may drift from the baseline.

    Latency: candidate p`percentile` <= baseline p`percentile` * `ratio` + `slack_ms`.
    Errors: candidate error rate <= baseline error rate + `error_rate_slack`.
    The slack terms matter most: with a 2 ms baseline a ratio alone would flag scheduler noise.

    `clean_baseline_ms`: a baseline whose p`percentile` is above it is polluted (a request or a
    reconnect left over from before): the verdict is inconclusive, and the limit never widens
    with it. Every verdict states the smallest regression the tolerance catches
    (`smallest_regression_ms`): a delay added to `leak_share` of the requests lifts the
    candidate's percentile past the limit once it exceeds `limit - baseline p50`. The trap: not
    `limit - baseline percentile`, which a noisy baseline makes flattering; a leaked request
    starts from a typical latency, not from the baseline's tail.
    """

    percentile: float = 99.0
    ratio: float = 3.0
    slack_ms: float = 100.0
    error_rate_slack: float = 0.02
    min_samples: int = 20
    clean_baseline_ms: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.percentile <= 100:
            raise ValueError(f"percentile must be within (0, 100], got {self.percentile!r}")
        if not (math.isfinite(self.ratio) and self.ratio >= 1):
            raise ValueError(
                f"ratio must be >= 1 (a faster phase always passes), got {self.ratio!r}"
            )
        if not (math.isfinite(self.slack_ms) and self.slack_ms >= 0):
            raise ValueError(f"slack_ms must be >= 0, got {self.slack_ms!r}")
        if not 0 <= self.error_rate_slack <= 1:
            raise ValueError(f"error_rate_slack must be within 0..1, got {self.error_rate_slack!r}")
        if not (isinstance(self.min_samples, int) and self.min_samples >= 1):
            raise ValueError(f"min_samples must be an int >= 1, got {self.min_samples!r}")
        clean = self.clean_baseline_ms
        if clean is not None and not (math.isfinite(clean) and clean > 0):
            raise ValueError(f"clean_baseline_ms must be > 0 (or None), got {clean!r}")

    def latency_limit_ms(self, baseline_ms: float) -> float:
        """The highest acceptable latency given the baseline's."""
        return baseline_ms * self.ratio + self.slack_ms

    @property
    def leak_share(self) -> float:
        """The share of requests a leak must slow for the claim: 4 x the tail above the
        percentile (4% at p99), so the percentile falls in the slowest quarter of them."""
        return min(1.0, 4 * (100 - self.percentile) / 100)

    def smallest_regression_ms(self, baseline_ms: float, typical_ms: float | None = None) -> float:
        """How much slower a phase must get to fail: the limit over `baseline_ms` (the
        baseline's percentile) minus `typical_ms` (its p50; default `baseline_ms`)."""
        start = baseline_ms if typical_ms is None else typical_ms
        return self.latency_limit_ms(baseline_ms) - start

    def error_rate_limit(self, baseline_rate: float) -> float:
        """The highest acceptable error rate given the baseline's."""
        return min(1.0, baseline_rate + self.error_rate_slack)


def _r(value: float) -> float:
    return round(value, 3)


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _lag_figures(*phases: Phase) -> dict[str, Any]:
    # A generator that fell behind its schedule inflates every latency it measures; the lag is
    # reported so a surprising verdict can be traced to an overloaded test machine.
    out: dict[str, Any] = {}
    for phase in phases:
        lag = getattr(phase, "max_lag_s", None)
        if lag is not None:
            out[f"{phase.name}_generator_lag_ms"] = _r(lag * 1000)
    return out


def _require_samples(name: str, phase: Phase, need: int, *, successes: bool) -> Verdict | None:
    have = phase.latency.count if successes else phase.settled
    if have >= need:
        return None
    what = "successful requests" if successes else "settled requests"
    return Verdict(
        name,
        False,
        f"phase {phase.name!r} has {have} {what}, need >= {need}; "
        "run the phase longer or at a higher rate",
        {f"{phase.name}_{'ok' if successes else 'settled'}": have, "min_samples": need},
        inconclusive=True,
    )


def check_cascade(
    baseline: Phase,
    fault: Phase,
    injected_delay_ms: float,
    share: float = 0.5,
    *,
    percentile: float = 50.0,
    error_rate_margin: float = 0.1,
    min_samples: int = 20,
) -> Verdict:
    """Did the fault reach the caller? Latency rose by >= `share` of the delay, or errors rose."""
    if not (math.isfinite(injected_delay_ms) and injected_delay_ms > 0):
        raise ValueError(f"injected_delay_ms must be > 0, got {injected_delay_ms!r}")
    if not 0 < share <= 1:
        raise ValueError(f"share must be within (0, 1], got {share!r}")
    if not 0 < error_rate_margin <= 1:
        raise ValueError(f"error_rate_margin must be within (0, 1], got {error_rate_margin!r}")
    name = "cascade"
    short = _require_samples(name, baseline, min_samples, successes=True) or _require_samples(
        name, fault, min_samples, successes=False
    )
    if short:
        return short
    p = f"p{percentile:g}"
    base_ms = baseline.latency.percentile(percentile)
    fault_ms = fault.latency.percentile(percentile) if fault.latency.count else None
    rise_ms = None if fault_ms is None else fault_ms - base_ms
    need_ms = share * injected_delay_ms
    err_rise = fault.error_rate - baseline.error_rate
    figures: dict[str, Any] = {
        f"baseline_{p}_ms": _r(base_ms),
        f"fault_{p}_ms": None if fault_ms is None else _r(fault_ms),
        "latency_rise_ms": None if rise_ms is None else _r(rise_ms),
        "required_rise_ms": _r(need_ms),
        "injected_delay_ms": injected_delay_ms,
        "baseline_error_rate": _r(baseline.error_rate),
        "fault_error_rate": _r(fault.error_rate),
        "error_rate_rise": _r(err_rise),
        "required_error_rate_rise": error_rate_margin,
        "fault_settled": fault.settled,
        **_lag_figures(baseline, fault),
    }
    rise_text = "no request succeeded" if rise_ms is None else f"{p} rose by {rise_ms:.1f} ms"
    need_text = f"{need_ms:.1f} ms = {share:g} x {injected_delay_ms:g} ms injected"
    if rise_ms is not None and rise_ms >= need_ms:
        return Verdict(name, True, f"{rise_text} (>= {need_text})", figures)
    err_text = f"error rate rose by {_pct(err_rise)} ({_pct(baseline.error_rate)} -> "
    err_text += f"{_pct(fault.error_rate)})"
    if err_rise >= error_rate_margin:
        return Verdict(name, True, f"{err_text}, >= {_pct(error_rate_margin)}", figures)
    return Verdict(
        name,
        False,
        f"no cascade: {rise_text} (needed >= {need_text}) and {err_text} "
        f"(needed >= {_pct(error_rate_margin)})",
        figures,
    )


def _check_within(name: str, baseline: Phase, candidate: Phase, tol: Tolerance) -> Verdict:
    short = _require_samples(name, baseline, tol.min_samples, successes=True) or (
        _require_samples(name, candidate, tol.min_samples, successes=False)
    )
    if short:
        return short
    p = f"p{tol.percentile:g}"
    who = candidate.name
    base_ms = baseline.latency.percentile(tol.percentile)
    if tol.clean_baseline_ms is not None and base_ms > tol.clean_baseline_ms:
        return Verdict(
            name,
            False,
            f"polluted baseline: {baseline.name} {p} {base_ms:.1f} ms > {tol.clean_baseline_ms:g} "
            "ms (Tolerance.clean_baseline_ms); something left over from before met the baseline, "
            "so nothing is judged against it",
            {f"baseline_{p}_ms": _r(base_ms), "clean_baseline_ms": tol.clean_baseline_ms},
            inconclusive=True,
        )
    limit_ms = tol.latency_limit_ms(base_ms)
    smallest_ms = tol.smallest_regression_ms(base_ms, baseline.latency.percentile(50))
    behind_ms = max(getattr(ph, "max_lag_s", 0.0) for ph in (baseline, candidate)) * 1000
    if behind_ms > smallest_ms / 2:
        # Latency counts from the scheduled time: a generator this far behind adds its own lag
        # to what it measures, as large as the regression the tolerance must resolve.
        return Verdict(
            name,
            False,
            f"the load generator fell {behind_ms:.0f} ms behind its schedule, more than half "
            f"the {smallest_ms:.0f} ms regression this tolerance must resolve: the test machine "
            "was too busy to measure (lower the rate, or free the machine)",
            {"generator_lag_ms": _r(behind_ms), f"smallest_regression_{p}_ms": _r(smallest_ms)},
            inconclusive=True,
        )
    cand_ms = candidate.latency.percentile(tol.percentile) if candidate.latency.count else None
    err_limit = tol.error_rate_limit(baseline.error_rate)
    figures: dict[str, Any] = {
        f"baseline_{p}_ms": _r(base_ms),
        f"{who}_{p}_ms": None if cand_ms is None else _r(cand_ms),
        f"{p}_limit_ms": _r(limit_ms),
        "baseline_error_rate": _r(baseline.error_rate),
        f"{who}_error_rate": _r(candidate.error_rate),
        "error_rate_limit": _r(err_limit),
        f"{who}_settled": candidate.settled,
        f"smallest_regression_{p}_ms": _r(smallest_ms),
        "smallest_regression_share": _r(tol.leak_share),
        **_lag_figures(baseline, candidate),
    }
    limit_text = f"{limit_ms:.1f} ms = {tol.ratio:g} x baseline {base_ms:.1f} + {tol.slack_ms:g}"
    problems: list[str] = []
    if cand_ms is not None and cand_ms > limit_ms:
        problems.append(f"{who} {p} {cand_ms:.1f} ms > {limit_text}")
    if candidate.error_rate > err_limit:
        problems.append(
            f"{who} error rate {_pct(candidate.error_rate)} > {_pct(err_limit)} "
            f"(baseline {_pct(baseline.error_rate)} + {_pct(tol.error_rate_slack)})"
        )
    if problems:
        return Verdict(name, False, "; ".join(problems), figures)
    lat_text = "no latency" if cand_ms is None else f"{p} {cand_ms:.1f} ms"
    reason = (
        f"{who} {lat_text} <= {limit_text}; "
        f"error rate {_pct(candidate.error_rate)} <= {_pct(err_limit)}; "
        f"catches +{smallest_ms:.0f} ms on {tol.leak_share:.0%} of requests"
    )
    return Verdict(name, True, reason, figures)


def check_contained(baseline: Phase, fault: Phase, tolerance: Tolerance | None = None) -> Verdict:
    """Did the caller stay within tolerance of its baseline while the fault was active?"""
    return _check_within("contained", baseline, fault, tolerance or Tolerance())


def check_recovered(
    baseline: Phase, recovery: Phase, tolerance: Tolerance | None = None
) -> Verdict:
    """Did the system return within tolerance of its baseline after the fault was removed?"""
    return _check_within("recovered", baseline, recovery, tolerance or Tolerance())


def _raise_or_return(verdict: Verdict, failure: type[HypothesisFailed]) -> Verdict:
    publish(verdict)  # the experiment's journal records every verdict, passed or not
    if verdict.passed:
        return verdict
    if verdict.inconclusive:
        raise InsufficientData(verdict)
    raise failure(verdict)


def _asserting(
    check: Callable[P, Verdict], failure: type[HypothesisFailed]
) -> Callable[P, Verdict]:
    """`check`, raising `failure` (or InsufficientData) when its verdict fails."""

    @functools.wraps(check)
    def assert_(*args: P.args, **kwargs: P.kwargs) -> Verdict:
        return _raise_or_return(check(*args, **kwargs), failure)

    assert_.__name__ = assert_.__qualname__ = check.__name__.replace("check_", "assert_")
    assert_.__doc__ = (
        f"Like {check.__name__}, raising {failure.__name__} (or InsufficientData) on failure."
    )
    return assert_


assert_cascade = _asserting(check_cascade, CascadeNotObserved)
assert_contained = _asserting(check_contained, ContainmentBroken)
assert_recovered = _asserting(check_recovered, NotRecovered)


def judge(name: str, passed: bool, reason: str, **figures: Any) -> Verdict:
    """A hypothesis of your own: recorded like the others; raises HypothesisFailed if false."""
    return _raise_or_return(Verdict(name, passed, reason, figures), HypothesisFailed)
