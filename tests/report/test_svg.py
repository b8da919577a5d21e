"""Inline SVG charts: scales, shaded fault windows, gaps for missing values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from chaos.report._svg import (
    _LEFT,
    _RIGHT,
    _W,
    Chart,
    Marker,
    Series,
    _y_ticks,
    nice_max,
    render_chart,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 1.0),
        (-3, 1.0),
        (float("nan"), 1.0),
        (1, 1.0),
        (1.2, 2.0),
        (2.2, 2.5),
        (3, 5.0),
        (7, 10.0),
        (1492, 2000.0),
        (0.03, 0.05),
    ],
)
def test_nice_max(value: float, expected: float) -> None:
    assert nice_max(value) == pytest.approx(expected)


def _chart(**kwargs: object) -> Chart:
    defaults: dict[str, object] = {
        "title": "Latency <p99>",
        "series": [Series("a", [(0.5, 10.0), (1.5, None), (2.5, 30.0), (3.5, 40.0)], "#00f")],
        "x_range": (0.0, 10.0),
        "faults": [Marker("latency on edge", 2.0, 4.0)],
        "phases": [Marker("baseline", 0.0, 2.0), Marker("fault", 2.0, 4.0)],
    }
    defaults.update(kwargs)
    return Chart(**defaults)  # type: ignore[arg-type]


def test_fault_window_is_shaded_at_its_times(parse: Callable[[str], Any]) -> None:
    svg = parse(render_chart(_chart()))
    (rect,) = svg.find_all("rect", "fault-window")
    plot_w = _W - _LEFT - _RIGHT
    assert float(rect.attrs["x"]) == pytest.approx(_LEFT + 0.2 * plot_w, abs=0.1)
    assert float(rect.attrs["width"]) == pytest.approx(0.2 * plot_w, abs=0.1)
    assert "latency on edge" in rect.text


def test_open_fault_is_shaded_to_the_end_of_the_axis(parse: Callable[[str], Any]) -> None:
    svg = parse(render_chart(_chart(faults=[Marker("crash", 5.0, None)])))
    (rect,) = svg.find_all("rect", "fault-window")
    assert float(rect.attrs["x"]) + float(rect.attrs["width"]) == pytest.approx(_W - _RIGHT, 0.01)


def test_phase_boundaries_drawn_except_at_the_axis_start(parse: Callable[[str], Any]) -> None:
    svg = parse(render_chart(_chart()))
    labels = [n.text for n in svg.find_all("text", "phase-label")]
    assert labels == ["fault"]


def test_none_breaks_the_line(parse: Callable[[str], Any]) -> None:
    svg = parse(render_chart(_chart()))
    lines = svg.find_all("polyline", "series")
    assert [len(p.attrs["points"].split()) for p in lines] == [1, 2]
    assert len(svg.find_all("circle")) == 3


def test_all_none_draws_no_line_and_does_not_crash(parse: Callable[[str], Any]) -> None:
    svg = parse(render_chart(_chart(series=[Series("a", [(0.5, None), (1.5, None)], "#00f")])))
    assert svg.find_all("polyline") == []
    assert svg.find_all("svg")


def test_values_above_y_max_are_clipped_to_the_plot(parse: Callable[[str], Any]) -> None:
    chart = _chart(series=[Series("a", [(1.0, 500.0), (2.0, 50.0)], "#00f")], y_max=100.0)
    svg = parse(render_chart(chart))
    ys = [float(c.attrs["cy"]) for c in svg.find_all("circle")]
    frame = svg.find_all("rect", "frame")[0]
    assert min(ys) == pytest.approx(float(frame.attrs["y"]))


def test_step_series_holds_each_value_until_the_next(parse: Callable[[str], Any]) -> None:
    chart = _chart(
        series=[Series("breaker", [(0.0, 0.0), (5.0, 2.0)], "#f00", step=True)],
        y_max=2.0,
        y_labels={0.0: "closed", 2.0: "open"},
    )
    svg = parse(render_chart(chart))
    (line,) = svg.find_all("polyline")
    points = [tuple(map(float, p.split(","))) for p in line.attrs["points"].split()]
    assert len(points) == 3 and points[1][1] == points[0][1] and points[1][0] == points[2][0]
    assert [t.text for t in svg.find_all("text", "axis")][:2] == ["closed", "open"]


def test_text_is_escaped() -> None:
    page = render_chart(_chart(series=[Series("<b>&", [(1.0, 1.0)], "#00f")]))
    assert "<p99>" not in page and "&lt;p99&gt;" in page
    assert "<b>" not in page and "&lt;b&gt;&amp;" in page
    assert not re.search(r"<script|href=|src=", page)


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (50, [0, 10, 20, 30, 40, 50]),
        (2000, [0, 500, 1000, 1500, 2000]),
        (2.25, [0, 0.5, 1, 1.5, 2]),
    ],
)
def test_y_ticks_are_round_numbers(top: float, ticks: list[float]) -> None:
    assert _y_ticks(top) == pytest.approx(ticks)


def test_long_series_draw_a_line_without_dots(parse: Callable[[str], Any]) -> None:
    points = [(t / 10, float(t % 7)) for t in range(1000)]
    svg = parse(render_chart(_chart(series=[Series("a", points, "#00f")], x_range=(0, 100))))
    (line,) = svg.find_all("polyline")
    assert len(line.attrs["points"].split()) == 1000
    assert svg.find_all("circle") == []


def test_chart_y_axis_uses_round_ticks(parse: Callable[[str], Any]) -> None:
    svg = parse(render_chart(_chart(y_max=50.0, y_unit=" ms")))
    labels = [
        t.text
        for t in svg.find_all("text", "axis")
        if t.attrs.get("text-anchor") == "end" and t.text != "seconds"
    ]
    assert labels == ["0 ms", "10 ms", "20 ms", "30 ms", "40 ms", "50 ms"]
