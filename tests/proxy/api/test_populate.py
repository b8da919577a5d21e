"""POST /populate (contract: two phases, JSON errors with the proxies processed so far)."""

from __future__ import annotations

import httpx
import pytest

from .conftest import assert_json, create, roundtrip

pytestmark = pytest.mark.timeout(30)

POPULATE_TYPE = '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }'


def assert_populate(r: httpx.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"  # errors too
    assert not r.content.endswith(b"\n")
    return r.json()


async def test_creates_all_and_default_enabled(client: httpx.AsyncClient, echo: str) -> None:
    body = [
        {"name": "one", "listen": "localhost:0", "upstream": echo},
        {"name": "two", "listen": "localhost:0", "upstream": echo, "enabled": False},
    ]
    result = assert_populate(await client.post("/populate", json=body), 201)
    assert list(result) == ["proxies"]
    one, two = result["proxies"]
    assert (one["name"], one["enabled"], two["enabled"]) == ("one", True, False)
    assert two["listen"] == "localhost:0"
    assert await roundtrip(one["listen"]) == b"ping"


async def test_empty_and_null(client: httpx.AsyncClient) -> None:
    for body in (b"[]", b"null"):
        r = await client.post("/populate", content=body)
        assert_populate(r, 201)
        assert r.content == b'{"proxies":null}'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"{}",
            f"bad request body: json: cannot unmarshal object into Go value of type "
            f"{POPULATE_TYPE}",
        ),
        (b"", "bad request body: EOF"),
        (
            b'[{"name": 1}]',
            "bad request body: json: cannot unmarshal number into Go struct field .name "
            "of type string",
        ),
        (
            b'[{"name":"a","upstream":"x"},{"upstream":"x"}]',
            "missing required field: name at proxy 2",
        ),
        (
            b'[{"name":"a","upstream":"x"},{"name":"b"}]',
            "missing required field: upstream at proxy 2",
        ),
    ],
)
async def test_validation_creates_nothing(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    r = await client.post("/populate", content=body)
    assert assert_populate(r, 400) == {"error": message, "status": 400, "proxies": None}
    assert assert_json(await client.get("/proxies")) == {}


async def test_existing_identical_proxy_kept_with_toxics(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "keep", echo, listen="127.0.0.1:0")
    port = proxy["listen"].rpartition(":")[2]
    assert_json(await client.post("/proxies/keep/toxics", json={"type": "noop"}))
    body = [{"name": "keep", "listen": f"localhost:{port}", "upstream": echo, "enabled": False}]
    result = assert_populate(await client.post("/populate", json=body), 201)
    kept = result["proxies"][0]
    assert kept["enabled"] is True  # the request's enabled is ignored for a kept proxy
    assert kept["listen"] == proxy["listen"]
    assert [t["name"] for t in kept["toxics"]] == ["noop_downstream"]


async def test_existing_different_proxy_replaced(client: httpx.AsyncClient, echo: str) -> None:
    await create(client, "swap", "127.0.0.1:1")
    assert_json(await client.post("/proxies/swap/toxics", json={"type": "noop"}))
    body = [{"name": "swap", "listen": "127.0.0.1:0", "upstream": echo}]
    new = assert_populate(await client.post("/populate", json=body), 201)["proxies"][0]
    assert (new["upstream"], new["toxics"]) == (echo, [])
    assert await roundtrip(new["listen"]) == b"ping"


async def test_failure_keeps_earlier_proxies(
    client: httpx.AsyncClient, echo: str, held_port: int
) -> None:
    body = [
        {"name": "ok", "listen": "127.0.0.1:0", "upstream": echo},
        {"name": "clash", "listen": f"127.0.0.1:{held_port}", "upstream": echo},
        {"name": "later", "listen": "127.0.0.1:0", "upstream": echo},
    ]
    result = assert_populate(await client.post("/populate", json=body), 500)
    assert list(result) == ["error", "status", "proxies"]
    assert result["error"] == f"listen tcp 127.0.0.1:{held_port}: bind: address already in use"
    assert result["status"] == 500
    assert [p["name"] for p in result["proxies"]] == ["ok"]
    assert list(assert_json(await client.get("/proxies"))) == ["ok"]


async def test_bad_listen_first_gives_null_proxies(client: httpx.AsyncClient, echo: str) -> None:
    body = [{"name": "bad", "listen": "local373", "upstream": echo}]
    r = await client.post("/populate", json=body)
    assert r.content == (
        b'{"error":"listen tcp: address local373: missing port in address",'
        b'"status":500,"proxies":null}'
    )
    assert r.status_code == 500


async def test_toxics_per_entry_validated_up_front(client: httpx.AsyncClient, echo: str) -> None:
    body = [
        {"name": "a", "upstream": echo, "listen": "127.0.0.1:0"},
        {"name": "b", "upstream": echo, "toxics": [{"type": "noop"}, {"type": "bogus"}]},
    ]
    result = assert_populate(await client.post("/populate", json=body), 400)
    assert result["error"] == "invalid toxic type at toxic 2 of proxy 2"
    assert assert_json(await client.get("/proxies")) == {}
    body[1]["toxics"] = [{"type": "latency", "attributes": {"latency": 7}}]
    result = assert_populate(await client.post("/populate", json=body), 201)
    assert result["proxies"][1]["toxics"][0]["attributes"] == {"latency": 7, "jitter": 0}


async def test_slash_name_refused(client: httpx.AsyncClient, echo: str) -> None:
    result = assert_populate(
        await client.post("/populate", json=[{"name": "a/b", "upstream": echo}]), 400
    )
    assert result["error"].endswith("at proxy 1")
    assert result["proxies"] is None
