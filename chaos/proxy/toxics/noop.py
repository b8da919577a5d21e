"""noop: passes data through untouched (also what a toxic does when its toxicity roll fails)."""

from __future__ import annotations

import dataclasses

from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, register


async def passthrough(stub: Stub) -> None:
    """Copy chunks until EOF."""
    while (chunk := await stub.read()) is not None:
        stub.send(chunk)
    stub.close()


@register
@dataclasses.dataclass(kw_only=True)
class NoopToxic(Toxic):
    """Does nothing."""

    type = "noop"
    go_struct = "NoopToxic"

    async def pipe(self, stub: Stub) -> None:
        await passthrough(stub)
