"""Delivery lag, the price of an asynchronous path: per message, acceptance -> first delivery.

    target = recording_target("POST", f"{web}/orders", json=lambda rid: {"id": rid})
    run = experiment(plan, {"orders": (target, 20)}, fault=...)
    lag = delivery_lag(target.accepted_at, delivered_at_by_id(), run)
    lag.phase("fault").p99_s

Messages are grouped by the phase in which they were *accepted* (the 2xx answer), from the
run's wall-clock phase marks: a message accepted during the fault pays for the fault even if it
is delivered during recovery. Both times must come from the same clock (`time.time()` on one
machine). A lag is negative when the delivery came before the client read its answer (a
synchronous path delivers before it answers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos._observe import publish
from chaos.experiment._load import _nearest_rank
from chaos.experiment._phases import HANDOVER, Run

__all__ = ["DeliveryLag", "LagBucket", "LagSample", "PhaseLag", "delivery_lag"]

# In run order: the handover (baseline requests finishing before the fault) is not judged, but
# a message accepted then is neither baseline nor fault.
_ORDER = ("warmup", "baseline", HANDOVER, "settle", "fault", "recovery")


@dataclass(frozen=True)
class LagSample:
    """One accepted message: when it was accepted (seconds from t0) and its lag (None: never
    delivered)."""

    id: str
    accepted_s: float
    lag_s: float | None


@dataclass(frozen=True)
class PhaseLag:
    """The lag of the messages accepted in one phase; figures None when none was delivered."""

    name: str
    accepted: int
    delivered: int
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None
    max_s: float | None

    @property
    def undelivered(self) -> int:
        return self.accepted - self.delivered

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (seconds, rounded to the millisecond)."""
        return {
            "accepted": self.accepted,
            "delivered": self.delivered,
            "undelivered": self.undelivered,
            **{key: _ms(getattr(self, key)) for key in ("p50_s", "p90_s", "p99_s", "max_s")},
        }


@dataclass(frozen=True)
class LagBucket:
    """Messages accepted in [t, t + interval) seconds from t0, and their lag."""

    t: float
    accepted: int
    delivered: int
    p50_s: float | None
    max_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 3),
            "accepted": self.accepted,
            "delivered": self.delivered,
            "p50_s": _ms(self.p50_s),
            "max_s": _ms(self.max_s),
        }


