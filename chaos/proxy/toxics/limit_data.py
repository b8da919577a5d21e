"""limit_data: pass at most `bytes` bytes per connection, truncating the chunk that crosses the
limit, then close. The count lives on the stub's state, so it survives interrupts (an update
to the toxic does not grant a fresh allowance)."""

from __future__ import annotations

import dataclasses

from chaos.proxy.stream import Chunk
from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, attribute, register


@dataclasses.dataclass
class LimitDataState:
    """Bytes this toxic already passed on one connection."""

    passed: int = 0


@register
@dataclasses.dataclass(kw_only=True)
class LimitDataToxic(Toxic):
    """Closes the connection once `bytes` bytes have passed in its direction."""

    type = "limit_data"
    go_struct = "LimitDataToxic"

    bytes: int = attribute(doc="bytes allowed through before closing; 0 closes on first data")

    def new_state(self, *, midway: bool = False) -> LimitDataState:
        return LimitDataState()

    async def pipe(self, stub: Stub) -> None:
        state: LimitDataState = stub.state
        while (chunk := await stub.read()) is not None:
            room = max(self.bytes - state.passed, 0)
            if len(chunk.data) > room:
                chunk = Chunk(chunk.data[:room], chunk.timestamp)
            if chunk.data:
                stub.send(chunk)
                state.passed += len(chunk.data)
            if state.passed >= self.bytes:
                stub.close()
                return
        stub.close()
