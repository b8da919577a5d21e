"""Time-series charts as inline SVG: lines over a shaded fault window and phase boundaries."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

__all__ = ["Chart", "Marker", "Series", "nice_max", "render_chart"]

_W = 560
_H = 210
_LEFT = 56
_RIGHT = 12
_TOP = 26
_BOTTOM = 30
_MAX_DOTS = 120
_CHAR_W = 6.2  # average glyph width at 11px, for laying out the legend without a font


@dataclass(frozen=True)
class Series:
    """One line: `points` are (t, value); a None value breaks the line."""

    name: str
    points: Sequence[tuple[float, float | None]]
    color: str
    dashed: bool = False
    step: bool = False
    width: float = 2.0


@dataclass(frozen=True)
class Marker:
    """A span on the time axis: a fault window (shaded) or a phase (boundary line)."""

    label: str
    start: float
    end: float | None


@dataclass
class Chart:
    """What to draw; `y_labels` replaces numeric ticks (a probe's named states)."""

    title: str
    series: list[Series]
    x_range: tuple[float, float]
    faults: list[Marker] = field(default_factory=list)
    phases: list[Marker] = field(default_factory=list)
    y_max: float | None = None
    y_unit: str = ""
    y_labels: dict[float, str] | None = None
    y_format: Callable[[float], str] | None = None
    kind: str = "chart"


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `value` (1 for nothing to show)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for mult in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = mult * 10.0**exp
        if candidate >= value * 0.999999:
            return candidate
    return 10.0 ** (exp + 1)


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _x_ticks(lo: float, hi: float) -> list[float]:
    span = max(hi - lo, 1e-9)
    step = next((s for s in (1, 2, 5, 10, 20, 30, 60, 120, 300) if span / s <= 10), 600)
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + 1e-9:
        ticks.append(float(t))
        t += step
    return ticks


def _y_ticks(top: float) -> list[float]:
    """0 and multiples of the smallest 1, 2 or 5 x 10^k step giving at most 5 intervals."""
    exp = math.floor(math.log10(top / 5))
    step = next(
        m * 10.0**e for e in (exp, exp + 1) for m in (1.0, 2.0, 5.0) if top / (m * 10.0**e) <= 5
    )
    return [k * step for k in range(int(top / step + 1e-9) + 1)]


def render_chart(chart: Chart) -> str:
    """One `<svg>` element; scales to its container's width."""
    x0, x1 = chart.x_range
    if not x1 > x0:
        x1 = x0 + 1.0
    values = [v for s in chart.series for _, v in s.points if v is not None and math.isfinite(v)]
    y_top = chart.y_max if chart.y_max is not None else nice_max(max(values, default=0.0))
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM
    states = " chart-states" if chart.y_labels else ""

    def sx(t: float) -> float:
        return _LEFT + (min(max(t, x0), x1) - x0) / (x1 - x0) * plot_w

    def sy(v: float) -> float:
        return _TOP + plot_h - min(max(v, 0.0), y_top) / y_top * plot_h

    out = [
        f'<svg class="chart chart-{escape(chart.kind)}{states}" viewBox="0 0 {_W} {_H}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(chart.title)}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    for fault in chart.faults:
        start = sx(fault.start)
        end = sx(fault.end if fault.end is not None else x1)
        out.append(
            f'<rect class="fault-window" x="{start:.1f}" y="{_TOP}" '
            f'width="{max(end - start, 1.0):.1f}" height="{plot_h}">'
            f"<title>{escape(fault.label)}</title></rect>"
        )
    out.extend(_y_axis(chart, y_top, sy))
    for tick in _x_ticks(x0, x1):
        x = sx(tick)
        out.append(
            f'<line class="tick" x1="{x:.1f}" y1="{_TOP + plot_h}" x2="{x:.1f}" '
            f'y2="{_TOP + plot_h + 4}"/>'
            f'<text class="axis" x="{x:.1f}" y="{_TOP + plot_h + 16}" '
            f'text-anchor="middle">{_fmt(tick)}</text>'
        )
    out.append(
        f'<text class="axis" x="{_W - _RIGHT}" y="{_H - 2}" text-anchor="end">seconds</text>'
    )
    for phase in chart.phases:
        if phase.start <= x0 + 1e-6:
            continue
        x = sx(phase.start)
        out.append(
            f'<line class="phase-boundary" x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" '
            f'y2="{_TOP + plot_h}"/>'
            f'<text class="phase-label" x="{x + 3:.1f}" y="{_TOP + 8}">{escape(phase.label)}</text>'
        )
    for series in chart.series:
        out.extend(_series(series, sx, sy))
    out.extend(_legend(chart.series))
    out.append(
        f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}"/></svg>'
    )
    return "".join(out)


def _y_axis(chart: Chart, y_top: float, sy: Callable[[float], float]) -> list[str]:
    out = []
    fmt = chart.y_format or _fmt
    ticks = sorted(chart.y_labels) if chart.y_labels else _y_ticks(y_top)
    for value in ticks:
        y = sy(value)
        label = chart.y_labels[value] if chart.y_labels else fmt(value) + chart.y_unit
        out.append(
            f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{_LEFT - 5}" y="{y + 3.5:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    return out


def _series(
    series: Series, sx: Callable[[float], float], sy: Callable[[float], float]
) -> list[str]:
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in series.points:
        if v is None or not math.isfinite(v):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((t, v))
    dash = ' stroke-dasharray="5 3"' if series.dashed else ""
    out = []
    for run in runs:
        if not run:
            continue
        coords: list[str] = []
        for i, (t, v) in enumerate(run):
            if series.step and i > 0:
                coords.append(f"{sx(t):.1f},{sy(run[i - 1][1]):.1f}")
            coords.append(f"{sx(t):.1f},{sy(v):.1f}")
        out.append(
            f'<polyline class="series" fill="none" stroke="{series.color}" '
            f'stroke-width="{series.width}"{dash} stroke-linejoin="round" '
            f'points="{" ".join(coords)}"/>'
        )
        # Dots with hover values help on short runs; on long ones they would bury the line.
        if not series.step and len(series.points) <= _MAX_DOTS:
            for t, v in run:
                out.append(
                    f'<circle cx="{sx(t):.1f}" cy="{sy(v):.1f}" r="2.2" fill="{series.color}">'
                    f"<title>{escape(series.name)} t={t:.1f}s: {_fmt(round(v, 2))}</title>"
                    "</circle>"
                )
    return out


def _legend(series: Sequence[Series]) -> list[str]:
    out = []
    x = float(_LEFT)
    for s in series:
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" y1="12" x2="{x + 16:.1f}" y2="12" stroke="{s.color}" '
            f'stroke-width="{s.width}"{dash}/>'
            f'<text class="legend" x="{x + 20:.1f}" y="15.5">{escape(s.name)}</text>'
        )
        x += len(s.name) * _CHAR_W + 34
    return out
