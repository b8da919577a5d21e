"""From one experiment's journal timeline to the charts that show it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.report._svg import Chart, Marker, Series, nice_max

__all__ = [
    "LAG_KIND",
    "experiment_charts",
    "has_lag",
    "latency_peak",
    "probe_colors",
    "probe_title",
    "x_range",
]

LOAD_COLORS = ("#0969da", "#8250df", "#bf8700", "#1a7f37", "#cf222e", "#57606a")
PROBE_COLORS = ("#bf3989", "#9a6700", "#cf222e", "#1b7c83", "#6639ba", "#953800")
LAG_COLOR = "#116329"
LAG_KIND = "delivery-lag"
_COUNT_FLOOR = 5.0
"""A count axis goes up to at least this, so an empty queue still gets whole-number ticks."""


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
    lag = experiment.get("delivery_lag") or {}
    for bucket in lag.get("series") or []:
        hi = max(hi, bucket["t"] + float(lag.get("interval_s") or 1.0))
    return lo, hi


def has_lag(experiment: Mapping[str, Any]) -> bool:
    """Whether the experiment measured a delivery lag with something to draw."""
    return bool((experiment.get("delivery_lag") or {}).get("series"))


def latency_peak(experiment: Mapping[str, Any]) -> float:
    """The highest per-interval p99 (or p50) in ms, 0 when there is none."""
    peak = 0.0
    for buckets in ((experiment.get("timeline") or {}).get("latency") or {}).values():
        for bucket in buckets:
            for key in ("p99_ms", "p50_ms"):
                if isinstance(bucket.get(key), int | float):
                    peak = max(peak, bucket[key])
    return peak


def probe_colors(experiments: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """One colour per probe name, in order of first appearance: the same probe looks the same
    in every chart of a report, and different probes differ (up to the palette's size)."""
    names: dict[str, None] = {}
    for exp in experiments:
        names.update(dict.fromkeys((exp.get("timeline") or {}).get("probes") or {}))
    return {name: PROBE_COLORS[i % len(PROBE_COLORS)] for i, name in enumerate(names)}


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
    colors: Mapping[str, str] | None = None,
) -> list[Chart]:
    """Latency, delivery lag (when measured), error rate, then one chart per probe; [] when
    the experiment never ran.

    `x` and `latency_max` let the sides of a pair share their axes; `colors` (probe name ->
    colour, see `probe_colors`) keeps a probe's colour across experiments.
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
    if has_lag(experiment):
        charts.append(_lag_chart(experiment["delivery_lag"], span, faults, phases))
    if latency:
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
    hints = timeline.get("probe_hints") or {}
    palette = colors or probe_colors([experiment])
    for name, points in (timeline.get("probes") or {}).items():
        hinted = hints.get(name) or {}
        color = palette.get(name, PROBE_COLORS[0])
        charts.append(_probe_chart(name, points, hinted, color, span, faults, phases))
    return charts


def _lag_chart(
    lag: Mapping[str, Any], span: tuple[float, float], faults: list[Marker], phases: list[Marker]
) -> Chart:
    """Lag by time of acceptance: a message accepted during the fault shows at the fault."""
    half = float(lag.get("interval_s") or 1.0) / 2
    mid = [(b["t"] + half, b) for b in lag["series"]]
    peak = max((b["max_s"] for _, b in mid if isinstance(b.get("max_s"), int | float)), default=0)
    return Chart(
        "Delivery lag per interval of acceptance: max (solid), p50 (dashed)",
        [
            Series("max", [(t, b.get("max_s")) for t, b in mid], LAG_COLOR),
            Series("p50", [(t, b.get("p50_s")) for t, b in mid], LAG_COLOR, dashed=True, width=1.5),
        ],
        span,
        faults,
        phases,
        y_max=nice_max(peak),
        y_unit=" s",
        kind=LAG_KIND,
    )


def probe_title(name: str, hints: Mapping[str, Any]) -> str:
    """The hint's title, else the probe's name in words; the unit in brackets if there is one."""
    title = hints.get("title") or re.sub(r"[_\-\s]+", " ", name).strip().capitalize() or name
    unit = hints.get("unit")
    return f"{title} ({unit})" if unit and not hints.get("states") else title


def _probe_chart(
    name: str,
    points: list[list[float]],
    hints: Mapping[str, Any],
    color: str,
    span: tuple[float, float],
    faults: list[Marker],
    phases: list[Marker],
) -> Chart:
    """A state axis when the probe names its states; a count axis for whole numbers."""
    pts = [(t, v) for t, v in points]
    values = [v for _, v in pts if v is not None]
    labels = {float(value): str(label) for value, label in hints.get("states") or []}
    if labels:
        top = max([*labels, *values])
        y_max = top * 1.125 if top > 0 else 1.0
    elif all(float(v).is_integer() for v in values):
        y_max = nice_max(max([*values, _COUNT_FLOOR]))
    else:
        y_max = nice_max(max(values, default=0.0))
    return Chart(
        probe_title(name, hints),
        [Series(name, pts, color, step=True)],
        span,
        faults,
        phases,
        y_max=y_max,
        y_labels=labels or None,
        kind=f"probe-{re.sub(r'[^A-Za-z0-9_-]+', '-', name)}",
    )
