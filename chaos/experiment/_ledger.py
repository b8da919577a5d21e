"""Jepsen-style total-queue check: every acknowledged message delivered, none invented."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chaos._observe import publish

__all__ = ["LedgerResult", "LedgerViolation", "check_ledger"]

_SHOWN_IDS = 10


class LedgerViolation(AssertionError):
    """Messages were lost, invented or (when not allowed) delivered twice."""

    def __init__(self, message: str, result: LedgerResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class LedgerResult:
    """The outcome of comparing what the system accepted with what it delivered.

    - lost: accepted, never delivered.
    - duplicated: delivered more than once (id -> delivery count).
    - unexpected: delivered, but neither accepted nor attempted with an unknown outcome.
    - recovered: attempted with an unknown outcome (e.g. the request timed out) and delivered.
    An unknown-outcome message that never arrives is neither lost nor an error: the system
    never promised it.
    """

    accepted: frozenset[str]
    delivered: frozenset[str]
    lost: frozenset[str]
    duplicated: dict[str, int]
    unexpected: frozenset[str]
    recovered: frozenset[str]
    deliveries: int

    @property
    def ok(self) -> bool:
        """Nothing lost and nothing unexpected (duplicates are judged by `assert_ok`)."""
        return not self.lost and not self.unexpected

    def assert_ok(self, allow_duplicates: bool = False, *, max_duplicated: int = 0) -> LedgerResult:
        """Raise LedgerViolation with a readable summary unless the ledger is clean.

        A message delivered twice is a violation: a system that deduplicates promises none.
        `max_duplicated` tolerates that many ids delivered twice (messages in doubt, e.g. the
        one a consumer was pushing when it was killed: delivered, but never recorded as such);
        `allow_duplicates=True` any number (a system that promises only at-least-once).
        """
        if isinstance(max_duplicated, bool) or not (
            isinstance(max_duplicated, int) and max_duplicated >= 0
        ):
            raise ValueError(f"max_duplicated must be an int >= 0, got {max_duplicated!r}")
        problems: list[str] = []
        if self.lost:
            problems.append(f"{len(self.lost)} lost (accepted, never delivered): {_ids(self.lost)}")
        if self.unexpected:
            problems.append(
                f"{len(self.unexpected)} unexpected (delivered, never accepted): "
                f"{_ids(self.unexpected)}"
            )
        if len(self.duplicated) > max_duplicated and not allow_duplicates:
            shown = ", ".join(f"{k} x{v}" for k, v in sorted(self.duplicated.items())[:_SHOWN_IDS])
            more = len(self.duplicated) - _SHOWN_IDS
            allowed = f" (at most {max_duplicated} allowed)" if max_duplicated else ""
            problems.append(
                f"{len(self.duplicated)} duplicated{allowed}: {shown}"
                + (f", ... +{more}" if more > 0 else "")
            )
        if problems:
            raise LedgerViolation(
                f"message ledger violated: {self.summary()}\n  - " + "\n  - ".join(problems), self
            )
        return self

    def summary(self) -> str:
        """One line of counts."""
        return (
            f"accepted={len(self.accepted)} delivered={len(self.delivered)} "
            f"(deliveries={self.deliveries}) lost={len(self.lost)} "
            f"duplicated={len(self.duplicated)} unexpected={len(self.unexpected)} "
            f"recovered={len(self.recovered)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: counts plus the offending ids, sorted."""
        return {
            "accepted": len(self.accepted),
            "delivered": len(self.delivered),
            "deliveries": self.deliveries,
            "lost": sorted(self.lost),
            "duplicated": dict(sorted(self.duplicated.items())),
            "unexpected": sorted(self.unexpected),
            "recovered": sorted(self.recovered),
            "ok": self.ok,
        }


def _ids(ids: frozenset[str]) -> str:
    shown = sorted(ids)[:_SHOWN_IDS]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f", ... +{more}" if more else "")


def check_ledger(
    accepted: Iterable[str],
    delivered: Iterable[str],
    attempted_unknown: Iterable[str] = (),
) -> LedgerResult:
    """Compare accepted ids, delivered ids (one entry per delivery) and unknown-outcome ids."""
    accepted_set = frozenset(accepted)
    counts = Counter(delivered)
    delivered_set = frozenset(counts)
    # An id both accepted and unknown was accepted: the stronger promise wins.
    unknown = frozenset(attempted_unknown) - accepted_set
    result = LedgerResult(
        accepted=accepted_set,
        delivered=delivered_set,
        lost=accepted_set - delivered_set,
        duplicated={k: n for k, n in counts.items() if n > 1},
        unexpected=delivered_set - accepted_set - unknown,
        recovered=delivered_set & unknown,
        deliveries=sum(counts.values()),
    )
    publish(result)  # the experiment's journal records it
    return result
