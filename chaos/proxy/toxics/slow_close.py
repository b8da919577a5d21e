"""slow_close: data passes untouched; the close (EOF) is passed on `delay` ms late."""

from __future__ import annotations

import asyncio
import dataclasses

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, attribute, register


@register
@dataclasses.dataclass(kw_only=True)
class SlowCloseToxic(Toxic):
    """Delays the end of the stream by `delay` ms."""

    type = "slow_close"
    go_struct = "SlowCloseToxic"

    delay: int = attribute(doc="milliseconds between the source's EOF and passing it on")

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            stub.send(chunk)
        if self.delay:
            try:
                await stub.sleep(self.delay / 1000.0)
            except asyncio.CancelledError:
                stub.close()  # the EOF was already read: pass it on now rather than lose it
                raise
        stub.close()
