"""The experiment fixture records a journal, JUnit properties and a summary (via pytester)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ["pytester"]

EXPERIMENTS = '''
"""Hypothesis: the fake service copes with the fake fault."""
import pytest
import chaos as chaos_lib
from chaos import ContainmentBroken, Plan, RequestFailed, Tolerance, assert_contained, check_ledger
from chaos import LedgerViolation

pytestmark = pytest.mark.experiment(pair="demo", path="async")
PLAN = Plan(warmup=0.1, baseline=0.5, fault=0.5, recovery=0.3)

BROKEN = {"now": False}

async def svc():
    if BROKEN["now"]:
        raise RequestFailed("5xx", "the fault breaks it")

def fault_for(chaos, breaks=False):
    def apply():
        BROKEN["now"] = breaks

    def rollback():
        BROKEN["now"] = False

    return lambda: chaos.fault("latency", "edge", apply, rollback, {"ms": 5})

def test_holds(experiment, chaos):
    run = experiment(PLAN, {"svc": (svc, 40)}, fault=fault_for(chaos))
    assert_contained(run.phase("svc", "baseline"), run.phase("svc", "fault"),
                     Tolerance(min_samples=5))
    check_ledger(["a", "b"], ["a", "b"]).assert_ok()
    fault = run.marks["fault"]
    chaos_lib.delivery_lag({"a": fault + 0.1, "b": fault + 0.2}, {"a": [fault + 0.4]}, run)

@pytest.mark.parametrize(
    "breaks", [chaos_lib.negative_control(True, "the demo protection", ContainmentBroken)]
)
@pytest.mark.experiment(path="unprotected")
def test_control(experiment, chaos, breaks):
    """Without the protection the fault reaches the caller."""
    run = experiment(PLAN, {"svc": (svc, 40)}, fault=fault_for(chaos, breaks=breaks))
    assert_contained(run.phase("svc", "baseline"), run.phase("svc", "fault"),
                     Tolerance(min_samples=5))

@pytest.mark.parametrize(
    "dedupe", [chaos_lib.negative_control(False, "the demo dedupe", LedgerViolation)]
)
def test_ledger_control(experiment, chaos, dedupe):
    experiment(PLAN, {"svc": (svc, 40)}, fault=fault_for(chaos))
    check_ledger(["a"], ["a"] if dedupe else ["a", "a"]).assert_ok()
'''


@pytest.mark.timeout(120)
def test_journal_summary_and_junit_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_exp=EXPERIMENTS)
    journal = pytester.path / "out" / "journal.json"
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--chaos-journal={journal}", f"--junitxml={junit}"
    )
    result.assert_outcomes(passed=1, xfailed=2)
    result.stdout.fnmatch_lines(
        ["*chaos experiments*", "HOLDS *test_holds*", f"journal: {journal}"]
    )

    data = json.loads(journal.read_text())
    assert data["schema_version"] == 1
    assert data["environment"]["backend"] == "local"
    by_name = {e["name"]: e for e in data["experiments"]}
    holds = by_name["test_holds"]
    assert holds["outcome"] == "passed" and holds["verdict"]["passed"] is True
    assert holds["hypothesis"].startswith("Hypothesis: the fake service copes")
    assert (holds["pair"], holds["path"]) == ("demo", "async")
    assert [v["name"] for v in holds["verdicts"]] == ["contained"]
    assert holds["ledger"]["ok"] is True and holds["ledger"]["accepted"] == 2
    lag = holds["delivery_lag"]["phases"]["fault"]
    assert (lag["accepted"], lag["undelivered"], lag["max_s"]) == (2, 1, 0.3)
    assert by_name["test_control[control-True]"]["delivery_lag"] is None
    [fault] = holds["faults"]
    assert fault["kind"] == "latency" and fault["attributes"] == {"ms": 5}
    phases = [p["name"] for p in holds["timeline"]["phases"]]
    assert phases == ["baseline", "handover", "fault", "recovery"]
    [span] = holds["timeline"]["faults"]
    assert 0 < span["start"] < span["end"]
    assert holds["timeline"]["latency"]["svc"], "no per-interval latency"
    control = by_name["test_control[control-True]"]
    assert control["outcome"] == "xfailed" and control["negative_control"] is True
    assert control["verdict"]["passed"] is True
    assert control["verdict"]["reason"].startswith("negative control failed as it must")
    # The closest mark names the path; the module's still gives the pair.
    assert (control["pair"], control["path"]) == ("demo", "unprotected")
    assert control["hypothesis"] == "Without the protection the fault reaches the caller."
    assert control["docstrings"]["module"] == holds["hypothesis"]
    assert "error rate" in control["verdict"]["reason"]
    # A ledger violation proves a protection too; duplicates are judged by default.
    ledger_control = by_name["test_ledger_control[control-False]"]
    assert ledger_control["negative_control"] is True
    assert ledger_control["verdict"]["passed"] is True
    assert "duplicated=1" in ledger_control["verdict"]["reason"]

    props = {
        p.get("name"): p.get("value")
        for case in ET.parse(junit).getroot().iter("testcase")
        if case.get("name") == "test_holds"
        for p in case.iter("property")
    }
    assert float(props["svc.baseline.sent"]) > 0
    assert "svc.fault.p99_ms" in props
    assert float(props["delivery_lag.fault.max_s"]) == 0.3
    assert props["delivery_lag.fault.undelivered"] == "1"


@pytest.mark.timeout(120)
def test_xdist_workers_experiments_make_one_journal_and_summary(pytester: pytest.Pytester) -> None:
    # Each worker records its own; the controller writes them all, a module's in the order
    # they began.
    pytester.makepyfile(test_exp=EXPERIMENTS)
    journal = pytester.path / "journal.json"
    report = pytester.path / "report.html"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", f"--chaos-journal={journal}",
        f"--chaos-report={report}",
    )  # fmt: skip
    result.assert_outcomes(passed=1, xfailed=2)
    result.stdout.fnmatch_lines(
        ["*chaos experiments*", "HOLDS *test_holds*", "protections proven necessary: 2 of 2"]
    )
    data = json.loads(journal.read_text())
    names = sorted(e["name"] for e in data["experiments"])
    assert names == [
        "test_control[control-True]",
        "test_holds",
        "test_ledger_control[control-False]",
    ]
    started = [e["started_at"] for e in data["experiments"]]
    assert started == sorted(started)
    assert data["environment"]["xdist_workers"] == 2
    assert "test_holds" in report.read_text()


NO_EVIDENCE = """
import contextlib
import pytest
from chaos import Plan, Tolerance, assert_contained, negative_control

