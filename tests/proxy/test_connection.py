"""Connection.info(): how a live connection is reported by GET /proxies/{proxy}/connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chaos.proxy.proxy import Proxy

pytestmark = pytest.mark.timeout(30)


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def echo_v6() -> AsyncIterator[int]:
    """An echo server on [::1] (the test is skipped where IPv6 loopback is unavailable)."""
    try:
        server = await asyncio.start_server(_echo, "::1", 0)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_ipv6_peers_are_bracketed(echo_v6: int) -> None:
    proxy = Proxy("v6", "[::1]:0", f"[::1]:{echo_v6}")
    await proxy.start()
    try:
        assert proxy.listen.startswith("[::1]:")
        port = int(proxy.listen.rpartition(":")[2])
        reader, writer = await asyncio.open_connection("::1", port)
        writer.write(b"hi")
        assert await asyncio.wait_for(reader.readexactly(2), 5) == b"hi"
        (conn,) = proxy.connections
        info = conn.info()
        local_port = writer.get_extra_info("sockname")[1]
        assert info["client"] == f"[::1]:{local_port}"
        assert info["upstream"] == f"[::1]:{echo_v6}"
        writer.close()
        await writer.wait_closed()
    finally:
        await proxy.stop()
