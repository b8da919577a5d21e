"""chaos.report._charts: probe charts drawn from the probes' display hints, not their names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chaos.report._charts import experiment_charts, probe_colors, probe_title
from chaos.report._svg import Chart, render_chart

PHASES = [
    {"name": "baseline", "start": 0.0, "end": 2.0},
    {"name": "fault", "start": 2.0, "end": 4.0},
    {"name": "recovery", "start": 4.0, "end": 6.0},
]


def _experiment(probes: dict[str, list[float]], hints: dict[str, Any] | None = None) -> Any:
    """An experiment whose timeline has only probes, one sample a second."""
    timeline: dict[str, Any] = {
        "t0": 0.0,
        "phases": PHASES,
        "faults": [],
        "latency": {},
        "probes": {name: [[float(t), v] for t, v in enumerate(vs)] for name, vs in probes.items()},
    }
    if hints is not None:
        timeline["probe_hints"] = hints
    return {"timeline": timeline}


def _only(probes: dict[str, list[float]], hints: dict[str, Any] | None = None) -> Chart:
    (chart,) = experiment_charts(_experiment(probes, hints))
    return chart


def _axis(chart: Chart, parse: Callable[[str], Any]) -> list[str]:
    """The value axis' labels, bottom up: right-aligned, left of the plot."""
    texts = parse(render_chart(chart)).find_all("text", "axis")
    return [t.text for t in texts if t.attrs["text-anchor"] == "end" and t.text != "seconds"]


def test_title_and_unit_come_from_the_hints() -> None:
    hints = {"jobs": {"title": "Jobs waiting", "unit": "jobs", "states": None}}
    assert _only({"jobs": [1, 3]}, hints).title == "Jobs waiting (jobs)"


@pytest.mark.parametrize(
    ("name", "hints", "title"),
    [
        ("replica_lag", {}, "Replica lag"),
        ("cache-hit__ratio", {"unit": "%"}, "Cache hit ratio (%)"),
        ("mode", {"title": "Worker mode", "unit": "s", "states": [[0, "idle"]]}, "Worker mode"),
    ],
)
def test_without_a_title_the_name_is_put_in_words(
    name: str, hints: dict[str, Any], title: str
) -> None:
    assert probe_title(name, hints) == title


def test_named_states_make_a_state_axis(parse: Callable[[str], Any]) -> None:
    states = [[0, "idle"], [1, "busy"], [3, "down"]]
    chart = _only({"mode": [0, 1, 3, 1]}, {"mode": {"title": None, "unit": None, "states": states}})
    assert chart.y_labels == {0.0: "idle", 1.0: "busy", 3.0: "down"}
    assert chart.y_max == pytest.approx(3.375)  # room above the top state
    assert _axis(chart, parse) == ["idle", "busy", "down"]
    (svg,) = parse(render_chart(chart)).find_all("svg")
    assert "chart-states" in svg.classes and "chart-probe-mode" in svg.classes


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([0, 0, 0], ["0", "1", "2", "3", "4", "5"]),  # an empty queue still gets whole ticks
        ([0, 7, 3], ["0", "2", "4", "6", "8", "10"]),
        ([0, 140], ["0", "50", "100", "150", "200"]),
    ],
)
def test_counts_get_a_whole_number_axis(
    values: list[float], ticks: list[str], parse: Callable[[str], Any]
) -> None:
    chart = _only({"depth": values})
    assert chart.y_labels is None
    assert _axis(chart, parse) == ticks


def test_fractions_get_a_fractional_axis(parse: Callable[[str], Any]) -> None:
    assert _axis(_only({"load": [0.1, 0.35]}), parse) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5"]


def test_the_library_knows_no_probe_names() -> None:
    """A probe named like the sample's breaker, without hints, is an ordinary count."""
    chart = _only({"breaker": [0, 2, 1]})
    assert (chart.title, chart.y_labels, chart.kind) == ("Breaker", None, "probe-breaker")


def test_each_probe_has_its_own_colour_across_a_report() -> None:
    experiments = [
        _experiment({"depth": [1], "lag": [2]}),
        _experiment({"lag": [2], "other": [3], "depth": [1]}),
    ]
    colors = probe_colors(experiments)
    assert list(colors) == ["depth", "lag", "other"]
    assert len(set(colors.values())) == 3
    charts = [c for exp in experiments for c in experiment_charts(exp, colors=colors)]
    for chart in charts:
        assert chart.series[0].color == colors[chart.series[0].name]


def test_a_probe_name_is_made_safe_for_a_css_class() -> None:
    assert _only({"queue depth <b>": [1]}).kind == "probe-queue-depth-b-"


def _lagged(series: list[dict[str, Any]]) -> Any:
    exp = _experiment({})
    exp["timeline"]["latency"] = {"reactions": [{"t": 0.0, "p50_ms": 10, "p99_ms": 20}]}
    exp["timeline"]["faults"] = [{"kind": "crash", "target": "broker", "start": 2.0, "end": 4.0}]
    exp["delivery_lag"] = {"interval_s": 1.0, "series": series}
    return exp


def test_delivery_lag_is_charted_in_seconds_beside_the_latency() -> None:
    series = [
        {"t": 1.0, "accepted": 15, "delivered": 15, "p50_s": 0.02, "max_s": 0.03},
        {"t": 3.0, "accepted": 15, "delivered": 14, "p50_s": 1.5, "max_s": 4.2},
        {"t": 7.0, "accepted": 15, "delivered": 0, "p50_s": None, "max_s": None},
    ]
    latency, lag, errors = experiment_charts(_lagged(series))
    assert (latency.kind, lag.kind, errors.kind) == ("latency", "delivery-lag", "errors")
    assert lag.title == "Delivery lag per interval of acceptance: max (solid), p50 (dashed)"
    assert lag.y_unit == " s" and lag.y_max == 5.0
    peak, median = lag.series
    # Plotted mid-interval, a gap where nothing accepted then was delivered.
    assert peak.points == [(1.5, 0.03), (3.5, 4.2), (7.5, None)]
    assert median.points == [(1.5, 0.02), (3.5, 1.5), (7.5, None)] and median.dashed
    assert [f.label for f in lag.faults] == ["crash on broker"]
    # The time axis covers the lag's last interval even past the phases.
    assert lag.x_range == (0.0, 8.0)


def test_no_delivery_lag_no_chart() -> None:
    assert [c.kind for c in experiment_charts(_lagged([]))] == ["latency", "errors"]
    del (exp := _lagged([]))["delivery_lag"]
    assert [c.kind for c in experiment_charts(exp)] == ["latency", "errors"]
