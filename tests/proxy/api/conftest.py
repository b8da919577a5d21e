"""An API app over a fresh ProxyServer per test, driven in-process with httpx."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from chaos.proxy.api import create_app
from chaos.proxy.server import ProxyServer
from tests.proxy._echo import echo_handler

TEXT = "text/plain; charset=utf-8"


@pytest.fixture
async def server() -> AsyncIterator[ProxyServer]:
    srv = ProxyServer(seed=7)
    yield srv
    await srv.shutdown()


@pytest.fixture
async def client(server: ProxyServer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(server))
    async with httpx.AsyncClient(transport=transport, base_url="http://toxiproxy") as c:
        yield c


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    """An echo server on a free loopback port: the upstream of the proxies under test."""
    srv = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    srv.close()
    await srv.wait_closed()


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port kept busy by a listening socket (for bind conflicts)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    """An API error exactly as Toxiproxy sends it through http.Error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TEXT
    assert response.headers["x-content-type-options"] == "nosniff"
    expected = json.dumps({"error": message, "status": status}, separators=(",", ":"))
    assert response.text == expected + "\n"


def assert_json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers["x-toxiproxy-request-id"]) == 20
    return response.json()


async def create(
    client: httpx.AsyncClient, name: str, upstream: str, listen: str = "127.0.0.1:0", **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "listen": listen, "upstream": upstream, **extra}
    return assert_json(await client.post("/proxies", json=body), 201)


async def roundtrip(address: str, payload: bytes = b"ping") -> bytes:
    """Connect through `address`, send, read the echo back (bounded in time)."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 5)
    finally:
        writer.close()
