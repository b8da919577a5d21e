"""reset_peer: on the first data (or EOF), wait `timeout` ms, then abort the connection (RST).

An idle connection is left alone. What is read is dropped: the reset discards unsent data.
If interrupted while waiting, the item read is passed on, so removing the toxic loses nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, attribute, register


@register
@dataclasses.dataclass(kw_only=True)
class ResetToxic(Toxic):
    """Resets the connection `timeout` ms after data first arrives in its direction."""

    type = "reset_peer"
    go_struct = "ResetToxic"

    timeout: int = attribute(doc="milliseconds between the first data and the reset")

    async def pipe(self, stub: Stub) -> None:
        first = await stub.read()
        if self.timeout:
            try:
                await stub.sleep(self.timeout / 1000.0)
            except asyncio.CancelledError:
                if first is None:
                    stub.close()
                else:
                    stub.send(first)
                raise
        stub.reset()
