"""Backpressure in one tiny class: pause reading a socket while any reason to pause holds."""

from __future__ import annotations

import asyncio

__all__ = ["Flow"]


class Flow:
    """Reading of one transport, paused while any named reason is set."""

    __slots__ = ("_reasons", "transport")

    def __init__(self, transport: asyncio.Transport | None = None) -> None:
        self.transport = transport
        self._reasons: set[str] = set()

    def pause(self, reason: str) -> None:
        if not self._reasons and self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()
        self._reasons.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self._reasons:
            return
        self._reasons.discard(reason)
        if not self._reasons and self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    @property
    def paused(self) -> bool:
        return bool(self._reasons)
