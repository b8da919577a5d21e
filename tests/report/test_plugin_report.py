"""`--chaos-report` end to end: a pytest session writes a report and a schema-valid journal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import chaos

pytest_plugins = ["pytester"]

EXPERIMENTS = '''
"""Hypothesis: the <fake> service copes with a fake fault."""
import pytest
import chaos as chaos_lib
from chaos.experiment._phases import Plan
from chaos.experiment._targets import RequestFailed

PLAN = Plan(warmup=0.1, baseline=0.4, fault=0.4, recovery=0.3)
SLOW = {"now": False}

async def svc():
    if SLOW["now"]:
        raise RequestFailed("5xx", "the fault breaks it")

def fault(chaos):
    def apply():
        SLOW["now"] = True

    def rollback():
        SLOW["now"] = False

    return lambda: chaos.fault("reset_peer", "svc-edge", apply, rollback, {"timeout": 0})

JOBS = chaos_lib.probe(lambda: 1.0, title="Jobs waiting", unit="jobs")
MODE = chaos_lib.probe(lambda: 1.0, states={0: "idle", 1: "busy"})

@pytest.mark.experiment(pair="demo", path="single-node")
def test_single(experiment, chaos):
    """Hypothesis: one node copes on its own."""
    experiment(PLAN, {"svc": (svc, 30)}, fault=fault(chaos), probes={"jobs": JOBS, "mode": MODE})

@pytest.mark.experiment(pair="demo", path="cluster")
def test_cluster(experiment, chaos):
    experiment(PLAN, {"svc": (svc, 30)}, fault=fault(chaos))

@pytest.fixture
def broken():
    raise RuntimeError("broker would not start")

def test_never_ran(experiment, broken):
    pass
'''


@pytest.mark.timeout(120)
def test_session_writes_report_and_valid_journal(
    pytester: pytest.Pytester, parse: Callable[[str], Any]
) -> None:
    pytester.makepyfile(test_exp=EXPERIMENTS)
    journal_path = pytester.path / "out" / "journal.json"
    report_path = pytester.path / "out" / "report.html"
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        f"--chaos-journal={journal_path}",
        f"--chaos-report={report_path}",
    )
    result.assert_outcomes(passed=2, errors=1)

    journal = json.loads(journal_path.read_text())
    schema = json.loads(
        (Path(chaos.__file__).parent / "report" / "journal.schema.json").read_text()
    )
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(journal)]
    assert errors == []

    tree = parse(report_path.read_text())
    rows = tree.find_all("tr", "experiment-row")
    assert [r.find_all("a")[0].text for r in rows] == [
        "test_single",
        "test_cluster",
        "test_never_ran",
    ]
    assert "BROKEN" in rows[2].text and "HOLDS" in rows[0].text
    assert rows[0].find_all("td")[1].text == "one node copes on its own."
    assert rows[1].find_all("td")[1].text == "the <fake> service copes with a fake fault."
    (pair,) = tree.find_all("section", "pair")
    sides = [a.attrs["data-path"] for a in pair.find_all("article", "pair-side")]
    assert sides == ["single-node", "cluster"]
    single = pair.find_all("article", "pair-side")[0]
    assert "the <fake> service" in single.find_all("details", "context")[0].text
    svgs = single.find_all("svg")
    assert len(svgs) == 4  # latency, error rate, the two probes
    assert all(len(s.find_all("rect", "fault-window")) == 1 for s in svgs)
    captions = [f.text for f in single.find_all("figcaption")]
    assert captions[2:] == ["Jobs waiting (jobs)", "Mode"]
    assert "chart-states" in svgs[3].classes
    assert [t.text for t in svgs[3].find_all("text", "axis")][:2] == ["idle", "busy"]

    by_name = {e["name"]: e for e in journal["experiments"]}
    timeline = by_name["test_single"]["timeline"]
    assert timeline["probe_hints"] == {
        "jobs": {"title": "Jobs waiting", "unit": "jobs", "states": None},
        "mode": {"title": None, "unit": None, "states": [[0.0, "idle"], [1.0, "busy"]]},
    }
    assert by_name["test_single"]["probes"]["hints"] == timeline["probe_hints"]
    assert by_name["test_single"]["docstrings"] == {
        "test": "Hypothesis: one node copes on its own.",
        "module": "Hypothesis: the <fake> service copes with a fake fault.",
    }
    assert by_name["test_cluster"]["hypothesis"] == by_name["test_cluster"]["docstrings"]["module"]
    never = [a for a in tree.find_all("article") if a.attrs.get("data-name") == "test_never_ran"]
    assert "No measurements" in never[0].text
    assert "the <fake> service" in tree.text
