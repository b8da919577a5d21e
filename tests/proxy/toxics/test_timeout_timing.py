"""timeout on real sockets: data black-holed, EOF after the silence, closes on removal."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_drops_the_echo_and_closes_after_timeout(live_proxy: LiveProxy) -> None:
    await live_proxy.add("timeout", timeout=200)
    reader, writer = await live_proxy.connect()
    writer.write(b"anyone?")
    await live_proxy.until(lambda: live_proxy.received() == 7)
    start = time.perf_counter()  # the echo arriving re-armed the timer
    assert await asyncio.wait_for(reader.read(), 10) == b""
    assert 0.15 <= time.perf_counter() - start <= 0.6
    assert live_proxy.sent() == 0


async def test_zero_timeout_holds_the_connection_until_removed(live_proxy: LiveProxy) -> None:
    name = await live_proxy.add("timeout", timeout=0)
    reader, writer = await live_proxy.connect()
    writer.write(b"lost")
    await live_proxy.until(lambda: live_proxy.received() == 4)
    assert not reader.at_eof()
    await live_proxy.remove(name)  # Toxiproxy closes the connections of a removed timeout
    assert await asyncio.wait_for(reader.read(), 10) == b""
