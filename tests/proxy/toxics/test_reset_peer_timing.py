"""reset_peer on real sockets: the client gets ECONNRESET `timeout` ms after data flowed."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_connection_reset_timeout_after_first_data(live_proxy: LiveProxy) -> None:
    await live_proxy.add("reset_peer", timeout=100)
    reader, writer = await live_proxy.connect()
    start = time.perf_counter()
    writer.write(b"hello")
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(), 10)
    assert 0.095 <= time.perf_counter() - start <= 0.5


async def test_idle_connection_is_not_reset(live_proxy: LiveProxy) -> None:
    await live_proxy.add("reset_peer", timeout=10)
    reader, _ = await live_proxy.connect()
    await live_proxy.until(lambda: len(live_proxy.proxy.connections) == 1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(1), 0.3)  # nothing sent: nothing to reset
    assert not reader.at_eof()
