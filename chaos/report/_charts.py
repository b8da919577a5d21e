"""From one experiment's journal timeline to the charts that show it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaos.report._svg import Chart, Marker, Series, nice_max

__all__ = ["BREAKER_STATES", "experiment_charts", "latency_peak", "x_range"]

LOAD_COLORS = ("#0969da", "#8250df", "#bf8700", "#1a7f37", "#cf222e", "#57606a")
PROBE_COLORS = {"queue_depth": "#bf3989", "outbox": "#9a6700", "breaker": "#cf222e"}
PROBE_TITLES = {
    "queue_depth": "Queue depth (messages)",
    "outbox": "Outbox size (messages)",
    "breaker": "Circuit breaker state",
}
BREAKER_STATES = {0.0: "closed", 1.0: "half-open", 2.0: "open"}


def _interval(experiment: Mapping[str, Any], load: str) -> float:
    value = (experiment.get("loads") or {}).get(load, {}).get("interval_s")
    return float(value) if isinstance(value, int | float) and value > 0 else 1.0


def x_range(experiment: Mapping[str, Any]) -> tuple[float, float]:
    """Seconds from t0 covering every phase, bucket and probe sample."""
    timeline = experiment.get("timeline") or {}
    lo, hi = 0.0, 1.0
    for phase in timeline.get("phases") or []:
        lo, hi = min(lo, phase["start"]), max(hi, phase["end"])
    for load, buckets in (timeline.get("latency") or {}).items():
        for bucket in buckets:
            hi = max(hi, bucket["t"] + _interval(experiment, load))
    for points in (timeline.get("probes") or {}).values():
        for t, _ in points:
            lo, hi = min(lo, t), max(hi, t)
    return lo, hi


def latency_peak(experiment: Mapping[str, Any]) -> float:
    """The highest per-interval p99 (or p50) in ms, 0 when there is none."""
    peak = 0.0
    for buckets in ((experiment.get("timeline") or {}).get("latency") or {}).values():
        for bucket in buckets:
            for key in ("p99_ms", "p50_ms"):
                if isinstance(bucket.get(key), int | float):
                    peak = max(peak, bucket[key])
    return peak


def _markers(timeline: Mapping[str, Any]) -> tuple[list[Marker], list[Marker]]:
    faults = []
    for span in timeline.get("faults") or []:
        attrs = ", ".join(f"{k}={v}" for k, v in (span.get("attributes") or {}).items())
        label = f"{span['kind']} on {span['target']}" + (f" ({attrs})" if attrs else "")
        faults.append(Marker(label, span["start"], span.get("end")))
    phases = [Marker(p["name"], p["start"], p["end"]) for p in timeline.get("phases") or []]
    return faults, phases


def experiment_charts(
    experiment: Mapping[str, Any],
    x: tuple[float, float] | None = None,
    latency_max: float | None = None,
) -> list[Chart]:
    """Latency, error rate, then one chart per probe; [] when the experiment never ran.

    `x` and `latency_max` let the two sides of a pair share their axes.
    """
    timeline = experiment.get("timeline")
    if not timeline:
        return []
    faults, phases = _markers(timeline)
    span = x or x_range(experiment)
    latency = timeline.get("latency") or {}
    lat_series: list[Series] = []
    err_series: list[Series] = []
    for i, (load, buckets) in enumerate(latency.items()):
        color = LOAD_COLORS[i % len(LOAD_COLORS)]
        half = _interval(experiment, load) / 2
        mid = [(b["t"] + half, b) for b in buckets]
        lat_series.append(Series(f"{load} p99", [(t, b.get("p99_ms")) for t, b in mid], color))
        lat_series.append(
            Series(
                f"{load} p50",
                [(t, b.get("p50_ms")) for t, b in mid],
                color,
                dashed=True,
                width=1.5,
            )
        )
        err_series.append(
            Series(load, [(t, 100.0 * (b.get("error_rate") or 0.0)) for t, b in mid], color)
        )
    charts: list[Chart] = []
    if latency:
        charts.append(
            Chart(
                "Latency per interval: p99 (solid), p50 (dashed)",
                lat_series,
                span,
                faults,
                phases,
                y_max=latency_max or nice_max(latency_peak(experiment)),
                y_unit=" ms",
                kind="latency",
            )
        )
        charts.append(
            Chart(
                "Error rate per interval",
                err_series,
                span,
                faults,
                phases,
                y_max=100.0,
                y_unit="%",
                kind="errors",
            )
        )
    for name, points in (timeline.get("probes") or {}).items():
        color = PROBE_COLORS.get(name, "#57606a")
        pts = [(t, v) for t, v in points]
        if name == "breaker":
            charts.append(
                Chart(
                    PROBE_TITLES[name],
                    [Series(name, pts, color, step=True)],
                    span,
                    faults,
                    phases,
                    y_max=2.25,
                    y_labels=BREAKER_STATES,
                    kind="probe-breaker",
                )
            )
        else:
            charts.append(
                Chart(
                    PROBE_TITLES.get(name, name.replace("_", " ").capitalize()),
                    [Series(name, pts, color, step=True)],
                    span,
                    faults,
                    phases,
                    # Counts: an empty queue still gets whole-number ticks.
                    y_max=nice_max(max([v for _, v in pts if v is not None] + [5.0])),
                    kind=f"probe-{name}",
                )
            )
    return charts
