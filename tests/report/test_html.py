"""The HTML report of the real journal: structure, pairs, escaping, missing data."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from chaos.report import render_report, write_report
from chaos.report._journal import ExperimentRecord, build_journal, environment


def _articles(tree: Any) -> dict[str, Any]:
    return {a.attrs["data-name"]: a for a in tree.find_all("article", "experiment")}


def test_summary_has_one_row_per_experiment_in_run_order(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    rows = tree.find_all("tr", "experiment-row")
    names = [e["name"] for e in journal["experiments"]]
    assert [r.find_all("a")[0].text for r in rows] == names
    for row, exp in zip(rows, journal["experiments"], strict=True):
        assert ("HOLDS" if exp["verdict"]["passed"] else "BROKEN") in row.text
        if exp["outcome"] == "xfailed":
            assert "control failed as required" in row.text
        if exp["ledger"]:
            assert f"{len(exp['ledger']['lost'])} lost" in row.text


def test_every_plot_is_an_svg_with_the_fault_window_shaded(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    articles = _articles(parse(render_report(journal)))
    assert set(articles) == {e["name"] for e in journal["experiments"]}
    for exp in journal["experiments"]:
        timeline = exp["timeline"]
        figures = articles[exp["name"]].find_all("figure", "plot")
        expected = 2 + len(timeline["probes"])  # latency, error rate, one per probe
        assert len(figures) == expected, exp["name"]
        for figure in figures:
            (svg,) = figure.find_all("svg")
            assert len(svg.find_all("rect", "fault-window")) == len(timeline["faults"])
            # Every phase after the first is marked; the first only when the axis starts
            # before it (a bucket that began a few ms before t0).
            labels = [t.text for t in svg.find_all("text", "phase-label")]
            names = [p["name"] for p in timeline["phases"]]
            assert labels in (names, names[1:])
            assert len(svg.find_all("line", "phase-boundary")) == len(labels)
        kinds = {f.find_all("svg")[0].attrs["class"].split()[1] for f in figures}
        assert {"chart-latency", "chart-errors"} <= kinds
        assert {f"chart-probe-{p}" for p in timeline["probes"]} <= kinds


def test_breaker_plot_names_the_states(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    breakers = [s for s in tree.find_all("svg") if "chart-probe-breaker" in s.classes]
    assert len(breakers) == sum(
        "breaker" in e["timeline"]["probes"] for e in journal["experiments"]
    )
    axis = [t.text for t in breakers[0].find_all("text", "axis")]
    assert axis[:3] == ["closed", "half-open", "open"]


def test_pairs_sit_side_by_side_sync_left_async_right(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    pairs = {s.attrs["data-pair"]: s for s in tree.find_all("section", "pair")}
    assert set(pairs) == {"latency", "partition"}
    for name, section in pairs.items():
        (grid,) = section.find_all("div", "pair-grid")
        sides = [c for c in grid.children if "pair-side" in c.classes]
        assert [s.attrs["data-path"] for s in sides] == ["sync", "async"]
        for side in sides:
            exp = next(e for e in journal["experiments"] if e["name"] == side.attrs["data-name"])
            assert (exp["pair"], exp["path"], exp["negative_control"]) == (
                name,
                side.attrs["data-path"],
                False,
            )
        # Rows align: both sides span the same subgrid rows, with the same latency axis.
        assert sides[0].attrs["style"] == sides[1].attrs["style"]
        tops = [[t.text for t in s.find_all("svg")[0].find_all("text", "axis")][-1] for s in sides]
        assert tops[0] == tops[1]


def test_page_is_self_contained(journal: dict[str, Any]) -> None:
    page = render_report(journal)
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|src=", page, re.I)
    # Text may mention URLs (the proxy's); only in-page links are allowed.
    assert set(re.findall(r'href="(.)', page)) == {"#"}


def test_environment_section_lists_versions(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    (env,) = tree.find_all("section", "environment")
    for value in (journal["environment"]["python"], journal["environment"]["hostname"]):
        assert value in env.text
    assert "pybreaker " + journal["environment"]["packages"]["pybreaker"] in env.text


def test_all_text_is_escaped(journal: dict[str, Any], parse: Callable[[str], Any]) -> None:
    exp = journal["experiments"][0]
    exp["name"] = "test_<blink>bold</blink>"
    exp["hypothesis"] = 'Hypothesis: <script>alert("x")</script> & more'
    exp["faults"][0]["target"] = "<i>edge</i>"
    exp["timeline"]["faults"][0]["kind"] = "<u>kind</u>"
    exp["verdict"]["reason"] = "</td></tr></table>"
    page = render_report(journal)
    assert not re.search(r"<(script|blink|i|u)>", page)
    tree = parse(page)  # unbalanced tags would raise here
    assert 'alert("x")' in tree.text and "test_<blink>bold</blink>" in tree.text


def test_missing_data_renders_without_crashing(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    never_ran = ExperimentRecord(
        id="x.py::test_never", name="test_never", module="x", hypothesis=""
    )
    never_ran.outcome = "error"
    never_ran.message = "fixture 'rabbitmq' failed: rabbitmq-server not installed"
    built = json.loads(json.dumps(build_journal([never_ran], environment("local"), time.time())))
    exp = journal["experiments"][0]
    exp["probes"], exp["timeline"]["probes"] = {}, {}
    for bucket in exp["timeline"]["latency"]["reactions"]:
        bucket["p50_ms"] = bucket["p99_ms"] = None
    exp["figures"] = {k: None for k in exp["figures"]}
    exp["ledger"] = None
    journal["experiments"] = [exp, *built["experiments"]]
    journal["environment"]["proxy_server"] = None
    tree = parse(render_report(journal))
    articles = _articles(tree)
    assert "No measurements" in articles["test_never"].text
    assert "rabbitmq-server not installed" in articles["test_never"].text
    assert "BROKEN" in tree.find_all("tr", "experiment-row")[1].text
    assert len(articles[exp["name"]].find_all("svg")) == 2
    assert parse(render_report({"experiments": []})).find_all("table", "summary")


def test_write_report_writes_the_page_atomically(tmp_path: Any, journal: dict[str, Any]) -> None:
    target = tmp_path / "out" / "report.html"
    write_report(target, journal)
    assert target.read_text() == render_report(journal)
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
