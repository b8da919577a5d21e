"""chaos.experiment._controls: a negative control is a strict xfail of the failures it names."""

from __future__ import annotations

import pytest

from chaos import ContainmentBroken, HypothesisFailed, LedgerViolation, negative_control


@pytest.mark.parametrize("raises", [ContainmentBroken, HypothesisFailed, LedgerViolation])
def test_a_control_is_a_strict_xfail_of_its_failure_marked_with_its_protection(
    raises: type[AssertionError],
) -> None:
    extra = pytest.mark.experiment(path="sync")
    param = negative_control("off", "no dedupe", raises, extra)  # type: ignore[arg-type]
    assert param.values == ("off",)
    assert param.id == "control-off"
    xfail, control, rest = param.marks
    assert xfail.name == "xfail"
    assert xfail.kwargs == {
        "strict": True,
        "raises": raises,
        "reason": "negative control: no dedupe",
    }
    assert (control.name, control.kwargs) == ("chaos_control", {"protection": "no dedupe"})
    assert rest is extra


@pytest.mark.parametrize("raises", [AssertionError, ValueError, "LedgerViolation", None])
def test_other_failures_are_refused(raises: object) -> None:
    with pytest.raises(TypeError, match=r"HypothesisFailed subclass .* or LedgerViolation, got"):
        negative_control(True, "no outbox", raises)  # type: ignore[arg-type]
