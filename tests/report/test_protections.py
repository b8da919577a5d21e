"""The report's count of protections proven necessary."""

from __future__ import annotations

from typing import Any

from chaos.report._html import proven_protections


def _control(protection: str, outcome: str, passed: bool) -> dict[str, Any]:
    return {
        "negative_control": True,
        "protection": protection,
        "outcome": outcome,
        "verdict": {"passed": passed, "reason": ""},
    }


def test_a_protection_is_proven_only_when_every_control_of_it_failed_as_required() -> None:
    experiments = [
        _control("outbox", "xfailed", True),
        _control("dedupe", "xfailed", True),
        _control("dedupe", "xpassed", False),  # a second control of dedupe could not fail
        _control("breaker", "failed", False),  # failed some other way: not proof
        {"negative_control": False, "protection": None, "outcome": "passed"},
    ]
    assert proven_protections(experiments) == (1, 3)


def test_no_controls_no_count() -> None:
    assert proven_protections([{"negative_control": False, "outcome": "passed"}]) == (0, 0)
