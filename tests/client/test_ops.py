"""What goes on the wire for each operation, and how each answer shape is read."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chaos.client import (
    AsyncToxiproxy,
    Connection,
    ConnectionToxic,
    InvalidResponse,
    ServerIgnoredToxicsWarning,
    Toxic,
    Toxiproxy,
)

from .either import Api, Script

pytestmark = pytest.mark.timeout(10)

Scripted = Callable[..., tuple[Api, Script]]

PROXY = {"name": "p", "listen": "127.0.0.1:5", "upstream": "127.0.0.1:1", "enabled": True}
TOXIC = {
    "attributes": {"latency": 500, "jitter": 0},
    "name": "latency_downstream",
    "type": "latency",
    "stream": "downstream",
    "toxicity": 1,
}


def answer(status: int, data: Any) -> httpx.Response:
    return httpx.Response(status, json=data)


def sent(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


async def test_headers_identify_the_client_and_are_not_a_browser(scripted: Scripted) -> None:
    api, script = scripted(answer(200, {}))
    await api.proxies()
    headers = script.requests[0].headers
    assert headers["user-agent"].startswith("pytest-chaos/")
    assert not headers["user-agent"].startswith("Mozilla/")
    assert headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("name", "raw_path"),
    [
        ("with space", b"/proxies/with%20space"),
        ("a/b", b"/proxies/a%2Fb"),
        ("caf\u00e9?#", b"/proxies/caf%C3%A9%3F%23"),
    ],
)
async def test_names_are_quoted_as_one_path_segment(
    scripted: Scripted, name: str, raw_path: bytes
) -> None:
    api, script = scripted(answer(200, {**PROXY, "name": name, "toxics": []}))
    assert (await api.get_proxy(name)).name == name
    assert script.requests[0].url.raw_path == raw_path


async def test_create_proxy_body(scripted: Scripted) -> None:
    api, script = scripted(answer(201, {**PROXY, "Logger": {}, "toxics": []}))
    await api.create_proxy("p", "127.0.0.1:1")
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/proxies")
    assert sent(request) == {
        "name": "p",
        "listen": "127.0.0.1:0",
        "upstream": "127.0.0.1:1",
        "enabled": True,
    }


async def test_create_proxy_sends_toxics_in_the_body(scripted: Scripted) -> None:
    api, script = scripted(answer(201, {**PROXY, "toxics": [TOXIC]}))
    made = await api.create_proxy(
        "p", "127.0.0.1:1", toxics=[{"type": "latency", "attributes": {"latency": 500}}]
    )
    assert sent(script.requests[0])["toxics"] == [
        {"type": "latency", "attributes": {"latency": 500}}
    ]
    assert made.toxics == (Toxic.from_json(TOXIC),)
    assert len(script.requests) == 1  # the server took them: nothing added one by one


@pytest.mark.parametrize("flavor", ["sync", "async"])
async def test_ignored_toxics_warning_points_at_the_caller(flavor: str) -> None:
    script = Script(answer(201, {**PROXY, "toxics": []}), answer(200, TOXIC))
    toxics = [Toxic("latency_downstream", "latency", attributes={"latency": 500})]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if flavor == "sync":
            with Toxiproxy(transport=script.transport) as client:
                made = client.create_proxy("p", "127.0.0.1:1", toxics=toxics)
        else:
            async with AsyncToxiproxy(transport=script.transport) as aclient:
                made = await aclient.create_proxy("p", "127.0.0.1:1", toxics=toxics)
    (warning,) = caught
    assert warning.category is ServerIgnoredToxicsWarning
    assert warning.filename == __file__
    assert "ignored the toxics" in str(warning.message)
    assert sent(script.requests[1]) == toxics[0].to_json()
    assert made.toxics == (Toxic.from_json(TOXIC),)


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"enabled": False}, {"enabled": False}),
        ({"listen": "127.0.0.1:9"}, {"listen": "127.0.0.1:9"}),
        ({"upstream": "h:1", "enabled": True}, {"upstream": "h:1", "enabled": True}),
    ],
)
async def test_update_proxy_sends_only_given_fields(
    scripted: Scripted, kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    api, script = scripted(answer(200, {**PROXY, "toxics": []}))
    await api.update_proxy("p", **kwargs)
    assert (script.requests[0].method, script.requests[0].url.path) == ("PATCH", "/proxies/p")
    assert sent(script.requests[0]) == body


async def test_add_toxic_body(scripted: Scripted) -> None:
    api, script = scripted(answer(200, TOXIC), answer(200, {**TOXIC, "name": "n"}))
    await api.add_toxic("p", "latency", attributes={"latency": 500})
    assert sent(script.requests[0]) == {
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": 500},
    }  # no name: the server picks <type>_<stream>
    await api.add_toxic("p", "latency", "upstream", 0.5, name="n")
    assert sent(script.requests[1]) == {
        "type": "latency",
        "stream": "upstream",
        "toxicity": 0.5,
        "attributes": {},
        "name": "n",
    }


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({}, {}),
        ({"attributes": {"latency": 1}}, {"attributes": {"latency": 1}}),
        ({"toxicity": 0.0}, {"toxicity": 0.0}),
    ],
)
async def test_update_toxic_sends_only_given_fields(
    scripted: Scripted, kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    api, script = scripted(answer(200, TOXIC))
    await api.update_toxic("p", "latency_downstream", **kwargs)
    request = script.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/proxies/p/toxics/latency_downstream")
    assert sent(request) == body


async def test_body_less_calls(scripted: Scripted) -> None:
    api, script = scripted(*(httpx.Response(204) for _ in range(4)))
    await api.reset()
    await api.delete_proxy("p")
    await api.remove_toxic("p", "t")
    await api.cut_connections("p")
    assert [(r.method, r.url.path, r.content) for r in script.requests] == [
        ("POST", "/reset", b""),
        ("DELETE", "/proxies/p", b""),
        ("DELETE", "/proxies/p/toxics/t", b""),
        ("DELETE", "/proxies/p/connections", b""),
    ]


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        # 2.7+: JSON with a space after the colon, odd content type, trailing newline
        (b'{"version": "git"}\n', "application/json;charset=utf-8", "git"),
        # before 2.7: plain text
        (b"2.1.4", "text/plain;charset=utf-8", "2.1.4"),
        (b"2\n", "text/plain;charset=utf-8", "2"),
    ],
    ids=["json", "plain", "plain-number"],
)
async def test_version_shapes(
    scripted: Scripted, content: bytes, content_type: str, expected: str
) -> None:
    api, _ = scripted(httpx.Response(200, content=content, headers={"Content-Type": content_type}))
    assert await api.version() == expected


async def test_version_of_the_wrong_shape(scripted: Scripted) -> None:
    api, _ = scripted(answer(200, {"v": 1}))
    with pytest.raises(InvalidResponse, match="expected"):
        await api.version()


async def test_proxies_read_tolerantly(scripted: Scripted) -> None:
    listing = {
        "a": {**PROXY, "name": "a", "Logger": {}, "toxics": [TOXIC]},
        "b": {**PROXY, "name": "b", "future_field": [1], "toxics": []},
    }
    api, _ = scripted(answer(200, listing))
    proxies = await api.proxies()
    assert list(proxies) == ["a", "b"]
    assert proxies["a"].toxics == (
        Toxic("latency_downstream", "latency", "downstream", 1.0, {"latency": 500, "jitter": 0}),
    )
    assert proxies["b"].client is api.client


async def test_populate_success_shapes(scripted: Scripted) -> None:
    api, script = scripted(
        answer(201, {"proxies": [{**PROXY, "toxics": []}]}), answer(201, {"proxies": None})
    )
    made = await api.populate([PROXY])
    assert [p.name for p in made] == ["p"]
    assert sent(script.requests[0]) == [PROXY]
    assert await api.populate([]) == []
    assert sent(script.requests[1]) == []


async def test_connections_parsed(scripted: Scripted) -> None:
    live = [
        {
            "id": "c1",
            "client": "127.0.0.1:50000",
            "upstream": "127.0.0.1:1",
            "opened_at": 1_700_000_000.5,
            "toxics": {
                "upstream": [],
                "downstream": [{"name": "latency_downstream", "type": "latency", "active": True}],
            },
            "bytes": {"upstream": 12, "downstream": 3400},
        }
    ]
    api, script = scripted(answer(200, live))
    assert await api.connections("p") == [
        Connection(
            id="c1",
            client="127.0.0.1:50000",
            upstream="127.0.0.1:1",
            opened_at=1_700_000_000.5,
            upstream_toxics=(),
            downstream_toxics=(ConnectionToxic("latency_downstream", "latency", True),),
            bytes_upstream=12,
            bytes_downstream=3400,
        )
    ]
    assert script.requests[0].url.path == "/proxies/p/connections"


async def test_openapi_returns_the_document(scripted: Scripted) -> None:
    doc = {"openapi": "3.1.0", "paths": {"/proxies": {}}}
    api, script = scripted(answer(200, doc), answer(200, []))
    assert await api.openapi() == doc
    assert script.requests[0].url.path == "/openapi.json"
    with pytest.raises(InvalidResponse):
        await api.openapi()


async def test_http_toxics_send_only_the_attributes_given(scripted: Scripted) -> None:
    api, script = scripted(answer(200, TOXIC), answer(200, TOXIC))
    await api.add_http_error("p", 503, count=2, match_headers={"X-Fault": "on"})
    await api.add_http_latency("p", 250, toxicity=0.5, name="slow")
    assert [sent(r) for r in script.requests] == [
        {
            "type": "http_error",
            "stream": "downstream",
            "toxicity": 1.0,
            "attributes": {"status": 503, "count": 2, "match_headers": {"X-Fault": "on"}},
        },
        {
            "type": "http_latency",
            "stream": "downstream",
            "toxicity": 0.5,
            "attributes": {"latency": 250},
            "name": "slow",
        },
    ]
