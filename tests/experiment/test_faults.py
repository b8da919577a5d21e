"""The fault timeline: every fault recorded, and rolled back however the block ends."""

from __future__ import annotations

import pytest

from chaos._timeline import Timeline


def make(log: list[str], fail_apply: bool = False, fail_rollback: bool = False):
    def apply() -> None:
        if fail_apply:
            raise RuntimeError("cannot apply")
        log.append("apply")

    def rollback() -> None:
        log.append("rollback")
        if fail_rollback:
            raise RuntimeError("cannot roll back")

    return apply, rollback


def test_fault_is_recorded_with_times_and_rolled_back() -> None:
    log: list[str] = []
    timeline = Timeline()
    with timeline.fault("latency", "db", *make(log), attributes={"latency": 100}) as event:
        assert log == ["apply"]
        assert event.applied_at is not None and event.removed_at is None
    assert log == ["apply", "rollback"]
    [recorded] = timeline.to_list()
    assert recorded["kind"] == "latency" and recorded["target"] == "db"
    assert recorded["attributes"] == {"latency": 100}
    assert recorded["removed_at"] >= recorded["applied_at"]


@pytest.mark.parametrize("exc", [ValueError("boom"), KeyboardInterrupt()])
def test_rollback_runs_on_exception_and_ctrl_c(exc: BaseException) -> None:
    log: list[str] = []
    timeline = Timeline()
    with pytest.raises(type(exc)), timeline.fault("down", "api", *make(log)):
        raise exc
    assert log == ["apply", "rollback"]
    assert timeline.events[0].removed_at is not None


def test_failed_apply_is_recorded_and_not_rolled_back() -> None:
    log: list[str] = []
    timeline = Timeline()
    with (
        pytest.raises(RuntimeError, match="cannot apply"),
        timeline.fault("down", "api", *make(log, fail_apply=True)),
    ):
        pass
    assert log == []
    assert "apply failed" in (timeline.events[0].error or "")


def test_failed_rollback_is_recorded_and_raised() -> None:
    timeline = Timeline()
    with (
        pytest.raises(RuntimeError, match="cannot roll back"),
        timeline.fault("down", "api", *make([], fail_rollback=True)),
    ):
        pass
    assert "rollback failed" in (timeline.events[0].error or "")


def test_rollback_all_undoes_faults_left_open_newest_first() -> None:
    log: list[str] = []
    timeline = Timeline()
    first = timeline.fault("a", "x", lambda: None, lambda: log.append("a"))
    second = timeline.fault("b", "x", lambda: None, lambda: log.append("b"))
    first.__enter__()
    second.__enter__()
    assert timeline.rollback_all() == []
    assert log == ["b", "a"]
    assert timeline.rollback_all() == []  # nothing twice
    assert log == ["b", "a"]


def test_fault_rolled_back_by_rollback_all_is_not_rolled_back_again_on_close() -> None:
    log: list[str] = []
    timeline = Timeline()
    cm = timeline.fault("a", "x", lambda: None, lambda: log.append("a"))
    cm.__enter__()
    assert timeline.rollback_all() == []
    cm.__exit__(None, None, None)  # what closing the abandoned generator does, later
    assert log == ["a"]
    assert timeline.events[0].error is None
