"""The HTML report of the real journal: structure, pairs, hypotheses, several journals,
escaping, missing data."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

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


def test_the_header_counts_inconclusive_apart_from_broken(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    first, second = journal["experiments"][:2]
    first["verdict"] = {"passed": False, "inconclusive": True, "reason": "polluted baseline"}
    second.update(outcome="failed", negative_control=False)
    second["verdict"] = {"passed": False, "inconclusive": False, "reason": "fault p99 too high"}
    total = len(journal["experiments"])
    status = parse(render_report(journal)).find_all("div", "status")[0].text
    assert status == f"{total} experiments · {total - 2} hold · 1 broken · 1 inconclusive"


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


def test_probe_charts_take_title_and_state_axis_from_the_probes_hints(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    hinted = [
        (exp["name"], name, hints)
        for exp in journal["experiments"]
        for name, hints in exp["timeline"]["probe_hints"].items()
    ]
    captions = {f.find_all("figcaption")[0].text for f in tree.find_all("figure", "plot")}
    assert {"Queue depth (messages)", "Outbox size (messages)"} <= captions
    states = [svg for svg in tree.find_all("svg") if "chart-states" in svg.classes]
    assert len(states) == sum(1 for *_, hints in hinted if hints["states"]) == 3
    # The breakers of both services, found by their hints, not by their name.
    assert {"Circuit breaker of gateway", "Circuit breaker of notifier_worker"} <= captions
    for svg in states:
        assert "chart-probe-breaker" in svg.classes
        axis = [t.text for t in svg.find_all("text", "axis")]
        assert axis[:3] == ["closed", "half-open", "open"]


def _sides(section: Any) -> list[Any]:
    (grid,) = section.find_all("div", "pair-grid")
    return [c for c in grid.children if "pair-side" in c.classes]


def test_pairs_sit_side_by_side_in_run_order(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    pairs = {s.attrs["data-pair"]: s for s in tree.find_all("section", "pair")}
    assert set(pairs) == {"latency", "partition"}
    order = [e["name"] for e in journal["experiments"]]
    for name, section in pairs.items():
        sides = _sides(section)
        # The sample's async experiments run first (test_async_* sorts before test_sync_*).
        assert [s.attrs["data-path"] for s in sides] == ["async", "sync"]
        names = [s.attrs["data-name"] for s in sides]
        assert names == sorted(names, key=order.index)
        for side in sides:
            label = side.find_all("div", "side-label")[0].text
            assert label == f"{side.attrs['data-path']} path"
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


def _retag(journal: dict[str, Any], tags: dict[int, tuple[str, str, bool]]) -> None:
    """Experiment index -> (pair, path, negative control); every other experiment unpaired."""
    for i, exp in enumerate(journal["experiments"]):
        exp["pair"], exp["path"], exp["negative_control"] = tags.get(i, (None, None, False))


def test_a_pair_of_any_paths_and_of_more_than_two(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    _retag(
        journal,
        {
            0: ("topology", "single-node", False),
            2: ("topology", "cluster", False),
            1: ("topology", "cluster", True),  # a negative control is never a side
            3: ("recovery", "cold", False),
            5: ("recovery", "warm", False),
            6: ("recovery", "cluster", False),
            7: ("recovery", "warm", False),  # a second "warm": the first one is the side
            8: ("lonely", "only-path", False),  # one path is no pair
        },
    )
    tree = parse(render_report(journal))
    pairs = {s.attrs["data-pair"]: s for s in tree.find_all("section", "pair")}
    assert list(pairs) == ["topology", "recovery"]
    topology, recovery = _sides(pairs["topology"]), _sides(pairs["recovery"])
    assert [s.attrs["data-path"] for s in topology] == ["single-node", "cluster"]
    assert [s.attrs["data-path"] for s in recovery] == ["cold", "warm", "cluster"]
    assert [s.find_all("div", "side-label")[0].text for s in topology] == [
        "single-node path",
        "cluster path",
    ]
    names = [e["name"] for e in journal["experiments"]]
    assert [s.attrs["data-name"] for s in recovery] == [names[3], names[5], names[6]]
    (grid,) = pairs["recovery"].find_all("div", "pair-grid")
    assert grid.attrs["style"] == "--sides: 3"
    assert "3 paths: recovery" in pairs["recovery"].find_all("h2")[0].text
    # Every side spans the same rows: the charts of all sides line up.
    assert len({s.attrs["style"] for s in recovery}) == 1
    (singles,) = tree.find_all("section", "singles")
    single = {a.attrs["data-name"] for a in singles.find_all("article", "experiment")}
    assert {names[1], names[7], names[8]} <= single
    assert single.isdisjoint(s.attrs["data-name"] for s in topology + recovery)


def test_the_headline_is_the_tests_own_docstring_with_the_module_as_context(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    own, plain = journal["experiments"][0], journal["experiments"][1]
    module_doc = own["docstrings"]["module"]
    test_doc = "Hypothesis: the queue absorbs a 500 ms delay.\n\nIt grows, then drains."
    own["hypothesis"], own["docstrings"]["test"] = test_doc, test_doc
    tree = parse(render_report(journal))
    rows = tree.find_all("tr", "experiment-row")
    assert rows[0].find_all("td")[1].text == "the queue absorbs a 500 ms delay."
    plain_headline = "the same latency on the asynchronous path is contained by the queue."
    assert rows[1].find_all("td")[1].text == plain_headline
    cards = _articles(tree)
    (headline,) = cards[own["name"]].find_all("p", "hypothesis")
    assert headline.text == "Hypothesis: the queue absorbs a 500 ms delay."
    assert "It grows, then drains." in cards[own["name"]].find_all("details", "more")[0].text
    (context,) = cards[own["name"]].find_all("details", "context")
    summary = context.find_all("summary")[0].text
    assert summary == f"Context ({own['module']}): {module_doc.split(chr(10))[0]}"
    assert module_doc.split("\n\n")[1].strip() in context.text
    # Without a docstring of its own, the module's is the headline and no context repeats it.
    assert cards[plain["name"]].find_all("details", "context") == []
    (headline,) = cards[plain["name"]].find_all("p", "hypothesis")
    assert headline.text == module_doc.split("\n\n")[0]


def test_several_journals_make_one_report(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    docker = json.loads(json.dumps(journal))
    docker["environment"]["backend"], docker["environment"]["hostname"] = "docker", "ci-runner"
    docker["experiments"] = docker["experiments"][:3]
    tree = parse(render_report(journal, docker, sources=["local.json", "docker.json"]))
    rows = tree.find_all("tr", "experiment-row")
    assert len(rows) == 16
    assert "from docker.json" in rows[13].text and "from local.json" in rows[0].text
    ids = [a.attrs["id"] for a in tree.find_all("article", "experiment")]
    assert len(ids) == len(set(ids)) == 16
    (env,) = tree.find_all("section", "environment")
    tables = env.find_all("div", "journal-environment")
    assert [t.attrs["data-source"] for t in tables] == ["local.json", "docker.json"]
    assert "ci-runner" in tables[1].text and "ci-runner" not in tables[0].text
    header = tree.find_all("header", "top")[0].text
    assert "16 experiments" in header and "docker.json: " in header and "backend docker" in header
    # The docker journal's latency sides join the local ones, each labelled by its journal.
    pairs = {s.attrs["data-pair"]: s for s in tree.find_all("section", "pair")}
    labels = [s.find_all("div", "side-label")[0].text for s in _sides(pairs["latency"])]
    assert labels == [
        "async path · local.json",
        "sync path · local.json",
        "async path · docker.json",
    ]


def test_a_report_needs_journals_and_one_source_each(journal: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="at least one journal"):
        render_report()
    with pytest.raises(ValueError, match=r"2 journals but 1 sources: \['a.json'\]"):
        render_report(journal, journal, sources=["a.json"])


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
    never_ran = ExperimentRecord(id="x.py::test_never", name="test_never", module="x")
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


def _lag_cells(tree: Any) -> list[str]:
    (table,) = tree.find_all("table", "summary")
    headers = [th.text for th in table.find_all("th")]
    column = headers.index("Delivery lag p99 baseline → fault")
    return [row.find_all("td")[column].text for row in table.find_all("tr", "experiment-row")]


def test_summary_shows_the_delivery_lag_p99_of_async_experiments(
    lagged_journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    cells = _lag_cells(parse(render_report(lagged_journal)))
    lagged = 0
    for exp, cell in zip(lagged_journal["experiments"], cells, strict=True):
        if not exp.get("delivery_lag"):
            assert cell == "\u2013", exp["name"]
            continue
        lagged += 1
        fault = exp["delivery_lag"]["phases"]["fault"]
        assert fault["undelivered"] == 1 and 2.5 < fault["p99_s"] < 3.0
        assert cell == f"20 ms → {fault['p99_s']:.1f} s1 undelivered", exp["name"]
    assert lagged == 3


def test_a_lag_chart_sits_under_the_latency_and_a_pair_keeps_its_rows_level(
    lagged_journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(lagged_journal))
    articles = _articles(tree)
    crash = articles[lagged_journal["experiments"][3]["name"]]
    kinds = [svg.attrs["class"].split()[1] for svg in crash.find_all("svg", "chart")]
    assert kinds[:3] == ["chart-latency", "chart-delivery-lag", "chart-errors"]
    (lag_svg,) = crash.find_all("svg", "chart-delivery-lag")
    assert len(lag_svg.find_all("rect", "fault-window")) == 1
    pairs = {s.attrs["data-pair"]: s for s in tree.find_all("section", "pair")}
    for section in pairs.values():
        async_side, sync_side = _sides(section)
        slots = [
            [
                c.find_all("svg")[0].attrs["class"].split()[1] if c.tag == "figure" else c.text
                for c in side.children
                if c.tag == "figure" or "plot-slot" in c.classes
            ]
            for side in (async_side, sync_side)
        ]
        assert slots[0][:3] == ["chart-latency", "chart-delivery-lag", "chart-errors"]
        assert slots[1][:3] == [
            "chart-latency",
            "No delivery lag measured on this path.",
            "chart-errors",
        ]
        assert async_side.attrs["style"] == sync_side.attrs["style"]


def test_a_journal_without_delivery_lag_renders_as_before(
    journal: dict[str, Any], parse: Callable[[str], Any]
) -> None:
    tree = parse(render_report(journal))
    assert not tree.find_all("svg", "chart-delivery-lag")
    assert "No delivery lag measured" not in tree.text
    cells = _lag_cells(tree)
    assert set(cells) == {"\u2013"}
