"""The delivery-lag verdict: how far lag rose during the fault, how soon it came back down.

lag = delivery_lag(target.accepted_at, delivered_at, run)
assert_lag_recovered(lag, under_s=0.5, within_s=2.0)
# "during the fault, delivery lag peaked at 4.2 s (p99 3.9 s, 58 messages); it was back
#  under 0.5 s 1.8 s after recovery began (allowed 2 s)"
"""

from __future__ import annotations

import math
from typing import Any

from chaos.experiment._lag import DeliveryLag, LagSample, _ms
from chaos.experiment._verdict import NotRecovered, Verdict, _asserting

__all__ = ["assert_lag_recovered", "check_lag_recovered"]

_NAME = "lag_recovered"


def _s(seconds: float) -> str:
    """Two significant digits, whole seconds from 10 s: what a reader takes in at a glance."""
    return f"{seconds:.0f} s" if abs(seconds) >= 10 else f"{seconds:.2g} s"


def _bound(seconds: float) -> str:
    """A bound the caller chose, as written."""
    return f"{seconds:g} s"


def _fate(sample: LagSample) -> str:
    return "was never delivered" if sample.lag_s is None else f"took {_s(sample.lag_s)}"


def _peak(lag: DeliveryLag) -> tuple[str, dict[str, Any]]:
    fault = lag.merged("settle", "fault")
    figures: dict[str, Any] = {
        "fault_accepted": fault.accepted,
        "fault_undelivered": fault.undelivered,
        "fault_peak_s": _ms(fault.max_s),
        "fault_p99_s": _ms(fault.p99_s),
    }
    if "baseline" in lag.phases and lag.phases["baseline"].p99_s is not None:
        figures["baseline_p99_s"] = lag.phases["baseline"].p99_s
    if fault.max_s is None or fault.p99_s is None:
        return f"during the fault, none of the {fault.accepted} messages accepted was delivered", (
            figures
        )
    text = (
        f"during the fault, delivery lag peaked at {_s(fault.max_s)} "
        f"(p99 {_s(fault.p99_s)}, {fault.accepted} messages"
    )
    missing = fault.undelivered
    return text + (f", {missing} never delivered)" if missing else ")"), figures


def _short(phase: str, have: int, need: int, what: str, hint: str) -> Verdict:
    return Verdict(
        _NAME,
        False,
        f"phase {phase!r} has {have} {what}, need >= {need}; {hint}",
        {f"{phase}_messages": have, "min_samples": need},
        inconclusive=True,
    )


def check_lag_recovered(
    lag: DeliveryLag, *, under_s: float, within_s: float, min_samples: int = 10
) -> Verdict:
    """Was delivery lag back under `under_s` for every message accepted from `within_s` seconds
    after recovery began to the end of the run?

    "Back under" is judged by acceptance time: the moment recovery is reached is the
    acceptance of the first message after the last one that took longer than `under_s` (or was
    never delivered). Inconclusive, naming the phase, when the fault phase (with its settle
    phase) has fewer than `min_samples` accepted messages, or fewer than that were accepted
    more than `within_s` after recovery began: the verdict would claim more than was measured.
    """
    if not (isinstance(under_s, int | float) and math.isfinite(under_s) and under_s > 0):
        raise ValueError(f"under_s must be > 0 seconds, got {under_s!r}")
    if not (isinstance(within_s, int | float) and math.isfinite(within_s) and within_s >= 0):
        raise ValueError(f"within_s must be >= 0 seconds, got {within_s!r}")
    if not (isinstance(min_samples, int) and min_samples >= 1):
        raise ValueError(f"min_samples must be an int >= 1, got {min_samples!r}")
    missing = [name for name in ("fault", "recovery") if name not in lag.marks]
    if missing:
        raise ValueError(
            f"the delivery lag's run has no {' or '.join(missing)} phase (marks: "
            f"{sorted(lag.marks)}); measure a run that went through its fault and recovery"
        )
    accepted = len(lag.in_phases("settle", "fault"))
    if accepted < min_samples:
        hint = "no lag to judge during the fault: run it longer or at a higher rate"
        return _short("fault", accepted, min_samples, "accepted messages", hint)
    peak, figures = _peak(lag)
    start = lag.marks["recovery"]
    recovery = [s for s in lag.samples if s.accepted_s >= start]
    bad = [s for s in recovery if s.lag_s is None or s.lag_s > under_s]
    after_bad = [s for s in recovery if bad and s.accepted_s > bad[-1].accepted_s]
    back_s = 0.0 if not bad else (after_bad[0].accepted_s - start if after_bad else None)
    evidence = sum(1 for s in recovery if s.accepted_s >= start + within_s)
    figures.update(
        under_s=under_s,
        within_s=within_s,
        recovery_accepted=len(recovery),
        back_under_after_s=None if back_s is None else round(back_s, 3),
        min_samples=min_samples,
    )
    if back_s is None:
        last = bad[-1]
        reason = (
            f"{peak}; it was not back under {_bound(under_s)} by the end of the run: the last "
            f"message, accepted {_s(last.accepted_s - start)} into recovery, {_fate(last)}"
        )
        return Verdict(_NAME, False, reason, figures)
    if back_s > within_s:
        last = bad[-1]
        reason = (
            f"{peak}; it was back under {_bound(under_s)} only {_s(back_s)} after recovery began "
            f"(allowed {_bound(within_s)}): a message accepted {_s(last.accepted_s - start)} into "
            f"recovery {_fate(last)}"
        )
        return Verdict(_NAME, False, reason, figures)
    if evidence < min_samples:
        hint = (
            f"too few to say lag stayed under {_bound(under_s)}: lengthen the recovery phase or "
            "lower within_s"
        )
        what = f"messages accepted later than {_bound(within_s)} after it began"
        short = _short("recovery", evidence, min_samples, what, hint)
        return Verdict(_NAME, False, short.reason, {**figures, **short.figures}, True)
    when = (
        f"back under {_bound(under_s)} {_s(back_s)} after recovery began"
        if back_s > 0
        else f"under {_bound(under_s)} from the start of recovery"
    )
    return Verdict(_NAME, True, f"{peak}; it was {when} (allowed {_bound(within_s)})", figures)


assert_lag_recovered = _asserting(check_lag_recovered, NotRecovered)
