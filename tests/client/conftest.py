"""Fixtures: each client test runs with the sync and the async client, against a fake server.

The fake answers as a real Toxiproxy 2.12 (`toxiproxy`) or as our extended server
(`pytest-chaos`), through httpx.MockTransport or over a real loopback socket (`http`).
Behaviour tests use only `api` and `extended`, so a live server is one more `target`
parameter: `Target(url, None, extended)` (and delete its proxies between tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from chaos.client import AsyncToxiproxy, Toxiproxy
from chaos.proxy.runner import EmbeddedServer

from .either import Api, Script
from .http_bridge import serve
from .toxiproxy_fake import FakeToxiproxy

FAKE_URL = "http://127.0.0.1:8474"


@dataclass(frozen=True)
class Target:
    """Where the client under test talks to."""

    url: str
    transport: httpx.MockTransport | None
    extended: bool


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """Our real proxy server, on a thread of this process."""
    with EmbeddedServer() as server:
        yield server.url


@pytest.fixture(params=["toxiproxy", "pytest-chaos", "pytest-chaos-http", "live"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """A fresh fake server (a real Toxiproxy 2.12 look-alike, or our extended server), or
    our real server, emptied after each test."""
    if request.param == "live":
        url = request.getfixturevalue("live_server")
        yield Target(url, None, True)
        with Toxiproxy(url) as admin:
            for name in admin.proxies():
                admin.delete_proxy(name)
        return
    fake = FakeToxiproxy(extended=request.param != "toxiproxy")
    if request.param.endswith("-http"):
        with serve(fake.handle) as url:
            yield Target(url, None, fake.extended)
    else:
        yield Target(FAKE_URL, fake.transport, fake.extended)


@pytest.fixture
def extended(target: Target) -> bool:
    """Whether the server offers the pytest-chaos extensions."""
    return target.extended


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, target: Target) -> AsyncIterator[Api]:
    """The client under test, sync or async, every method awaitable."""
    if request.param == "sync":
        client = Toxiproxy(target.url, transport=target.transport)
        try:
            yield Api(client)
        finally:
            client.close()
    else:
        async with AsyncToxiproxy(target.url, transport=target.transport) as aclient:
            yield Api(aclient)


@pytest.fixture(params=["sync", "async"])
async def scripted(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[..., tuple[Api, Script]]]:
    """Factory: `api, script = scripted(response, ...)`, a client on canned responses."""
    opened: list[Toxiproxy | AsyncToxiproxy] = []

    def make(*replies: httpx.Response | Exception) -> tuple[Api, Script]:
        script = Script(*replies)
        client: Toxiproxy | AsyncToxiproxy
        if request.param == "sync":
            client = Toxiproxy(FAKE_URL, transport=script.transport)
        else:
            client = AsyncToxiproxy(FAKE_URL, transport=script.transport)
        opened.append(client)
        return Api(client), script

    yield make
    for client in opened:
        if isinstance(client, AsyncToxiproxy):
            await client.aclose()
        else:
            client.close()
