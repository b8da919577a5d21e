"""Results announced to whoever is recording the current test (verdicts, ledger checks)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

__all__ = ["observe", "publish"]

_observers: ContextVar[tuple[Callable[[object], None], ...]] = ContextVar(
    "chaos_observers", default=()
)


def publish(result: object) -> None:
    """Hand a result to every active observer (none outside a recorded test)."""
    for observer in _observers.get():
        observer(result)


@contextlib.contextmanager
def observe(observer: Callable[[object], None]) -> Iterator[None]:
    """Receive what `publish` announces while the block runs."""
    token = _observers.set((*_observers.get(), observer))
    try:
        yield
    finally:
        _observers.reset(token)
