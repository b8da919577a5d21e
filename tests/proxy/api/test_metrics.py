"""GET /metrics: only when enabled; Toxiproxy's counter names and labels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from chaos.proxy.api import create_app
from chaos.proxy.server import ProxyServer

from .conftest import create

pytestmark = pytest.mark.timeout(30)


async def metrics_client(
    server: ProxyServer, proxy_metrics: bool, runtime_metrics: bool
) -> httpx.AsyncClient:
    app = create_app(server, proxy_metrics=proxy_metrics, runtime_metrics=runtime_metrics)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t")


@pytest.fixture
async def proxied(server: ProxyServer) -> AsyncIterator[httpx.AsyncClient]:
    async with await metrics_client(server, True, False) as client:
        yield client


async def test_not_served_without_flags(client: httpx.AsyncClient) -> None:
    r = await client.get("/metrics")
    assert (r.status_code, r.text) == (404, "404 page not found\n")


async def test_proxy_counters(proxied: httpx.AsyncClient, echo: str) -> None:
    proxy = await create(proxied, "m", echo)
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"hello")
    assert await asyncio.wait_for(reader.readexactly(5), 5) == b"hello"
    writer.close()
    r = await proxied.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    labels = f'listener="{proxy["listen"]}",proxy="m",upstream="{echo}"'
    for name in ("received_bytes", "sent_bytes"):
        for direction in ("upstream", "downstream"):
            line = f'toxiproxy_proxy_{name}_total{{direction="{direction}",{labels}}} 5.0'
            assert line in r.text
    assert "toxiproxy_proxy_received_packets_total{" in r.text
    assert "toxiproxy_proxy_sent_packets_total{" in r.text
    assert "process_" not in r.text
    assert (await proxied.post("/metrics")).status_code == 200  # any method, like Toxiproxy


async def test_runtime_only(server: ProxyServer) -> None:
    async with await metrics_client(server, False, True) as client:
        r = await client.get("/metrics")
    assert r.status_code == 200
    assert "python_gc_objects_collected_total" in r.text
    assert "toxiproxy_proxy" not in r.text
