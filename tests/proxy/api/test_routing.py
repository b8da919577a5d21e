"""Cross-cutting behaviour (contract section 0): routing, headers, request ids, the UA guard."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from chaos.proxy.api import create_app
from chaos.proxy.api._app import clean_path
from chaos.proxy.server import ProxyServer

from .conftest import TEXT, assert_json, create

XID = re.compile(r"^[0-9a-v]{20}$")


async def raw_request(
    app: Any, method: str, raw_path: bytes, query: bytes = b"", headers: Any = ()
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call the ASGI app with a raw path httpx would normalise (`//proxies`, `%2F`)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path = raw_path.decode()
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": raw_path,
        "query_string": query,
        "headers": list(headers),
    }
    await app(scope, receive, send)
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


async def test_request_id_on_matched_routes(client: httpx.AsyncClient) -> None:
    first = await client.get("/proxies")
    second = await client.get("/version")
    ids = [first.headers["x-toxiproxy-request-id"], second.headers["x-toxiproxy-request-id"]]
    assert all(XID.match(i) for i in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize("path", ["/nonexistent", "/metrics", "/proxies/e/", "/proxies/"])
async def test_unknown_path_is_go_404_without_request_id(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == TEXT
    assert r.text == "404 page not found\n"
    assert "x-toxiproxy-request-id" not in r.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/proxies"),
        ("DELETE", "/version"),
        ("PATCH", "/reset"),
        ("GET", "/populate"),
        ("POST", "/version"),
        ("HEAD", "/proxies"),
        ("PUT", "/proxies/x/toxics/y"),
        ("POST", "/proxies/x/connections"),
    ],
)
async def test_wrong_method_is_bare_405(client: httpx.AsyncClient, method: str, path: str) -> None:
    r = await client.request(method, path)
    assert r.status_code == 405
    assert r.headers["content-length"] == "0"
    assert "content-type" not in r.headers
    assert "x-toxiproxy-request-id" not in r.headers
    assert r.content == b""


async def test_double_slash_redirects_like_gorilla_mux(server: ProxyServer) -> None:
    app = create_app(server)
    status, headers, body = await raw_request(app, "GET", b"//proxies")
    assert (status, headers[b"location"], body) == (301, b"/proxies", b"")
    status, headers, _ = await raw_request(app, "GET", b"/proxies/./a/../b", b"x=1")
    assert (status, headers[b"location"]) == (301, b"/proxies/b?x=1")


def test_clean_path_keeps_trailing_slash() -> None:
    assert clean_path("/proxies/e/") == "/proxies/e/"
    assert clean_path("//a//b/../c/.") == "/a/c"
    assert clean_path("") == "/"


async def test_query_string_ignored(client: httpx.AsyncClient) -> None:
    assert assert_json(await client.get("/proxies?x=1")) == {}


async def test_escaped_slash_never_reaches_a_proxy(server: ProxyServer, echo: str) -> None:
    app = create_app(server)
    status, headers, body = await raw_request(app, "GET", b"/proxies/sl%2Fash")
    assert (status, body) == (404, b"404 page not found\n")
    assert headers[b"content-type"] == TEXT.encode()


async def test_names_with_spaces_and_unicode_are_addressable(
    client: httpx.AsyncClient, echo: str
) -> None:
    for name in ["with space", "emoji 🚀", "ünï"]:
        await create(client, name, echo)
        assert assert_json(await client.get(f"/proxies/{name}"))["name"] == name
        r = await client.delete(f"/proxies/{name}")
        assert r.status_code == 204


async def test_malformed_escape_is_go_400(server: ProxyServer) -> None:
    status, _, body = await raw_request(create_app(server), "GET", b"/proxies/%zz")
    assert (status, body) == (400, b"400 Bad Request")


@pytest.mark.parametrize("agent", ["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/"])
async def test_browser_user_agent_forbidden(client: httpx.AsyncClient, agent: str) -> None:
    r = await client.get("/proxies", headers={"User-Agent": agent})
    assert r.status_code == 403
    assert r.headers["content-type"] == TEXT
    assert r.text == "User agent not allowed\n"
    assert XID.match(r.headers["x-toxiproxy-request-id"])


@pytest.mark.parametrize("agent", ["Wget/2.1", "curl/8.0", "toxiproxy-cli", "mozilla/5.0"])
async def test_other_user_agents_pass(client: httpx.AsyncClient, agent: str) -> None:
    r = await client.get("/version", headers={"User-Agent": agent})
    assert r.status_code == 200


async def test_browser_agent_on_wrong_method_is_still_405(client: httpx.AsyncClient) -> None:
    r = await client.put("/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert r.status_code == 405


@pytest.mark.timeout(20)
async def test_slow_handler_gives_503_and_finishes_later(
    server: ProxyServer, echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    real_create = server.create

    async def slow_create(req: Any) -> Any:
        await gate.wait()
        return await real_create(req)

    monkeypatch.setattr(server, "create", slow_create)
    app = create_app(server, handler_timeout=0.2)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        body = {"name": "late", "listen": "127.0.0.1:0", "upstream": echo}
        r = await client.post("/proxies", json=body)
        assert r.status_code == 503
        assert r.content == b""
        assert r.headers["content-length"] == "0"
        # The change is not abandoned half-way: it completes after the 503.
        gate.set()
        for _ in range(100):
            if "late" in server.proxies:
                break
            await asyncio.sleep(0.01)
        assert server.proxies["late"].enabled


def test_bad_timeout_refused_in_constructor() -> None:
    with pytest.raises(ValueError, match="handler_timeout must be > 0 seconds, got 0"):
        create_app(ProxyServer(), handler_timeout=0)


async def test_lifespan_is_acknowledged(server: ProxyServer) -> None:
    app = create_app(server)
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_raw_utf8_path_segment(server: ProxyServer, echo: str) -> None:
    app = create_app(server)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await create(client, "ünï", echo, enabled=False)
    status, _, body = await raw_request(app, "GET", "/proxies/ünï".encode())
    assert status == 200 and b'"name":"\xc3\xbcn\xc3\xaf"' in body
    status, headers, _ = await raw_request(app, "GET", "//proxies/ünï".encode())
    assert (status, headers[b"location"]) == (301, "/proxies/ünï".encode())
