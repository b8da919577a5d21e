"""POST /reset: enable every proxy, remove every toxic, keep connections; report failures last."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chaos.proxy.server import ProxyServer

from .conftest import assert_error, assert_json, create, roundtrip

pytestmark = pytest.mark.timeout(30)


async def test_reset_enables_and_clears(client: httpx.AsyncClient, echo: str) -> None:
    first = await create(client, "a", echo)
    await create(client, "b", echo, enabled=False)
    assert_json(await client.post("/proxies/a/toxics", json={"type": "latency"}))
    assert_json(await client.post("/proxies/a/toxics", json={"type": "noop", "stream": "upstream"}))
    host, _, port = first["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    r = await client.post("/reset", content=b"ignored body")
    assert (r.status_code, r.content) == (204, b"")
    proxies = assert_json(await client.get("/proxies"))
    assert all(p["enabled"] and p["toxics"] == [] for p in proxies.values())
    assert proxies["a"]["listen"] == first["listen"]
    writer.write(b"alive")  # existing connections are kept
    assert await asyncio.wait_for(reader.readexactly(5), 5) == b"alive"
    writer.close()
    assert await roundtrip(proxies["b"]["listen"]) == b"ping"


async def test_reset_does_not_stop_half_way(
    client: httpx.AsyncClient, echo: str, held_port: int, server: ProxyServer
) -> None:
    # "a" fails to start; "b" and "c", after it in every order, must still be reset.
    await create(client, "a", echo, listen=f"127.0.0.1:{held_port}", enabled=False)
    for name in ("b", "c"):
        await create(client, name, echo, enabled=False)
        assert_json(await client.post(f"/proxies/{name}/toxics", json={"type": "noop"}))
    assert_json(await client.post("/proxies/a/toxics", json={"type": "noop"}))
    r = await client.post("/reset")
    assert_error(r, 500, f"listen tcp 127.0.0.1:{held_port}: bind: address already in use")
    proxies = assert_json(await client.get("/proxies"))
    assert [p["enabled"] for p in proxies.values()] == [False, True, True]
    assert all(p["toxics"] == [] for p in proxies.values())


async def test_reset_with_no_proxies(client: httpx.AsyncClient) -> None:
    assert (await client.post("/reset")).status_code == 204
