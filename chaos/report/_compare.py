"""Compare a baseline journal with a new one, experiment by experiment: what regressed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Regression", "compare_journals"]

_PHASES = ("baseline", "settle", "fault", "recovery")
_MIN_RISE = {"p99_ms": 1.0, "error_rate": 0.01}
"""Absolute floors, so 0.0 -> 0.001 error rate or 2 -> 3 ms is not called a regression."""


@dataclass(frozen=True)
class Regression:
    """One way an experiment got worse; `what` is a short human sentence."""

    experiment: str
    what: str

    def __str__(self) -> str:
        return f"REGRESSED {self.experiment}: {self.what}"


def _fmt(figure: str, value: float) -> str:
    return f"{value:.1f} ms" if figure == "p99_ms" else f"{100 * value:.1f}%"


def _figures(base: Mapping[str, Any], new: Mapping[str, Any], threshold: float) -> list[str]:
    found = []
    old_figs, new_figs = base.get("figures") or {}, new.get("figures") or {}
    for key, now in new_figs.items():
        parts = key.rsplit(".", 2)
        if len(parts) != 3 or parts[1] not in _PHASES or parts[2] not in _MIN_RISE:
            continue
        figure = parts[2]
        before = old_figs.get(key)
        if not isinstance(now, int | float) or not isinstance(before, int | float):
            continue
        if now > before * (1 + threshold) and now - before >= _MIN_RISE[figure]:
            change = f"+{(now / before - 1) * 100:.0f}%" if before > 0 else "from zero"
            found.append(f"{key} {_fmt(figure, before)} -> {_fmt(figure, now)} ({change})")
    return found


def _ledger(base: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    ledger = new.get("ledger")
    if not ledger:
        return []
    lost = len(ledger.get("lost") or [])
    lost_before = len((base.get("ledger") or {}).get("lost") or [])
    found = []
    if lost > lost_before:
        shown = ", ".join(list(ledger["lost"])[:5])
        found.append(f"ledger lost {lost} message(s) (baseline {lost_before}): {shown}")
    if ledger.get("ok") is False and (base.get("ledger") or {}).get("ok") is not False:
        found.append("ledger check failed (was ok)")
    return found


def compare_journals(
    base: Mapping[str, Any], new: Mapping[str, Any], threshold: float = 0.2
) -> tuple[list[Regression], list[str]]:
    """(regressions, notes). Experiments are matched by pytest node id.

    Regressions: a verdict that held and no longer does; an experiment of the baseline missing
    from the new run; a p99 or error rate of any phase worse by more than `threshold` (a share:
    0.2 = 20 %) of the baseline's value; more messages lost. Figures of negative controls are
    not compared (they are meant to be bad), only their verdicts.
    """
    if not threshold >= 0:
        raise ValueError(f"threshold must be a share >= 0 (0.2 = 20%), got {threshold!r}")
    old = {e["id"]: e for e in base.get("experiments") or []}
    regressions: list[Regression] = []
    notes: list[str] = []
    seen = set()
    for exp in new.get("experiments") or []:
        seen.add(exp["id"])
        before = old.get(exp["id"])
        name = exp.get("name", exp["id"])
        if before is None:
            notes.append(f"new experiment (no baseline): {exp['id']}")
            continue
        was = bool((before.get("verdict") or {}).get("passed"))
        now = bool((exp.get("verdict") or {}).get("passed"))
        if was and not now:
            reason = (exp.get("verdict") or {}).get("reason", "")
            regressions.append(Regression(name, f"verdict HOLDS -> BROKEN: {reason}"))
        elif not was and now:
            notes.append(f"fixed: {name} BROKEN -> HOLDS")
        if not exp.get("negative_control"):
            regressions += [Regression(name, w) for w in _figures(before, exp, threshold)]
        regressions += [Regression(name, w) for w in _ledger(before, exp)]
    for exp_id, exp in old.items():
        if exp_id not in seen:
            regressions.append(
                Regression(exp.get("name", exp_id), f"missing: {exp_id} did not run")
            )
    return regressions, notes
