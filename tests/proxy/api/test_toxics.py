"""Toxics: list, create, get, update, delete (contract section 1, toxic endpoints)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from .conftest import assert_error, assert_json, create

pytestmark = pytest.mark.timeout(30)

LATENCY_KEYS = ["attributes", "name", "type", "stream", "toxicity"]


@pytest.fixture
async def proxy(client: httpx.AsyncClient, echo: str) -> dict[str, object]:
    return await create(client, "p", echo)


async def add(client: httpx.AsyncClient, body: object, proxy: str = "p") -> httpx.Response:
    return await client.post(f"/proxies/{proxy}/toxics", json=body)


async def test_create_defaults_and_shape(client: httpx.AsyncClient, proxy: object) -> None:
    r = await add(client, {"type": "latency", "attributes": {"latency": 500}})
    toxic = assert_json(r, 200)  # 200, not 201
    assert list(toxic) == LATENCY_KEYS
    assert r.content == (
        b'{"attributes":{"latency":500,"jitter":0},"name":"latency_downstream",'
        b'"type":"latency","stream":"downstream","toxicity":1}'
    )


async def test_all_attribute_keys_always_present(client: httpx.AsyncClient, proxy: object) -> None:
    expected = {
        "latency": {"latency": 0, "jitter": 0},
        "bandwidth": {"rate": 0},
        "slow_close": {"delay": 0},
        "timeout": {"timeout": 0},
        "reset_peer": {"timeout": 0},
        "limit_data": {"bytes": 0},
        "noop": {},
    }
    for type_, attributes in expected.items():
        toxic = assert_json(await add(client, {"type": type_, "stream": "upstream"}))
        assert toxic["attributes"] == attributes
        assert toxic["name"] == f"{type_}_upstream"


@pytest.mark.parametrize("toxicity", [0.25, 1, -0.5, 5, 0])
async def test_toxicity_not_range_checked(
    client: httpx.AsyncClient, proxy: object, toxicity: float
) -> None:
    r = await add(client, {"type": "noop", "toxicity": toxicity})
    assert assert_json(r)["toxicity"] == toxicity
    assert r.content.endswith(f'"toxicity":{toxicity:g}}}'.encode())


async def test_stream_case_insensitive_echoed(client: httpx.AsyncClient, proxy: object) -> None:
    toxic = assert_json(await add(client, {"type": "timeout", "stream": "Downstream"}))
    assert (toxic["stream"], toxic["name"]) == ("Downstream", "timeout_Downstream")
    toxic = assert_json(await add(client, {"type": "noop", "stream": "UPSTREAM"}))
    assert toxic["stream"] == "UPSTREAM"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "bad request body: EOF"),
        (
            b'{"type":"latency","toxicity":"high"}',
            400,
            "bad request body: json: cannot unmarshal string into Go struct field "
            "ToxicWrapper.toxicity of type float32",
        ),
        (
            b'{"type":"latency","attributes":[]}',
            400,
            "bad request body: json: cannot unmarshal array into Go struct field "
            "ToxicWrapper.attributes of type toxics.NoopToxic",
        ),
        (
            b'{"type":"latency","toxicity":1e39}',
            400,
            "bad request body: json: cannot unmarshal number 1e39 into Go struct field "
            "ToxicWrapper.toxicity of type float32",
        ),
        (
            b'{"type":"latency","stream":""}',
            400,
            "stream was invalid, can be either upstream or downstream",
        ),
        (
            b'{"type":"bogus","stream":"sideways"}',
            400,
            "stream was invalid, can be either upstream or downstream",
        ),
        (b'{"type":"bogus"}', 400, "invalid toxic type"),
        (b"{}", 400, "invalid toxic type"),
        (b'{"type":""}', 400, "invalid toxic type"),
        (
            b'{"type":"latency","attributes":{"latency":"x"}}',
            400,
            "bad request body: json: cannot unmarshal string into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            b'{"type":"latency","attributes":{"latency":1.5}}',
            400,
            "bad request body: json: cannot unmarshal number 1.5 into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            b'{"type":"latency","attributes":{"latency":99999999999999999999}}',
            400,
            "bad request body: json: cannot unmarshal number 99999999999999999999 into Go "
            "struct field LatencyToxic.attributes.latency of type int64",
        ),
    ],
)
async def test_create_errors(
    client: httpx.AsyncClient, proxy: object, body: bytes, status: int, message: str
) -> None:
    assert_error(await client.post("/proxies/p/toxics", content=body), status, message)
    assert assert_json(await client.get("/proxies/p/toxics")) == []


async def test_create_on_missing_proxy_404_before_body(client: httpx.AsyncClient) -> None:
    assert_error(await client.post("/proxies/x/toxics", content=b"{"), 404, "proxy not found")
    assert_error(await client.get("/proxies/x/toxics"), 404, "proxy not found")


async def test_fixed_crashers_are_400(client: httpx.AsyncClient, proxy: object) -> None:
    for attributes in ({"rate": -1}, {"latency": -5}):
        type_ = "bandwidth" if "rate" in attributes else "latency"
        r = await add(client, {"type": type_, "attributes": attributes})
        assert r.status_code == 400, r.text
    r = await add(client, {"type": "slicer", "attributes": {"average_size": 0}})
    assert r.status_code == 400, r.text


async def test_unknown_attributes_ignored_null_attributes_zero(
    client: httpx.AsyncClient, proxy: object
) -> None:
    toxic = assert_json(
        await add(client, {"type": "latency", "attributes": {"latency": 5, "foo": "bar"}})
    )
    assert toxic["attributes"] == {"latency": 5, "jitter": 0}
    toxic = assert_json(await add(client, {"type": "timeout", "attributes": None}))
    assert toxic["attributes"] == {"timeout": 0}


async def test_conflict_in_either_stream_checked_before_attributes(
    client: httpx.AsyncClient, proxy: object
) -> None:
    assert_json(await add(client, {"type": "latency", "name": "x", "stream": "upstream"}))
    for stream in ("upstream", "downstream"):
        r = await add(
            client,
            {"type": "latency", "name": "x", "stream": stream, "attributes": {"latency": "bad"}},
        )
        assert_error(r, 409, "toxic already exists")


async def test_index_upstream_first_in_insertion_order(
    client: httpx.AsyncClient, proxy: object
) -> None:
    for name, stream in [("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream")]:
        assert_json(await add(client, {"type": "noop", "name": name, "stream": stream}))
    assert_json(await add(client, {"type": "noop", "name": "u2", "stream": "upstream"}))
    toxics = assert_json(await client.get("/proxies/p/toxics"))
    assert [t["name"] for t in toxics] == ["u1", "u2", "d1", "d2"]
    proxy_json = assert_json(await client.get("/proxies/p"))
    assert proxy_json["toxics"] == toxics


async def test_get_toxic_and_404s(client: httpx.AsyncClient, proxy: object) -> None:
    created = assert_json(await add(client, {"type": "noop"}))
    assert assert_json(await client.get("/proxies/p/toxics/noop_downstream")) == created
    assert_error(await client.get("/proxies/p/toxics/nope"), 404, "toxic not found")
    assert_error(await client.get("/proxies/x/toxics/nope"), 404, "proxy not found")


@pytest.mark.parametrize("method", ["PATCH", "POST"])
async def test_update_partial_merge(client: httpx.AsyncClient, proxy: object, method: str) -> None:
    body = {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 100, "jitter": 10}}
    assert_json(await add(client, body))
    r = await client.request(
        method,
        "/proxies/p/toxics/latency_downstream",
        json={"attributes": {"latency": 1000}, "name": "n", "type": "noop", "stream": "up"},
    )
    toxic = assert_json(r)
    assert toxic == {
        "attributes": {"latency": 1000, "jitter": 10},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 0.5,
    }
    toxic = assert_json(
        await client.patch("/proxies/p/toxics/latency_downstream", json={"toxicity": 0.25})
    )
    assert (toxic["toxicity"], toxic["attributes"]["latency"]) == (0.25, 1000)


async def test_update_errors(client: httpx.AsyncClient, proxy: object) -> None:
    assert_json(await add(client, {"type": "latency"}))
    url = "/proxies/p/toxics/latency_downstream"
    assert_error(await client.patch("/proxies/p/toxics/nope", content=b"{"), 404, "toxic not found")
    assert_error(await client.patch("/proxies/x/toxics/nope", content=b"{"), 404, "proxy not found")
    assert_error(await client.patch(url), 400, "bad request body: EOF")
    assert_error(
        await client.patch(url, json={"toxicity": "x"}),
        400,
        "bad request body: json: cannot unmarshal string into Go struct field .toxicity "
        "of type float32",
    )
    assert_error(
        await client.patch(url, json={"attributes": []}),
        400,
        "bad request body: json: cannot unmarshal array into Go struct field .attributes "
        "of type toxics.LatencyToxic",
    )
    assert_error(
        await client.patch(url, json={"attributes": {"jitter": True}}),
        400,
        "bad request body: json: cannot unmarshal bool into Go struct field "
        "LatencyToxic.attributes.jitter of type int64",
    )
    toxic = assert_json(await client.get(url))
    assert toxic["attributes"] == {"latency": 0, "jitter": 0}


async def test_delete_toxic(client: httpx.AsyncClient, proxy: object) -> None:
    assert_json(await add(client, {"type": "noop"}))
    r = await client.delete("/proxies/p/toxics/noop_downstream")
    assert (r.status_code, r.content) == (204, b"")
    assert_error(await client.delete("/proxies/p/toxics/noop_downstream"), 404, "toxic not found")
    assert_error(await client.delete("/proxies/x/toxics/noop_downstream"), 404, "proxy not found")


async def test_toxic_applies_to_live_connection_and_removal_restores(
    client: httpx.AsyncClient, proxy: dict[str, str]
) -> None:
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))

    async def rtt() -> float:
        start = time.monotonic()
        writer.write(b"x")
        await asyncio.wait_for(reader.readexactly(1), 10)
        return time.monotonic() - start

    assert await rtt() < 1.0
    assert_json(await add(client, {"type": "latency", "attributes": {"latency": 300}}))
    assert await rtt() >= 0.29  # the live connection slowed down at once
    r = await client.delete("/proxies/p/toxics/latency_downstream")
    assert r.status_code == 204
    assert await rtt() < 0.29
    writer.close()


async def test_removing_timeout_toxic_closes_connection(
    client: httpx.AsyncClient, proxy: dict[str, str]
) -> None:
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"x")
    await asyncio.wait_for(reader.readexactly(1), 5)
    assert_json(await add(client, {"type": "timeout", "stream": "upstream"}))
    assert (await client.delete("/proxies/p/toxics/timeout_upstream")).status_code == 204
    assert await asyncio.wait_for(reader.read(10), 5) == b""
    writer.close()


async def test_http_toxics_show_every_attribute_default(
    client: httpx.AsyncClient, proxy: object
) -> None:
    r = await add(client, {"type": "http_error", "stream": "upstream"})
    assert r.content == (
        b'{"attributes":{"method":"","path":"","match_headers":{},"percentage":100,"count":0,'
        b'"status":503,"body":"","headers":{}},"name":"http_error_upstream",'
        b'"type":"http_error","stream":"upstream","toxicity":1}'
    )
    toxic = assert_json(await add(client, {"type": "http_latency", "attributes": {"latency": 5}}))
    assert toxic["attributes"] == {
        "method": "",
        "path": "",
        "match_headers": {},
        "percentage": 100,
        "count": 0,
        "latency": 5,
        "jitter": 0,
        "first_byte": False,
    }


async def test_http_toxic_errors_and_partial_update(
    client: httpx.AsyncClient, proxy: object
) -> None:
    assert_error(
        await add(client, {"type": "http_error", "attributes": {"status": 42}}),
        400,
        "invalid attribute: http_error status 42 is not valid "
        "(hint: a final status within 200..599, e.g. 503)",
    )
    assert_error(
        await add(client, {"type": "http_error", "attributes": {"headers": {"X": 1}}}),
        400,
        "bad request body: json: cannot unmarshal number into Go struct field "
        "HttpErrorToxic.attributes.headers of type string",
    )
    body = {"type": "http_error", "attributes": {"path": "/a", "headers": {"Retry-After": "1"}}}
    assert_json(await add(client, body))
    url = "/proxies/p/toxics/http_error_downstream"
    toxic = assert_json(await client.patch(url, json={"attributes": {"percentage": 12.5}}))
    assert toxic["attributes"]["path"] == "/a" and toxic["attributes"]["percentage"] == 12.5
    assert toxic["attributes"]["headers"] == {"Retry-After": "1"}
    toxic = assert_json(await client.patch(url, json={"attributes": {"headers": {"A": "b"}}}))
    assert toxic["attributes"]["headers"] == {"A": "b"}  # a map sent replaces the old one
    assert_error(
        await client.patch(url, json={"attributes": {"percentage": 101}}),
        400,
        "invalid attribute: http_error percentage 101 is not valid "
        "(hint: a percentage is within 0..100)",
    )
