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

@pytest.mark.experiment(pair="demo", path="sync")
def test_sync(experiment, chaos):
    experiment(PLAN, {"svc": (svc, 30)}, fault=fault(chaos), probes={"queue_depth": lambda: 1.0})

@pytest.mark.experiment(pair="demo", path="async")
def test_async(experiment, chaos):
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
    assert [r.find_all("a")[0].text for r in rows] == ["test_sync", "test_async", "test_never_ran"]
    assert "BROKEN" in rows[2].text and "HOLDS" in rows[0].text
    (pair,) = tree.find_all("section", "pair")
    sides = [a.attrs["data-path"] for a in pair.find_all("article", "pair-side")]
    assert sides == ["sync", "async"]
    sync_svgs = pair.find_all("article", "pair-side")[0].find_all("svg")
    assert len(sync_svgs) == 3  # latency, error rate, queue depth
    assert all(len(s.find_all("rect", "fault-window")) == 1 for s in sync_svgs)
    never = [a for a in tree.find_all("article") if a.attrs.get("data-name") == "test_never_ran"]
    assert "No measurements" in never[0].text
    assert "the <fake> service" in tree.text