def test_never_runs_it(experiment):
    pass

@pytest.mark.xfail(strict=True, reason="a bare xfail")
def test_bare_xfail(experiment):
    experiment(Plan(warmup=0, baseline=0.2, fault=0.2, recovery=0.2), {}, contextlib.nullcontext)
    raise AssertionError("it failed")

async def svc():
    pass

@pytest.mark.parametrize("protected", [negative_control(False, "the starved protection")])
def test_starved_control(experiment, protected):
    run = experiment(Plan(warmup=0, baseline=0.2, fault=0.2, recovery=0.2), {"svc": (svc, 20)},
                     contextlib.nullcontext)
    # Some 4 requests a phase: InsufficientData, a HypothesisFailed as the control's raises.
    assert_contained(run.phase("svc", "baseline"), run.phase("svc", "fault"),
                     Tolerance(min_samples=1000))
"""


@pytest.mark.timeout(60)
def test_no_experiment_a_bare_xfail_or_a_starved_control_is_inconclusive_not_holds(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_none=NO_EVIDENCE)
    journal = pytester.path / "journal.json"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--chaos-journal={journal}")
    # The starved control is a failure: no data proves no protection, and the gate goes red.
    result.assert_outcomes(passed=1, xfailed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*negative control inconclusive: it failed for want of data*",
            "INCONC *test_never_runs_it*no experiment was run*",
            "INCONC *test_bare_xfail*",
            "INCONC *test_starved_control*too little data*",
            "protections proven necessary: 0 of 1",
        ]
    )
    assert "HOLDS" not in result.stdout.str()
    verdicts = {e["name"]: e["verdict"] for e in json.loads(journal.read_text())["experiments"]}
    assert verdicts["test_never_runs_it"] == {
        "passed": False,
        "inconclusive": True,
        "reason": "no experiment was run: the test measured nothing",
    }
    assert verdicts["test_bare_xfail"]["inconclusive"] is True
    assert "not a chaos.negative_control" in verdicts["test_bare_xfail"]["reason"]
    starved = verdicts["test_starved_control[control-False]"]
    assert starved["inconclusive"] is True and "too little data" in starved["reason"]
