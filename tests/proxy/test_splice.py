"""Zero-copy forwarding: a bulk transfer with no toxic splices; toxics, EOF and RST still work."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

from chaos.proxy import splice
from chaos.proxy.collection import ToxicSpec
from chaos.proxy.proxy import Proxy
from chaos.proxy.toxics.latency import LatencyToxic

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not splice.available(), reason="os.splice is Linux's"),
]

TOTAL = 4 * splice.SPLICE_AFTER
BLOCK = 256 * 1024


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    proxy = Proxy("bulk", "127.0.0.1:0", f"127.0.0.1:{server.sockets[0].getsockname()[1]}")
    await proxy.start()
    yield proxy
    await proxy.stop()
    server.close()
    await server.wait_closed()


def payload(total: int = TOTAL) -> bytes:
    seed = hashlib.sha256(b"bulk").digest()
    return (seed * (total // len(seed) + 1))[:total]


async def echo_through(
    proxy: Proxy, data: bytes, midway: object = None
) -> tuple[bytes, list[bool], asyncio.StreamReader, asyncio.StreamWriter]:
    """Send `data` and read it back; calls `midway(conn)` (a coroutine) once it splices."""
    reader, writer = await asyncio.open_connection(*proxy.listen.rsplit(":", 1))
    seen: list[bool] = []

    async def send() -> None:
        for i in range(0, len(data), BLOCK):
            writer.write(data[i : i + BLOCK])
            await writer.drain()
            (conn,) = proxy.connections
            link = conn.links.get("upstream")  # none yet while the proxy dials upstream
            seen.append(link is not None and link.splicing)
            if midway is not None and seen[-1] and seen.count(True) == 1:
                await midway(conn)  # type: ignore[operator]

    sending = asyncio.ensure_future(send())
    got = await asyncio.wait_for(reader.readexactly(len(data)), 30)
    await sending
    return got, seen, reader, writer


async def test_a_bulk_transfer_splices_and_arrives_intact(proxy: Proxy) -> None:
    data = payload()
    got, seen, _, writer = await echo_through(proxy, data)
    assert got == data
    assert any(seen), "the upstream link never spliced"
    assert not any(seen[: splice.SPLICE_AFTER // BLOCK - 1]), "spliced before SPLICE_AFTER"
    (conn,) = proxy.connections
    assert conn.links["upstream"].received_bytes == len(data)
    assert conn.links["upstream"].sent_bytes == len(data)
    assert conn.links["downstream"].sent_bytes == len(data)
    writer.close()


async def test_a_toxic_added_mid_transfer_takes_over_and_drops_nothing(proxy: Proxy) -> None:
    data = payload()
    after: list[bool] = []

    async def add_toxic(conn: object) -> None:
        spec = ToxicSpec("lat", "upstream", "upstream", 1.0, LatencyToxic(latency=1))
        await proxy.toxics.add(spec)
        after.append(conn.links["upstream"].splicing)  # type: ignore[attr-defined]

    got, seen, _, writer = await echo_through(proxy, data, add_toxic)
    assert got == data  # in order, nothing lost or doubled
    assert after == [False], "the toxic never came (no splice seen) or did not stop it"
    assert seen.count(True) == 1, "spliced again while a toxic was active"
    assert seen.index(True) < len(seen) - 4, "spliced too late to test a toxic mid-transfer"
    (conn,) = proxy.connections
    assert [s.name for s in conn.links["upstream"].specs] == ["lat"]
    writer.close()


async def test_eof_after_splicing_closes_the_connection(proxy: Proxy) -> None:
    _, seen, reader, writer = await echo_through(proxy, payload())
    assert any(seen)
    writer.write_eof()
    # A duplicate fd left open would keep the upstream socket alive: no EOF would come back.
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()


async def test_reset_after_splicing_sends_rst(proxy: Proxy) -> None:
    _, seen, reader, writer = await echo_through(proxy, payload())
    assert any(seen)
    (conn,) = proxy.connections
    conn.reset()
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(), 10)
    writer.close()
