"""Negative controls: the same experiment with one protection removed must fail."""

from __future__ import annotations

from typing import Any

import pytest

from chaos.experiment._ledger import LedgerViolation
from chaos.experiment._verdict import HypothesisFailed

__all__ = ["negative_control"]


def negative_control(
    value: Any,
    protection: str,
    raises: type[HypothesisFailed | LedgerViolation] = HypothesisFailed,
    *marks: pytest.MarkDecorator,
) -> Any:
    """A `pytest.param(value)` with `protection` (its name, e.g. "outbox") removed: the
    hypothesis must fail.

    A strict xfail that only `raises` satisfies: if the experiment passes, fails some other
    way, or is inconclusive (`InsufficientData`: too little data to judge), the control fails,
    and the report says why. `raises` is a verdict's failure (e.g. ContainmentBroken) or
    LedgerViolation (the protection keeps messages). Only controls made here count as proof
    that a protection is necessary.
    """
    if not (isinstance(raises, type) and issubclass(raises, (HypothesisFailed, LedgerViolation))):
        raise TypeError(
            "raises must be a HypothesisFailed subclass (e.g. ContainmentBroken) or "
            f"LedgerViolation, got {raises!r}"
        )
    xfail = pytest.mark.xfail(
        strict=True, raises=raises, reason=f"negative control: without the {protection}"
    )
    control = pytest.mark.chaos_control(protection=protection)
    return pytest.param(value, marks=[xfail, control, *marks], id=f"control-{value}")
