"""limit_data on real sockets: exactly `bytes` bytes come back, then EOF."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.timeout(60)


async def test_truncates_at_the_limit_then_closes(live_proxy) -> None:
    await live_proxy.add("limit_data", bytes=5)
    reader, writer = await live_proxy.connect()
    writer.write(b"abc")
    assert await asyncio.wait_for(reader.readexactly(3), 10) == b"abc"
    writer.write(b"defgh")
    assert await asyncio.wait_for(reader.read(), 10) == b"de"
    assert await asyncio.wait_for(reader.read(), 10) == b""


async def test_updating_the_toxic_keeps_the_count(live_proxy) -> None:
    await live_proxy.add("limit_data", bytes=10)
    reader, writer = await live_proxy.connect()
    writer.write(b"123456")
    assert await asyncio.wait_for(reader.readexactly(6), 10) == b"123456"
    await live_proxy.proxy.toxics.update("limit_data_downstream", {"bytes": 8}, None)
    writer.write(b"789")
    assert await asyncio.wait_for(reader.read(), 10) == b"78"
    assert await asyncio.wait_for(reader.read(), 10) == b""
