"""bandwidth: limit throughput to `rate` KB/s (1 KB = 1000 bytes, so `rate` bytes per ms).

Chunks larger than 100 ms worth of bytes leave in 100 ms slices. Trap: Toxiproxy with rate 0
loops forever sending empty chunks; here rate 0 holds the data (no timer, no spinning) until
the toxic is interrupted, then passes it on.
"""

from __future__ import annotations

import asyncio
import dataclasses

from chaos.proxy.stream import Chunk
from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import Toxic, attribute, register

SLICE_MS = 100


async def hold(stub: Stub) -> None:
    """Let nothing through: keep the first chunk until interrupted, then pass it on."""
    chunk = await stub.read()
    if chunk is None:
        stub.close()
        return
    try:
        await asyncio.get_running_loop().create_future()  # only cancellation ends this wait
    except asyncio.CancelledError:
        stub.send(chunk)
        raise


@register
@dataclasses.dataclass(kw_only=True)
class BandwidthToxic(Toxic):
    """Delays each chunk by its length / rate, so the stream flows at `rate` KB/s."""

    type = "bandwidth"
    go_struct = "BandwidthToxic"

    rate: int = attribute(doc="KB/s, with 1 KB = 1000 bytes; 0 lets nothing through")

    async def pipe(self, stub: Stub) -> None:
        if self.rate == 0:
            await hold(stub)
            return
        slice_size = self.rate * SLICE_MS  # rate is bytes per ms
        seconds_per_byte = 1.0 / (self.rate * 1000)
        # Time owed to the rate; an oversleep leaves it negative and credits the next slice
        # (idle time is never credited, as in Toxiproxy).
        owed = 0.0
        while (chunk := await stub.read()) is not None:
            data = chunk.data
            try:
                while data:
                    piece = data[:slice_size]
                    owed += len(piece) * seconds_per_byte
                    if owed > 0:
                        start = stub.now()
                        await stub.sleep(owed)
                        owed -= stub.now() - start
                    stub.send(Chunk(piece, chunk.timestamp))
                    data = data[len(piece) :]
            except asyncio.CancelledError:
                if data:
                    stub.send(Chunk(data, chunk.timestamp))  # interrupted: never drop data
                raise
        stub.close()
