"""bandwidth on real sockets: transfer time follows the rate, generous bounds."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_50kb_at_250kbs_takes_about_200ms(live_proxy: LiveProxy) -> None:
    await live_proxy.add("bandwidth", rate=250)
    elapsed = await live_proxy.echo(bytes(range(250)) * 200)
    assert 0.19 <= elapsed <= 0.6, elapsed


async def test_rate_zero_holds_data_until_removed(live_proxy: LiveProxy) -> None:
    name = await live_proxy.add("bandwidth", rate=0)
    reader, writer = await live_proxy.connect()
    writer.write(b"stuck")
    await live_proxy.until(lambda: live_proxy.received() == 5)
    assert live_proxy.sent() == 0
    start = time.perf_counter()
    await live_proxy.remove(name)
    assert await asyncio.wait_for(reader.readexactly(5), 10) == b"stuck"
    assert time.perf_counter() - start < 1.0
