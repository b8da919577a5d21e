"""latency on real sockets: measured round trips, generous bounds (the machine is shared)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_downstream_latency_delays_the_round_trip(live_proxy: LiveProxy) -> None:
    baseline = await live_proxy.echo(b"ping")
    await live_proxy.add("latency", latency=100)
    delayed = await live_proxy.echo(b"ping")
    assert 0.095 <= delayed <= 0.25, (baseline, delayed)


async def test_applies_to_a_live_connection_at_once(live_proxy: LiveProxy) -> None:
    reader, writer = await live_proxy.connect()
    writer.write(b"before")
    assert await asyncio.wait_for(reader.readexactly(6), 10) == b"before"
    await live_proxy.add("latency", latency=100)
    start = time.perf_counter()
    writer.write(b"after")
    assert await asyncio.wait_for(reader.readexactly(5), 10) == b"after"
    assert 0.095 <= time.perf_counter() - start <= 0.25


async def test_upstream_and_downstream_latencies_add(live_proxy: LiveProxy) -> None:
    await live_proxy.add("latency", "upstream", latency=100)
    await live_proxy.add("latency", "downstream", latency=100)
    assert 0.195 <= await live_proxy.echo(b"both ways") <= 0.4


async def test_removing_the_toxic_releases_held_data_at_once(live_proxy: LiveProxy) -> None:
    name = await live_proxy.add("latency", latency=5000)
    reader, writer = await live_proxy.connect()
    start = time.perf_counter()
    writer.write(b"held")
    await live_proxy.until(lambda: live_proxy.received() == 4)
    assert live_proxy.sent() == 0  # the echo is held inside the toxic
    await live_proxy.remove(name)
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"held"
    assert time.perf_counter() - start < 2.0  # nowhere near the 5 s latency
