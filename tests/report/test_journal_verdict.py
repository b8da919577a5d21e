"""ExperimentRecord.verdict: never more than was measured."""

from __future__ import annotations

from chaos.experiment import Run, Verdict
from chaos.report._journal import ExperimentRecord


def _record(outcome: str, *runs: Run, control: bool = False) -> ExperimentRecord:
    record = ExperimentRecord("t", "t", "m", "h", negative_control=control, outcome=outcome)
    record.runs.extend(runs)
    return record


def test_a_passed_run_holds() -> None:
    assert _record("passed", Run({}, None)).verdict()["passed"] is True


def test_a_short_phase_makes_a_pass_inconclusive() -> None:
    run = Run({}, None, shortfalls=["recovery phase of load 'x' carried load for 0.0 s of 3 s"])
    verdict = _record("passed", run).verdict()
    assert verdict["passed"] is False and verdict["inconclusive"] is True
    assert verdict["reason"].startswith("recovery phase of load 'x'")


def test_a_failure_for_lack_of_data_is_inconclusive_not_broken() -> None:
    record = _record("failed", Run({}, None))
    record.observe(Verdict("contained", False, "phase 'fault' has 3 settled requests", {}, True))
    verdict = record.verdict()
    assert verdict["inconclusive"] is True and "phase 'fault'" in verdict["reason"]


def test_a_refuted_hypothesis_is_broken() -> None:
    record = _record("failed", Run({}, None))
    record.observe(Verdict("contained", False, "fault p99 900 ms > 300 ms", {}))
    assert record.verdict() == {
        "passed": False,
        "inconclusive": False,
        "reason": record.message or "failed",
    }
