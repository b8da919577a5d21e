"""Every error response maps to its exception class, from the exact bytes the server sends."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest

from chaos.client import (
    AddressInUse,
    ApiError,
    AsyncToxiproxy,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidResponse,
    InvalidStream,
    InvalidToxic,
    MissingField,
    NotFound,
    ProxyExists,
    ProxyNotFound,
    ServerError,
    ToxicExists,
    ToxicNotFound,
    Toxiproxy,
    ToxiproxyError,
    TransportError,
    UnsupportedByServer,
)

from .either import Api, Script
from .toxiproxy_fake import ERROR_HEADERS, compact

pytestmark = pytest.mark.timeout(10)

Scripted = Callable[..., tuple[Api, Script]]


def go_error(status: int, message: str) -> httpx.Response:
    """An error exactly as Toxiproxy writes it: JSON body, text/plain type, trailing newline."""
    body = compact({"error": message, "status": status}) + b"\n"
    return httpx.Response(status, content=body, headers=ERROR_HEADERS)


TABLE = [
    (404, "proxy not found", ProxyNotFound, NotFound),
    (404, "toxic not found", ToxicNotFound, NotFound),
    (409, "proxy already exists", ProxyExists, Conflict),
    (409, "toxic already exists", ToxicExists, Conflict),
    (400, "invalid toxic type", InvalidToxic, BadRequest),
    (400, "stream was invalid, can be either upstream or downstream", InvalidStream, BadRequest),
    (400, "missing required field: name", MissingField, BadRequest),
    (400, "missing required field: upstream at proxy 2", MissingField, BadRequest),
    (400, "bad request body: EOF", BadRequest, ApiError),
    (
        500,
        "listen tcp 127.0.0.1:26379: bind: address already in use",
        AddressInUse,
        ServerError,
    ),
    (500, "listen tcp: address bogus: missing port in address", ServerError, ApiError),
    (404, "something else entirely", NotFound, ApiError),
    (409, "a new kind of conflict", Conflict, ApiError),
]


@pytest.mark.parametrize(("status", "message", "cls", "parent"), TABLE)
async def test_error_table(
    scripted: Scripted, status: int, message: str, cls: type[ApiError], parent: type
) -> None:
    api, _ = scripted(go_error(status, message))
    with pytest.raises(cls) as caught:
        await api.get_toxic("my proxy", "t")
    exc = caught.value
    assert type(exc) is cls and isinstance(exc, parent)
    assert (exc.status, exc.message, exc.method) == (status, message, "GET")
    assert exc.path == "/proxies/my%20proxy/toxics/t"
    assert exc.body == {"error": message, "status": status}
    text = str(exc)
    assert f"GET /proxies/my%20proxy/toxics/t: HTTP {status}: {message}" in text


async def test_hint_is_part_of_the_message(scripted: Scripted) -> None:
    api, _ = scripted(go_error(500, "listen tcp 127.0.0.1:80: bind: address already in use"))
    with pytest.raises(AddressInUse, match="hint: pick another listen port"):
        await api.create_proxy("p", "127.0.0.1:1", listen="127.0.0.1:80")


async def test_browser_user_agent_refusal_is_forbidden(scripted: Scripted) -> None:
    api, _ = scripted(
        httpx.Response(403, content=b"User agent not allowed\n", headers=ERROR_HEADERS)
    )
    with pytest.raises(Forbidden) as caught:
        await api.proxies()
    assert (caught.value.status, caught.value.message) == (403, "User agent not allowed")
    assert caught.value.body is None


async def test_unknown_route_is_not_found_on_core_routes(scripted: Scripted) -> None:
    page = httpx.Response(404, content=b"404 page not found\n", headers=ERROR_HEADERS)
    api, _ = scripted(page)
    with pytest.raises(NotFound) as caught:
        await api.get_proxy("a/b")  # Toxiproxy cannot route a name holding "/"
    assert type(caught.value) is NotFound
    assert caught.value.path == "/proxies/a%2Fb"


@pytest.mark.parametrize("call", ["connections", "cut_connections", "openapi"])
async def test_unknown_route_is_unsupported_on_extensions(scripted: Scripted, call: str) -> None:
    page = httpx.Response(404, content=b"404 page not found\n", headers=ERROR_HEADERS)
    api, _ = scripted(page)
    args = () if call == "openapi" else ("p",)
    with pytest.raises(UnsupportedByServer, match="extension"):
        await getattr(api, call)(*args)


async def test_extension_proxy_not_found_stays_proxy_not_found(scripted: Scripted) -> None:
    api, _ = scripted(go_error(404, "proxy not found"))
    with pytest.raises(ProxyNotFound):
        await api.connections("ghost")


async def test_empty_bodies_get_the_status_phrase(scripted: Scripted) -> None:
    api, _ = scripted(httpx.Response(503), httpx.Response(418))
    with pytest.raises(ServerError, match="HTTP 503: Service Unavailable"):
        await api.reset()
    with pytest.raises(ApiError) as caught:
        await api.reset()
    assert type(caught.value) is ApiError and caught.value.status == 418


async def test_update_falls_back_to_post_on_405(scripted: Scripted) -> None:
    proxy = {"name": "p", "listen": "127.0.0.1:5", "upstream": "127.0.0.1:1", "enabled": False}
    api, script = scripted(httpx.Response(405), httpx.Response(200, json={**proxy, "toxics": []}))
    assert (await api.disable("p")).enabled is False
    assert [r.method for r in script.requests] == ["PATCH", "POST"]
    assert script.requests[1].content == b'{"enabled":false}'


async def test_405_twice_is_an_api_error(scripted: Scripted) -> None:
    api, script = scripted(httpx.Response(405), httpx.Response(405))
    with pytest.raises(ApiError, match="HTTP 405: Method Not Allowed") as caught:
        await api.update_toxic("p", "t", toxicity=0.5)
    assert caught.value.method == "POST"
    assert len(script.requests) == 2


async def test_populate_error_carries_proxies_made_before_it(scripted: Scripted) -> None:
    made = {"name": "p4", "listen": "127.0.0.1:4", "upstream": "x:1", "enabled": True}
    body = {
        "error": "listen tcp 127.0.0.1:26379: bind: address already in use",
        "status": 500,
        "proxies": [{**made, "toxics": []}],
    }
    # populate errors come as application/json without a trailing newline
    reply = httpx.Response(500, content=compact(body), headers={"Content-Type": "application/json"})
    api, _ = scripted(reply)
    with pytest.raises(AddressInUse) as caught:
        await api.populate([made, {"name": "p5", "listen": "127.0.0.1:26379", "upstream": "x:1"}])
    assert [(p.name, p.listen) for p in caught.value.proxies] == [("p4", "127.0.0.1:4")]
    assert caught.value.proxies[0].client is api.client


async def test_populate_error_with_null_proxies(scripted: Scripted) -> None:
    body = {"error": "missing required field: name at proxy 1", "status": 400, "proxies": None}
    reply = httpx.Response(400, content=compact(body), headers={"Content-Type": "application/json"})
    api, _ = scripted(reply)
    with pytest.raises(MissingField) as caught:
        await api.populate([{"upstream": "x:1"}])
    assert caught.value.proxies == ()


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "Connection refused"),
        (httpx.ReadTimeout("timed out"), "no answer within timeout=5.0s"),
    ],
)
async def test_transport_failures(scripted: Scripted, failure: Exception, reason: str) -> None:
    api, _ = scripted(failure)
    with pytest.raises(TransportError) as caught:
        await api.get_proxy("db")
    exc = caught.value
    assert exc.__cause__ is failure
    text = str(exc)
    assert "GET http://127.0.0.1:8474/proxies/db failed" in text
    assert reason in text
    assert "is the server running" in text and "TOXIPROXY_URL" in text
    assert isinstance(exc, ToxiproxyError) and not isinstance(exc, ApiError)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not toxiproxy</html>",
        b'{"name":"p"}',  # missing listen, upstream
        b'["not","a","proxy"]',
        b'{"name":"p","listen":5,"upstream":"x:1"}',
    ],
)
async def test_unreadable_success_body_is_invalid_response(scripted: Scripted, body: bytes) -> None:
    api, _ = scripted(httpx.Response(200, content=body))
    with pytest.raises(InvalidResponse, match="GET /proxies/p: HTTP 200 with an unreadable body"):
        await api.get_proxy("p")


async def test_failed_rollback_is_noted_on_the_original_error(scripted: Scripted) -> None:
    created = {"name": "p", "listen": "127.0.0.1:5", "upstream": "x:1", "enabled": True}
    api, script = scripted(
        httpx.Response(201, json={**created, "toxics": []}),
        go_error(400, "invalid toxic type"),
        go_error(404, "proxy not found"),
    )
    with pytest.warns(UserWarning), pytest.raises(InvalidToxic) as caught:
        await api.create_proxy("p", "x:1", toxics=[{"type": "teleport"}])
    assert [(r.method, r.url.path) for r in script.requests] == [
        ("POST", "/proxies"),
        ("POST", "/proxies/p/toxics"),
        ("DELETE", "/proxies/p"),
    ]
    assert any("deleting the half-made proxy 'p' failed too" in n for n in caught.value.__notes__)


@pytest.mark.parametrize("flavor", ["sync", "async"])
async def test_refused_connection_on_a_real_socket(flavor: str) -> None:
    # A port that was free a moment ago; nobody listens on it any more.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(TransportError) as caught:
        if flavor == "sync":
            with Toxiproxy(url, timeout=2) as client:
                client.version()
        else:
            async with AsyncToxiproxy(url, timeout=2) as aclient:
                await aclient.version()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert f"GET {url}/version failed" in str(caught.value)


async def test_transport_failure_while_adding_toxics_rolls_back(scripted: Scripted) -> None:
    created = {"name": "p", "listen": "127.0.0.1:5", "upstream": "x:1", "enabled": True}
    api, script = scripted(
        httpx.Response(201, json={**created, "toxics": []}),
        httpx.ReadTimeout("timed out"),
        httpx.Response(204),
    )
    with pytest.warns(UserWarning), pytest.raises(TransportError):
        await api.create_proxy("p", "x:1", toxics=[{"type": "latency"}])
    assert [r.method for r in script.requests] == ["POST", "POST", "DELETE"]
