"""limit_data on real sockets: exactly `bytes` bytes come back, then EOF."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_truncates_at_the_limit_then_closes(live_proxy: LiveProxy) -> None:
    await live_proxy.add("limit_data", bytes=5)
    reader, writer = await live_proxy.connect()
    writer.write(b"abc")
    assert await asyncio.wait_for(reader.readexactly(3), 10) == b"abc"
    writer.write(b"defgh")
    assert await asyncio.wait_for(reader.read(), 10) == b"de"
    assert await asyncio.wait_for(reader.read(), 10) == b""


async def test_updating_the_toxic_keeps_the_count(live_proxy: LiveProxy) -> None:
    await live_proxy.add("limit_data", bytes=10)
    reader, writer = await live_proxy.connect()
    writer.write(b"123456")
    assert await asyncio.wait_for(reader.readexactly(6), 10) == b"123456"
    await live_proxy.proxy.toxics.update("limit_data_downstream", {"bytes": 8}, None)
    writer.write(b"789")
    assert await asyncio.wait_for(reader.read(), 10) == b"78"
    assert await asyncio.wait_for(reader.read(), 10) == b""


async def test_a_chain_rebuild_does_not_count_bytes_twice(live_proxy: LiveProxy) -> None:
    await live_proxy.add("limit_data", bytes=12)
    await live_proxy.add("latency", latency=500)
    reader, writer = await live_proxy.connect()
    writer.write(b"aaaaaa")
    await live_proxy.until(lambda: live_proxy.received() == 6)
    writer.write(b"bbbb")

    def passed() -> int:
        links = [c.links["downstream"] for c in live_proxy.proxy.connections if c.links]
        return sum(link.states["limit_data_downstream"].passed for link in links)

    # Both chunks passed limit_data; the second waits in the queue behind the latency toxic.
    await live_proxy.until(lambda: passed() == 10)
    await live_proxy.add("noop")  # any change of the chain rebuilds it
    assert await asyncio.wait_for(reader.readexactly(10), 10) == b"aaaaaabbbb"
