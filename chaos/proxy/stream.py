"""Chunks of bytes and the queues that carry them between the toxics of a link."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["EOF", "Chunk", "ChunkQueue"]


class Chunk:
    """Bytes read from a socket, stamped with the loop time they were read at."""

    __slots__ = ("data", "timestamp")

    def __init__(self, data: bytes, timestamp: float) -> None:
        self.data = data
        self.timestamp = timestamp

    def __repr__(self) -> str:
        return f"Chunk({len(self.data)} bytes @ {self.timestamp:.6f})"


EOF: None = None
"""The item that marks the end of a stream (the source closed, or a toxic closed the link)."""

Item = Chunk | None


class ChunkQueue:
    """Unbounded FIFO between two stages of a link.

    `get` only removes an item once its await has returned, so a task cancelled while waiting
    never loses data. `on_change(delta_bytes)` lets the link account buffered bytes for
    backpressure.
    """

    __slots__ = ("_on_change", "_waiter", "items")

    def __init__(self, on_change: Callable[[int], None] | None = None) -> None:
        self.items: deque[Item] = deque()
        """What waits, oldest first (for a look: only `put`, `get` and `drain` change it)."""
        self._waiter: asyncio.Future[None] | None = None
        self._on_change = on_change

    def put(self, item: Item) -> None:
        self.items.append(item)
        if item is not None and self._on_change is not None:
            self._on_change(len(item.data))
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Item:
        while not self.items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        item = self.items.popleft()
        if item is not None and self._on_change is not None:
            self._on_change(-len(item.data))
        return item

    def drain(self) -> list[Item]:
        """Remove and return every queued item, oldest first."""
        items = list(self.items)
        self.items.clear()
        if self._on_change is not None:
            size = sum(len(i.data) for i in items if i is not None)
            if size:
                self._on_change(-size)
        return items

    def __len__(self) -> int:
        return len(self.items)
