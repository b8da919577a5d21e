"""slicer: cut each chunk into slices of about `average_size` bytes, `delay` µs apart.

Slices are made as Toxiproxy makes them, by halving at a random midpoint (+/- size_variation)
until a piece is at most average_size + size_variation bytes: avg 10, variation 0 on 100 bytes
gives sixteen 6-7 byte slices, not ten of 10. Trap: average_size 0 recurses without end
(Toxiproxy dies of a stack overflow) and size_variation > average_size can cut before the start
of the piece being split (Toxiproxy panics), so both are refused with a 400. size_variation ==
average_size is valid (clients test it): a midpoint can then land on the start of its piece, and
the empty slice that would make is skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random

from chaos.proxy.stream import Chunk
from chaos.proxy.stub import Stub
from chaos.proxy.toxics._base import InvalidAttribute, Toxic, attribute, register


@register
@dataclasses.dataclass(kw_only=True)
class SlicerToxic(Toxic):
    """Slices chunks into smaller ones with a pause after each slice."""

    type = "slicer"
    go_struct = "SlicerToxic"
    required = ("average_size",)

    average_size: int = attribute(
        go_type="int", doc="target slice size in bytes, > 0", schema={"minimum": 1}
    )
    size_variation: int = attribute(go_type="int", doc="+/- bytes, at most average_size")
    delay: int = attribute(go_type="int", doc="microseconds to pause after each slice")

    def validate(self) -> None:
        super().validate()
        if self.average_size <= 0:
            raise InvalidAttribute(
                f"invalid attribute: slicer average_size must be > 0, got {self.average_size}"
                " (hint: the size in bytes slices should average, e.g. 1024)"
            )
        if self.size_variation > self.average_size:
            raise InvalidAttribute(
                f"invalid attribute: slicer size_variation must be <= average_size, got "
                f"size_variation {self.size_variation} with average_size {self.average_size}"
                " (hint: use at most average_size)"
            )

    def cuts(self, start: int, end: int, rng: random.Random) -> list[int]:
        """End offsets of the non-empty slices of data[start:end], in order."""
        if end - start - self.average_size <= self.size_variation:
            return [end]
        variation = self.size_variation
        offset = rng.randrange(-variation, variation) if variation else 0
        mid = start + (end - start) // 2 + offset
        # A midpoint on the start of its piece (variation == average) would be an empty slice.
        left = self.cuts(start, mid, rng) if mid > start else []
        return left + self.cuts(mid, end, rng)

    async def pipe(self, stub: Stub) -> None:
        pause = self.delay / 1_000_000
        while (chunk := await stub.read()) is not None:
            data = chunk.data
            start = 0
            try:
                for end in self.cuts(0, len(data), stub.rng):
                    stub.send(Chunk(data[start:end], chunk.timestamp))
                    start = end
                    if pause:
                        await stub.sleep(pause)
            except asyncio.CancelledError:
                if start < len(data):
                    stub.send(Chunk(data[start:], chunk.timestamp))  # the rest, in one piece
                raise
        stub.close()
