"""latency: hold every chunk until `latency` ms (+/- `jitter` ms) after it was read.

Trap: the delay counts from the chunk's read timestamp, not from when this toxic gets to it,
so a backlog is pipelined (three chunks read together all leave ~latency later, not 1x, 2x, 3x).
The timestamp then moves to the due time, so a second latency toxic in the chain adds its own
delay. (Toxiproxy moves it by the time actually slept, which undercounts chained delays for a
backlog; the due time is what it means.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import random

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, attribute, register


def draw(latency: int, jitter: int, rng: random.Random) -> float:
    """One draw of a delay in seconds, ms +/- jitter ms; a jitter larger than it floors at 0."""
    spread = jitter * (2.0 * rng.random() - 1.0) if jitter else 0.0
    return max(latency + spread, 0.0) / 1000.0


@register
@dataclasses.dataclass(kw_only=True)
class LatencyToxic(Toxic):
    """Delays each chunk by `latency` ms plus a uniform draw in [-jitter, +jitter) ms."""

    type = "latency"
    go_struct = "LatencyToxic"

    latency: int = attribute(doc="delay in milliseconds")
    jitter: int = attribute(doc="spread in milliseconds, drawn uniformly in [-jitter, +jitter)")

    def delay(self, rng: random.Random) -> float:
        return draw(self.latency, self.jitter, rng)

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            due = chunk.timestamp + self.delay(stub.rng)
            wait = due - stub.now()
            if wait > 0:
                try:
                    await stub.sleep(wait)
                except asyncio.CancelledError:
                    stub.send(chunk)  # interrupted: pass it on undelayed, never drop it
                    raise
            chunk.timestamp = due
            stub.send(chunk)
        stub.close()
