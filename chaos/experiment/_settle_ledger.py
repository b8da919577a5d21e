"""Drain, then check: the ledger once the system has delivered or given up on what it accepted."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from chaos.experiment._clock import Clock
from chaos.experiment._ledger import LedgerResult, check_ledger
from chaos.experiment._settle import wait_until

__all__ = ["settle_ledger"]


class _Recorded(Protocol):
    """A load target's records: the ids the system accepted, and those of unknown outcome."""

    @property
    def accepted(self) -> Collection[str]: ...

    @property
    def unknown(self) -> Collection[str]: ...


@dataclass(frozen=True)
class _Backlog:
    """One look at the system; truthy once settled, and its repr is what a timeout reports."""

    accepted: int
    missing: int
    dead: int | None

    def __bool__(self) -> bool:
        return self.missing <= (self.dead or 0)

    def __repr__(self) -> str:
        given_up = "" if self.dead is None else f", {self.dead} given up on"
        return f"{self.missing} of {self.accepted} accepted ids not delivered{given_up}"


def settle_ledger(
    target: _Recorded,
    delivered: Callable[[], Iterable[str]],
    *,
    dead: Callable[[], int] | None = None,
    timeout: float = 30.0,
    interval: float = 0.2,
    clock: Clock | None = None,
) -> LedgerResult:
    """Wait until every id `target` got accepted is in `delivered()`, or the ids still missing
    are no more than `dead()`, then return `check_ledger` of the target and `delivered()`.

    `delivered` reads the system's own records (one id per delivery); `dead` counts the messages
    it gave up on (a dead-letter queue), so a system that drops messages ends the wait at once
    and the ledger reports them lost. Trap: `dead` is a count, not ids; a dead unknown-outcome
    id ends the wait one missing id early. An exception from either counts as "not yet"; after
    `timeout` seconds `SettleTimeout` says how many ids are missing. `clock` is for tests.
    """
    accepted = frozenset(target.accepted)

    def look() -> _Backlog:
        missing = len(accepted - set(delivered()))
        # Nothing missing: no need to reach the dead letters (their broker may be down).
        given_up = dead() if dead is not None and missing else None
        return _Backlog(len(accepted), missing, given_up)

    what = "every accepted id delivered or given up on"
    wait_until(what, look, timeout, interval, clock=clock)
    return check_ledger(accepted, delivered(), target.unknown)
