"""The stub: one toxic's place on one link, and the only thing a toxic talks to.

A link is a chain, drawn for a connection with two upstream toxics::

    client --read--> [queue] -> toxic A -> [queue] -> toxic B --> sink --write--> upstream
                       stub A: input=q0, output=q1     stub B: input=q1, output=sink

A toxic's `pipe(stub)` loops: `read()` a chunk (None is EOF), do its harm, `send()` it on.
The link interrupts a toxic by cancelling its task (a toxic added, updated or removed):
every await in a toxic is therefore interruptible, and a toxic holding a chunk it already
read must pass it on in a `finally` so that no data is ever dropped.
"""

from __future__ import annotations

import random
import time
from typing import Any, Protocol

from chaos.proxy.stream import EOF, Chunk
from chaos.proxy.timer import precise_sleep

__all__ = ["Clock", "LoopClock", "Outlet", "Resettable", "Stub"]

# asyncio's timers misbehave with absurd delays; a toxic asking for longer waits this long.
MAX_SLEEP = 10_000_000.0


class Outlet(Protocol):
    """Where a stub sends to: the next stub's queue or the link's sink."""

    def put(self, item: Chunk | None) -> None: ...


class Inlet(Protocol):
    """Where a stub reads from."""

    async def get(self) -> Chunk | None: ...


class Resettable(Protocol):
    """The link, as seen by a toxic that must reset the connection."""

    def reset(self) -> None: ...


class Clock(Protocol):
    """Time as toxics see it; tests substitute a fake one that never sleeps."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """Monotonic time, read fresh, and sleeps to a timerfd's precision (see `timer`).

    Not the loop's clock: uvloop's is cached per iteration in whole milliseconds.
    """

    now = staticmethod(time.monotonic)  # read on every chunk: no Python frame around it

    async def sleep(self, seconds: float) -> None:
        await precise_sleep(min(max(seconds, 0.0), MAX_SLEEP))


class Stub:
    """One toxic's input, output, per-connection state, random source and clock.

    `state` is this toxic's on this link; `shared` is one dict for both links of a connection
    (the HTTP toxics pair requests read on one link with responses read on the other).
    """

    __slots__ = ("clock", "closed", "input", "link", "output", "rng", "shared", "state")

    def __init__(
        self,
        input: Inlet,
        output: Outlet,
        link: Resettable,
        rng: random.Random,
        clock: Clock,
        state: Any = None,
        shared: dict[Any, Any] | None = None,
    ) -> None:
        self.input = input
        self.output = output
        self.link = link
        self.rng = rng
        self.clock = clock
        self.state = state
        self.shared = {} if shared is None else shared
        self.closed = False

    async def read(self) -> Chunk | None:
        """Next chunk, or None at end of stream."""
        return await self.input.get()

    def send(self, chunk: Chunk) -> None:
        """Pass a chunk to the next stage (never blocks)."""
        self.output.put(chunk)

    def close(self) -> None:
        """End the stream here: the connection closes once what was sent is written."""
        if not self.closed:
            self.closed = True
            self.output.put(EOF)

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0) on both sides."""
        self.closed = True
        self.link.reset()

    def now(self) -> float:
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        await self.clock.sleep(seconds)
