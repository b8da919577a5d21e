"""Our extensions: connections list/cut, toxics given at proxy creation."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from .conftest import assert_error, assert_json, create

pytestmark = pytest.mark.timeout(30)


async def open_through(listen: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, _, port = listen.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"x")
    await asyncio.wait_for(reader.readexactly(1), 5)
    return reader, writer


async def test_connections_listed(client: httpx.AsyncClient, echo: str) -> None:
    proxy = await create(client, "c", echo)
    assert assert_json(await client.get("/proxies/c/connections")) == []
    assert_json(await client.post("/proxies/c/toxics", json={"type": "noop"}))
    _reader, writer = await open_through(proxy["listen"])
    (conn,) = assert_json(await client.get("/proxies/c/connections"))
    assert list(conn) == ["id", "client", "upstream", "opened_at", "toxics", "bytes"]
    local = writer.get_extra_info("sockname")
    assert conn["client"] == f"{local[0]}:{local[1]}"
    assert conn["upstream"] == echo
    assert conn["toxics"]["downstream"] == [
        {"name": "noop_downstream", "type": "noop", "active": True}
    ]
    assert conn["bytes"] == {"upstream": 1, "downstream": 1}
    assert abs(conn["opened_at"] - time.time()) < 60
    writer.close()


async def test_cut_closes_connections_proxy_keeps_listening(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "c", echo)
    reader, writer = await open_through(proxy["listen"])
    r = await client.delete("/proxies/c/connections")
    assert (r.status_code, r.content) == (204, b"")
    assert await asyncio.wait_for(reader.read(10), 5) == b""  # FIN
    writer.close()
    assert assert_json(await client.get("/proxies/c"))["enabled"] is True
    reader, writer = await open_through(proxy["listen"])
    writer.close()


async def test_connections_of_missing_proxy(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/proxies/x/connections"), 404, "proxy not found")
    assert_error(await client.delete("/proxies/x/connections"), 404, "proxy not found")


async def test_create_with_toxics_in_place_before_first_connection(
    client: httpx.AsyncClient, echo: str
) -> None:
    body = {
        "name": "t",
        "listen": "127.0.0.1:0",
        "upstream": echo,
        "toxics": [
            {"type": "latency", "attributes": {"latency": 300}},
            {"type": "noop", "stream": "upstream", "toxicity": 0.5},
        ],
    }
    proxy = assert_json(await client.post("/proxies", json=body), 201)
    assert [t["name"] for t in proxy["toxics"]] == ["noop_upstream", "latency_downstream"]
    start = time.monotonic()
    _reader, writer = await open_through(proxy["listen"])
    assert time.monotonic() - start >= 0.29
    writer.close()


@pytest.mark.parametrize(
    ("toxics", "status", "message"),
    [
        ([{"type": "bogus"}], 400, "invalid toxic type at toxic 1"),
        ([{"type": "noop"}, {"type": "noop"}], 409, "toxic already exists at toxic 2"),
        (
            [{"type": "noop", "stream": "x"}],
            400,
            "stream was invalid, can be either upstream or downstream at toxic 1",
        ),
        (
            [{"type": "latency", "attributes": {"latency": "x"}}],
            400,
            "bad request body: json: cannot unmarshal string into Go struct field "
            "LatencyToxic.attributes.latency of type int64 at toxic 1",
        ),
        (
            [{"type": "noop", "toxicity": "x"}],
            400,
            "bad request body: json: cannot unmarshal string into Go struct field "
            "ToxicWrapper.toxics.toxicity of type float32",
        ),
        (
            5,
            400,
            "bad request body: json: cannot unmarshal number into Go struct field "
            "Proxy.toxics of type []toxics.ToxicWrapper",
        ),
    ],
)
async def test_create_with_bad_toxics_creates_nothing(
    client: httpx.AsyncClient, echo: str, toxics: object, status: int, message: str
) -> None:
    body = {"name": "t", "listen": "127.0.0.1:0", "upstream": echo, "toxics": toxics}
    assert_error(await client.post("/proxies", json=body), status, message)
    assert assert_json(await client.get("/proxies")) == {}
