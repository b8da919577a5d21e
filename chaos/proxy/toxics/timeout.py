"""timeout: black-hole the data; close once `timeout` ms pass with nothing arriving (0: never).

The timer is re-armed by every chunk (each is dropped) and, with no traffic at all, counts from
when the toxic started on the link, as in Toxiproxy. Removing the toxic closes its connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, attribute, register


async def _unwind(reader: asyncio.Task[Any], timer: asyncio.Task[None]) -> None:
    """Stop both waits; the read must finish unwinding before anyone reads the queue again."""
    timer.cancel()
    reader.cancel()
    await asyncio.wait((reader, timer))


def _read_eof(reader: asyncio.Task[Any]) -> bool:
    return not reader.cancelled() and reader.exception() is None and reader.result() is None


@register
@dataclasses.dataclass(kw_only=True)
class TimeoutToxic(Toxic):
    """Drops all data; closes the connection after `timeout` ms without any chunk arriving."""

    type = "timeout"
    go_struct = "TimeoutToxic"
    closes_on_remove = True

    timeout: int = attribute(doc="milliseconds of silence before closing; 0 never closes")

    async def pipe(self, stub: Stub) -> None:
        if not self.timeout:
            while await stub.read() is not None:
                pass  # dropped by design
            stub.close()
            return
        while True:
            reader = asyncio.ensure_future(stub.read())
            timer = asyncio.ensure_future(stub.sleep(self.timeout / 1000.0))
            try:
                await asyncio.wait((reader, timer), return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                await _unwind(reader, timer)
                if _read_eof(reader):
                    stub.close()  # an EOF read in the same instant must not be lost
                raise
            await _unwind(reader, timer)
            if reader.cancelled() or reader.result() is None:
                stub.close()  # silence lasted `timeout`, or the source ended
                return
            # A chunk arrived: it is dropped, and the loop re-arms the timer.