@dataclass(frozen=True)
class DeliveryLag:
    """Delivery lag of one run, per phase of acceptance and per interval of acceptance.

    `marks`: each phase's start and "end", seconds from `t0` (the baseline's wall-clock start,
    as in the journal's timeline). `samples`: every accepted message, by acceptance time.
    `series` starts at t0: messages accepted during the warm-up count in `phases["warmup"]`.
    """

    t0: float
    interval_s: float
    marks: dict[str, float]
    phases: dict[str, PhaseLag]
    series: list[LagBucket]
    samples: tuple[LagSample, ...]

    def phase(self, name: str) -> PhaseLag:
        if name not in self.phases:
            raise KeyError(f"no phase {name!r} in this delivery lag; phases: {list(self.phases)}")
        return self.phases[name]

    def in_phases(self, *names: str) -> list[LagSample]:
        """The samples accepted in any of the phases `names`, in order of acceptance."""
        return [s for s in self.samples if _phase_of(s.accepted_s, self.marks) in names]

    def merged(self, *names: str) -> PhaseLag:
        """The lag of the messages accepted in any of the phases `names`, as one phase."""
        return _stats("+".join(names), self.in_phases(*names))

    def figures(self) -> dict[str, float | int | None]:
        """Key figures (`delivery_lag.fault.p99_s`, ...), for JUnit properties and benches."""
        out: dict[str, float | int | None] = {}
        for name, stats in self.phases.items():
            if name in ("warmup", HANDOVER):
                continue
            for key in ("p50_s", "p99_s", "max_s"):
                out[f"delivery_lag.{name}.{key}"] = _ms(getattr(stats, key))
            out[f"delivery_lag.{name}.undelivered"] = stats.undelivered
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the journal (without the per-message samples)."""
        return {
            "t0": self.t0,
            "interval_s": self.interval_s,
            "marks": {name: round(t, 3) for name, t in self.marks.items()},
            "phases": {name: stats.to_dict() for name, stats in self.phases.items()},
            "series": [bucket.to_dict() for bucket in self.series],
        }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _phase_of(t: float, marks: Mapping[str, float]) -> str:
    """The phase whose start is the latest at or before `t`; after "end", still the last
    phase (the answer came late, the request was sent before the end)."""
    current = "warmup"
    for name in _ORDER:
        start = marks.get(name)
        if start is not None and start <= t:
            current = name
    return current


def _stats(name: str, samples: Sequence[LagSample]) -> PhaseLag:
    lags = sorted(s.lag_s for s in samples if s.lag_s is not None)

    def pct(p: float) -> float | None:
        return _nearest_rank(lags, p) if lags else None

    return PhaseLag(
        name, len(samples), len(lags), pct(50), pct(90), pct(99), lags[-1] if lags else None
    )


def _first_delivery(rid: str, times: object) -> float | None:
    if isinstance(times, str | bytes) or not isinstance(times, Sequence):
        raise TypeError(
            f"delivered_at[{rid!r}] must be a sequence of delivery times, got {times!r}"
        )
    if not all(isinstance(t, int | float) and math.isfinite(t) for t in times):
        raise ValueError(f"delivered_at[{rid!r}] holds a time that is not a number: {times!r}")
    return min(times) if times else None


def delivery_lag(
    accepted_at: Mapping[str, float],
    delivered_at: Mapping[str, Sequence[float]],
    run: Run,
    *,
    interval: float = 1.0,
) -> DeliveryLag:
    """Lag of every accepted message: its first time in `delivered_at` (id -> unix times of its
    deliveries) minus `accepted_at[id]` (unix time of the 2xx); grouped by `run`'s phases.

    Ids delivered but never accepted are the ledger's business (`check_ledger`), not lag's.
    The result is published: the recording test's journal keeps the last one.
    """
    if not (isinstance(interval, int | float) and math.isfinite(interval) and interval > 0):
        raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
    if "baseline" not in run.marks:
        raise ValueError(
            f"the run has no baseline mark (marks: {sorted(run.marks)}); pass the Run that "
            "experiment() or run_phases() returned"
        )
    t0 = run.marks["baseline"]
    marks = {name: t - t0 for name, t in run.marks.items()}
    samples = []
    for rid, at in accepted_at.items():
        if not (isinstance(at, int | float) and math.isfinite(at)):
            raise ValueError(f"accepted_at[{rid!r}] must be a unix time, got {at!r}")
        first = _first_delivery(rid, delivered_at.get(rid, ()))
        # To the microsecond: a unix time's float carries about 0.2 us of noise near 2e9.
        lag_s = None if first is None else round(first - at, 6)
        samples.append(LagSample(rid, round(at - t0, 6), lag_s))
    samples.sort(key=lambda s: (s.accepted_s, s.id))
    by_phase: dict[str, list[LagSample]] = {n: [] for n in _ORDER if n in marks}
    for sample in samples:
        by_phase.setdefault(_phase_of(sample.accepted_s, marks), []).append(sample)
    order = [n for n in _ORDER if n in by_phase and (n != "warmup" or by_phase[n])]
    buckets: dict[int, list[LagSample]] = {}
    for sample in samples:
        if sample.accepted_s >= 0:
            buckets.setdefault(int(sample.accepted_s // interval), []).append(sample)
    series = [
        LagBucket(k * interval, stats.accepted, stats.delivered, stats.p50_s, stats.max_s)
        for k, stats in ((k, _stats("", buckets[k])) for k in sorted(buckets))
    ]
    lag = DeliveryLag(
        t0=t0,
        interval_s=float(interval),
        marks=marks,
        phases={name: _stats(name, by_phase[name]) for name in order},
        series=series,
        samples=tuple(samples),
    )
    publish(lag)  # the experiment's journal records it
    return lag
