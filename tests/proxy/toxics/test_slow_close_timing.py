"""slow_close on real sockets: the client sees EOF `delay` ms after the server closed."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_eof_reaches_the_client_delay_late(live_proxy: LiveProxy) -> None:
    await live_proxy.add("slow_close", delay=300)
    reader, writer = await live_proxy.connect()
    writer.write(b"bye")
    assert await asyncio.wait_for(reader.readexactly(3), 10) == b"bye"
    start = time.perf_counter()
    writer.write_eof()  # the echo server then closes, and its EOF meets the toxic
    assert await asyncio.wait_for(reader.read(), 10) == b""
    assert 0.29 <= time.perf_counter() - start <= 0.8
