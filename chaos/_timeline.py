"""Faults as context managers with guaranteed rollback, each recorded on a timeline.

The lowest layer of chaos (no dependencies): the runtime's built-in faults (a broker's or a
process's `crashed()`, `paused()`) record themselves with `fault()` on the timeline of the test
that is running (`active()`, set by the `chaos` fixture), whoever calls them.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FaultEvent", "Timeline", "active", "current", "fault"]


@dataclass
class FaultEvent:
    """One fault: what, where, with which attributes, applied and removed when (unix time)."""

    kind: str
    target: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    applied_at: float | None = None
    removed_at: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "attributes": dict(self.attributes),
            "applied_at": self.applied_at,
            "removed_at": self.removed_at,
            "error": self.error,
        }


class Timeline:
    """Every fault of a test, in order; `fault()` applies one and always rolls it back."""

    def __init__(self) -> None:
        self.events: list[FaultEvent] = []
        self._active: list[tuple[FaultEvent, Callable[[], object]]] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def fault(
        self,
        kind: str,
        target: str,
        apply: Callable[[], object],
        rollback: Callable[[], object],
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[FaultEvent]:
        """Apply, yield, roll back: on normal exit, on an exception and on Ctrl-C alike."""
        event = FaultEvent(kind, target, dict(attributes or {}))
        with self._lock:
            self.events.append(event)
        try:
            apply()
        except BaseException as exc:
            event.error = f"apply failed: {exc!r}"
            raise
        event.applied_at = time.time()
        entry = (event, rollback)
        with self._lock:
            self._active.append(entry)
        try:
            yield event
        finally:
            # rollback_all() may have undone it already (a fault left open until teardown, its
            # generator closed later by the garbage collector): never roll back twice.
            with self._lock:
                open_ = entry in self._active
                if open_:
                    self._active.remove(entry)
            if open_:
                self._roll_back(event, rollback)

    @staticmethod
    def _roll_back(event: FaultEvent, rollback: Callable[[], object]) -> None:
        try:
            rollback()
        except BaseException as exc:
            event.error = f"rollback failed: {exc!r}"
            raise
        finally:
            event.removed_at = time.time()

    def rollback_all(self) -> list[str]:
        """Roll back whatever is still applied (a fault left open); returns what failed."""
        failures: list[str] = []
        while True:
            with self._lock:
                if not self._active:
                    return failures
                event, rollback = self._active.pop()
            try:
                self._roll_back(event, rollback)
            except Exception as exc:
                failures.append(f"{event.kind} on {event.target}: {exc!r}")

    def to_list(self) -> list[dict[str, Any]]:
        return [event.to_dict() for event in self.events]


_current: contextvars.ContextVar[Timeline | None] = contextvars.ContextVar(
    "chaos_timeline", default=None
)


def current() -> Timeline | None:
    """The timeline of the test that is running, if a `chaos` fixture set one."""
    return _current.get()


@contextlib.contextmanager
def active(timeline: Timeline) -> Iterator[Timeline]:
    """Make `timeline` the one that `fault()` records on, for the block."""
    token = _current.set(timeline)
    try:
        yield timeline
    finally:
        _current.reset(token)


def fault(
    kind: str,
    target: str,
    apply: Callable[[], object],
    rollback: Callable[[], object],
    attributes: Mapping[str, Any] | None = None,
) -> contextlib.AbstractContextManager[FaultEvent]:
    """`Timeline.fault` on the active timeline; outside a test, on a timeline of its own."""
    return (current() or Timeline()).fault(kind, target, apply, rollback, attributes)
