"""compare_journals: what counts as a regression between a baseline and a new run."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chaos.report import compare_journals


def _by_name(journal: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in journal["experiments"] if e["name"] == name)


SYNC = "test_latency_on_sync_chain_cascades_to_gateway"
ASYNC = "test_latency_on_async_path_is_contained[async]"
CONTROL = "test_latency_on_async_path_is_contained[control-sync]"


def test_identical_journals_have_no_regression(journal: dict[str, Any]) -> None:
    assert compare_journals(journal, copy.deepcopy(journal)) == ([], [])


def test_p99_worse_than_the_threshold_is_a_regression(journal: dict[str, Any]) -> None:
    new = copy.deepcopy(journal)
    figures = _by_name(new, ASYNC)["figures"]
    before = figures["reactions.fault.p99_ms"]
    figures["reactions.fault.p99_ms"] = before * 1.5
    regressions, _ = compare_journals(journal, new, threshold=0.2)
    assert [(r.experiment, r.what.split()[0]) for r in regressions] == [
        (ASYNC, "reactions.fault.p99_ms")
    ]
    assert str(regressions[0]).startswith(f"REGRESSED {ASYNC}: ")
    assert "+50%" in regressions[0].what
    assert compare_journals(journal, new, threshold=0.6) == ([], [])


def test_error_rate_from_zero_needs_a_percent_point(journal: dict[str, Any]) -> None:
    new = copy.deepcopy(journal)
    figures = _by_name(new, ASYNC)["figures"]
    assert figures["reactions.fault.error_rate"] == 0.0
    figures["reactions.fault.error_rate"] = 0.005
    assert compare_journals(journal, new)[0] == []
    figures["reactions.fault.error_rate"] = 0.3
    (regression,) = compare_journals(journal, new)[0]
    assert "0.0% -> 30.0% (from zero)" in regression.what


def test_better_figures_are_not_regressions(journal: dict[str, Any]) -> None:
    new = copy.deepcopy(journal)
    for key, value in _by_name(new, SYNC)["figures"].items():
        if isinstance(value, float):
            _by_name(new, SYNC)["figures"][key] = value / 2
    assert compare_journals(journal, new)[0] == []


def test_flipped_verdict_is_a_regression_and_a_fix_a_note(journal: dict[str, Any]) -> None:
    new = copy.deepcopy(journal)
    _by_name(new, SYNC)["verdict"] = {"passed": False, "reason": "p50 rose by only 3 ms"}
    (regression,) = compare_journals(journal, new)[0]
    assert regression.experiment == SYNC
    assert regression.what == "verdict HOLDS -> BROKEN: p50 rose by only 3 ms"
    assert compare_journals(new, journal) == ([], [f"fixed: {SYNC} BROKEN -> HOLDS"])


def test_lost_messages_are_a_regression(journal: dict[str, Any]) -> None:
    new = copy.deepcopy(journal)
    ledger = _by_name(new, ASYNC)["ledger"]
    ledger["lost"], ledger["ok"] = ["r1", "r2"], False
    whats = [r.what for r in compare_journals(journal, new)[0]]
    assert whats == [
        "ledger lost 2 message(s) (baseline 0): r1, r2",
        "ledger check failed (was ok)",
    ]


def test_negative_control_figures_are_not_compared(journal: dict[str, Any]) -> None:
    new = copy.deepcopy(journal)
    figures = _by_name(new, CONTROL)["figures"]
    for key in figures:
        if key.endswith("p99_ms") and figures[key] is not None:
            figures[key] *= 10
    assert compare_journals(journal, new)[0] == []


def test_missing_experiment_is_a_regression_and_a_new_one_a_note(
    journal: dict[str, Any],
) -> None:
    new = copy.deepcopy(journal)
    gone = new["experiments"].pop(0)
    regressions, notes = compare_journals(journal, new)
    assert [str(r) for r in regressions] == [
        f"REGRESSED {gone['name']}: missing: {gone['id']} did not run"
    ]
    assert notes == []
    assert compare_journals(new, journal) == ([], [f"new experiment (no baseline): {gone['id']}"])


@pytest.mark.parametrize("threshold", [-0.1, float("nan")])
def test_bad_threshold_is_refused(journal: dict[str, Any], threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold must be a share >= 0"):
        compare_journals(journal, journal, threshold)
