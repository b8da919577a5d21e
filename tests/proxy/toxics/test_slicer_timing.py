"""slicer on real sockets: data arrives intact, spread over the slice delays."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError

if TYPE_CHECKING:
    from conftest import LiveProxy

pytestmark = pytest.mark.timeout(60)


async def test_100_bytes_trickle_in_over_16_slices(live_proxy: LiveProxy) -> None:
    await live_proxy.add("slicer", average_size=10, size_variation=0, delay=20_000)
    reader, writer = await live_proxy.connect()
    data = bytes(range(100))
    start = time.perf_counter()
    writer.write(data)
    got = b""
    reads = 0
    while len(got) < len(data):
        got += await asyncio.wait_for(reader.read(1024), 10)
        reads += 1
    assert got == data
    assert reads > 1  # sliced (TCP may merge some slices, so not exactly 16)
    assert 0.28 <= time.perf_counter() - start <= 1.5  # last of 16 slices leaves at 300 ms


async def test_zero_average_size_is_refused_before_any_connection_dies(
    live_proxy: LiveProxy,
) -> None:
    with pytest.raises(ApiError, match="average_size must be > 0"):
        await live_proxy.add("slicer")
    assert await live_proxy.echo(b"still fine") < 5


async def test_variation_equal_to_average_passes_data_intact_in_slices(
    live_proxy: LiveProxy,
) -> None:
    await live_proxy.add("slicer", average_size=1000, size_variation=1000, delay=100)
    reader, writer = await live_proxy.connect()
    data = bytes(range(256)) * 400
    writer.write(data)
    got = b""
    while len(got) < len(data):
        got += await asyncio.wait_for(reader.read(65536), 10)
    assert got == data
    sliced = [c.links["downstream"].sent_chunks for c in live_proxy.proxy.connections]
    assert sliced and sliced[0] > len(data) // 2000  # at most 2000 bytes a slice
