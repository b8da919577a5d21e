"""Property-based fuzzing of every endpoint: never a 5xx but bind failures, never a broken app.

Every listen address the fuzzer makes the server bind is forced onto loopback (a patched
`bind` refuses the rest as a bind failure), so fuzzing never opens a port to the network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import chaos.proxy.proxy
from chaos.proxy import address
from chaos.proxy.api import create_app
from chaos.proxy.server import ProxyServer
from chaos.proxy.toxics import TOXICS

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BIND_FAILURE = ("listen tcp", "address ", "lookup ")


def loopback_only_bind(listen: str) -> tuple[socket.socket, str]:
    try:
        ip, _ = address.resolve(listen)
    except address.ApiError as exc:
        raise address.AddressError(f"listen tcp: {exc.message}") from None
    if not ipaddress.ip_address(ip).is_loopback:
        raise address.AddressError(f"listen tcp {listen}: bind: refused by the fuzz test")
    return address.bind(listen)


class Harness:
    """One server and app on one private loop for the whole module (hypothesis is sync)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = ProxyServer(seed=1)
        transport = httpx.ASGITransport(create_app(self.server))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://fuzz")

    def request(self, method: str, path: str, content: bytes = b"") -> httpx.Response:
        return self.loop.run_until_complete(
            asyncio.wait_for(self.client.request(method, path, content=content), 30)
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.server.shutdown())
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    patch = pytest.MonkeyPatch()
    patch.setattr(chaos.proxy.proxy, "bind", loopback_only_bind)
    h = Harness()
    yield h
    h.close()
    patch.undo()


def check(h: Harness, response: httpx.Response) -> None:
    """A client error or success; 500 only for a bind failure; and the app still answers."""
    status = response.status_code
    if status >= 500:
        body = response.json()
        assert status == 500 and body["error"].startswith(BIND_FAILURE), response.text
    assert status in (200, 201, 204, 301, 400, 403, 404, 405, 409, 500), response.text
    plain = {b"404 page not found\n", b"400 Bad Request", b"User agent not allowed\n", b""}
    if status >= 400 and response.content not in plain:
        body = response.json()
        assert set(body) >= {"error", "status"} and body["status"] == status
    assert h.request("GET", "/version").status_code == 200


names = st.text(min_size=0, max_size=12) | st.sampled_from(
    ["p", "a/b", "with space", "🚀", "..", ".", "%2F", "a?b", "a#b", "\x00", "é"]
)
listens = st.sampled_from(
    [
        "127.0.0.1:0",
        "localhost:0",
        "[::1]:0",
        "bogus",
        "127.0.0.1:x",
        "256.1.1.1:0",
        "0.0.0.0:0",
        "",
        ":0",
        "127.0.0.1:99999",
        "127.0.0.1:-1",
    ]
) | st.text(max_size=10)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
attributes = (
    st.dictionaries(
        st.sampled_from(
            [
                "latency",
                "jitter",
                "rate",
                "delay",
                "timeout",
                "bytes",
                "average_size",
                "size_variation",
                "LATENCY",
                "x",
            ]
        ),
        scalars,
        max_size=4,
    )
    | json_values
)
toxics = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(sorted(TOXICS)) | st.text(max_size=6) | scalars,
        "stream": st.sampled_from(["upstream", "downstream", "UP", "Downstream", ""]) | scalars,
        "name": names | scalars,
        "toxicity": scalars,
        "attributes": attributes,
    },
)
proxies = st.fixed_dictionaries(
    {},
    optional={
        "name": names | scalars,
        "listen": listens | scalars,
        "upstream": st.sampled_from(["127.0.0.1:9", "nonsense", ""]) | scalars,
        "enabled": st.booleans() | scalars,
        "toxics": st.lists(toxics, max_size=3) | scalars,
    },
)
raw_bodies = st.binary(max_size=40) | st.sampled_from([b"", b"{", b"[", b"nul", b"{}", b"[]"])


def encode(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


bodies = raw_bodies | json_values.map(encode) | proxies.map(encode) | toxics.map(encode)
methods = st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT"])


@SETTINGS
@given(body=bodies | proxies.map(encode))
def test_create_proxy(harness: Harness, body: bytes) -> None:
    check(harness, harness.request("POST", "/proxies", body))


@SETTINGS
@given(body=bodies | st.lists(proxies, max_size=3).map(encode))
def test_populate(harness: Harness, body: bytes) -> None:
    check(harness, harness.request("POST", "/populate", body))


@SETTINGS
@given(method=methods, name=names, body=bodies)
def test_proxy_endpoint(harness: Harness, method: str, name: str, body: bytes) -> None:
    harness.request("POST", "/proxies", encode({"name": "p", "upstream": "127.0.0.1:9"}))
    check(harness, harness.request(method, f"/proxies/{quote(name, safe='')}", body))
    check(harness, harness.request(method, "/proxies/p", body))


@SETTINGS
@given(method=methods, proxy=names, toxic=names, body=bodies | toxics.map(encode))
def test_toxic_endpoints(
    harness: Harness, method: str, proxy: str, toxic: str, body: bytes
) -> None:
    harness.request("POST", "/proxies", encode({"name": "t", "upstream": "127.0.0.1:9"}))
    check(harness, harness.request(method, "/proxies/t/toxics", body))
    check(harness, harness.request(method, f"/proxies/{quote(proxy, safe='')}/toxics", body))
    target = f"/proxies/t/toxics/{quote(toxic, safe='')}"
    check(harness, harness.request(method, target, body))
    check(harness, harness.request(method, "/proxies/t/toxics/latency_downstream", body))


@SETTINGS
@given(method=methods, path=st.text(max_size=30), body=raw_bodies)
def test_any_path(harness: Harness, method: str, path: str, body: bytes) -> None:
    check(harness, harness.request(method, "/" + quote(path, safe="/%?&="), body))
    check(harness, harness.request(method, "/reset", body))
    check(harness, harness.request(method, "/proxies/p/connections", body))
