"""Negative controls: the same experiment with one protection removed must fail."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.experiment._ledger import LedgerViolation
from chaos.experiment._verdict import HypothesisFailed

__all__ = ["CONTROL_MARKER", "negative_control"]

CONTROL_MARKER = "chaos_control"


def negative_control(
    value: Any,
    protection: str,
    raises: type[HypothesisFailed] | type[LedgerViolation] = HypothesisFailed,
    *marks: pytest.MarkDecorator,
) -> Any:
    """A `pytest.param(value)` with `protection` removed: the hypothesis must fail.

    A strict xfail that only `raises` satisfies: if the experiment passes, or fails some other
    way, the control fails, and the report says the check cannot fail. Only controls made here
    count as proof that a protection is necessary. `raises` is a verdict's failure (a
    `HypothesisFailed` subclass) or `LedgerViolation`, for a protection whose removal loses or
    duplicates messages rather than slowing anyone down.
    """
    if not (isinstance(raises, type) and issubclass(raises, HypothesisFailed | LedgerViolation)):
        raise TypeError(
            "raises must be a HypothesisFailed subclass (e.g. ContainmentBroken) or "
            f"LedgerViolation, got {raises!r}"
        )
    xfail = pytest.mark.xfail(strict=True, raises=raises, reason=f"negative control: {protection}")
    control = pytest.mark.chaos_control(protection=protection)
    return pytest.param(value, marks=[xfail, control, *marks], id=f"control-{value}")
