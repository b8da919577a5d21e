"""`negative_control`: a strict xfail that only a verdict's failure or a ledger violation meets."""

from __future__ import annotations

import pytest

import chaos


@pytest.mark.parametrize("raises", [chaos.ContainmentBroken, chaos.LedgerViolation])
def test_a_control_is_a_strict_xfail_of_its_failure(raises: type[AssertionError]) -> None:
    param = chaos.negative_control(0, "retries", raises)
    (xfail,) = [m for m in param.marks if m.name == "xfail"]
    assert xfail.kwargs == {
        "strict": True,
        "raises": raises,
        "reason": "negative control: without the retries",
    }
    assert [m.kwargs for m in param.marks if m.name == "chaos_control"] == [
        {"protection": "retries"}
    ]
    assert (param.values, param.id) == ((0,), "control-0")


@pytest.mark.parametrize("raises", [AssertionError, TimeoutError, chaos.SettleTimeout])
def test_a_control_that_any_failure_would_meet_is_refused(raises: type[Exception]) -> None:
    with pytest.raises(TypeError, match=r"HypothesisFailed subclass .* or LedgerViolation"):
        chaos.negative_control(0, "retries", raises)  # type: ignore[arg-type]
