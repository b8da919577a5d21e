"""`crashed()` and `paused()` blocks shared by processes, brokers and containers.

Each records itself on the running test's fault timeline (`chaos._timeline`), so a built-in
fault shows in the journal however it was called.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Self

from chaos._timeline import fault

__all__ = ["FaultBlocks"]


class FaultBlocks:
    """Mixin: needs `kill()`, `start(timeout)`, `pause()`, `resume()` and a `fault_target`."""

    @property
    def fault_target(self) -> str:
        raise NotImplementedError

    def kill(self) -> Any:
        raise NotImplementedError

    def start(self, timeout: float | None = None) -> Self:
        raise NotImplementedError

    def pause(self) -> None:
        raise NotImplementedError

    def resume(self) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def crashed(self, timeout: float | None = None) -> Iterator[Self]:
        """SIGKILL it for the block; start it again (and wait ready) on the way out."""
        with fault(
            "crash",
            self.fault_target,
            self.kill,
            lambda: self.start(timeout),
            {"signal": "KILL"},
        ):
            yield self

    @contextlib.contextmanager
    def paused(self) -> Iterator[Self]:
        """Freeze it (SIGSTOP, or `docker pause`) for the block; resume it on the way out."""
        with fault("freeze", self.fault_target, self.pause, self.resume, {"signal": "STOP"}):
            yield self
