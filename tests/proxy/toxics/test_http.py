"""What the HTTP toxics share: both links, nesting, `stream`, toxicity per request."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from chaos.proxy.collection import ToxicCollection
from chaos.proxy.toxics._http import HttpToxic
from chaos.proxy.toxics.http_error import HttpErrorToxic

from .http_kit import request

if TYPE_CHECKING:
    from conftest import HttpProxy, MakePair

pytestmark = pytest.mark.timeout(60)


async def _no_links(stream: str, chain: object, close: object) -> None:
    pass


async def test_they_run_on_both_links_nested_oldest_outermost() -> None:
    toxics = ToxicCollection(_no_links)
    for type_, stream in [
        ("latency", "upstream"),
        ("http_error", "downstream"),
        ("http_latency", "upstream"),
        ("noop", "downstream"),
    ]:
        await toxics.add(ToxicCollection.build(type_, stream, None, 0.5, {}, toxics.names()))
    up = [(s.name, s.toxicity) for s in toxics.chain("upstream")]
    down = [(s.name, s.toxicity) for s in toxics.chain("downstream")]
    # Requests meet the HTTP toxics first; responses meet them last, in reverse order.
    assert up == [
        ("http_error_downstream", 1.0),  # links do not roll: toxicity applies per request
        ("http_latency_upstream", 1.0),
        ("latency_upstream", 0.5),
    ]
    assert down == [
        ("noop_downstream", 0.5),
        ("http_latency_upstream", 1.0),
        ("http_error_downstream", 1.0),
    ]
    # The API lists them under their stream, with the toxicity they were given.
    assert [(s.name, s.toxicity) for s in toxics.all()] == [
        ("latency_upstream", 0.5),
        ("http_latency_upstream", 0.5),
        ("http_error_downstream", 0.5),
        ("noop_downstream", 0.5),
    ]


def test_a_toxic_unbound_to_a_link_refuses_to_run() -> None:
    toxic = ToxicCollection.build("http_error", None, None, None, {}).toxic
    assert isinstance(toxic, HttpToxic)
    with pytest.raises(RuntimeError, match="runs through on_link"):
        asyncio.run(toxic.pipe(None))  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", ["upstream", "downstream", "UPSTREAM"])
async def test_stream_only_names_them(http_proxy: HttpProxy, stream: str) -> None:
    name = await http_proxy.add("http_error", stream=stream, status=500)
    assert name == f"http_error_{stream}"
    client = await http_proxy.client()
    client.send(request("GET", "/"))
    assert (await client.reply()).status == 500
    (conn,) = http_proxy.proxy.connections
    toxics = conn.info()["toxics"]
    assert (
        toxics["upstream"]
        == toxics["downstream"]
        == [{"name": name, "type": "http_error", "active": True}]
    )


async def test_an_outer_answer_skips_an_inner_delay(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", path="/fail", body="outer")
    await http_proxy.add("http_latency", latency=200)
    client = await http_proxy.client()
    start = time.perf_counter()
    client.send(request("GET", "/fail"))
    assert (await client.reply()).body == b"outer"
    answered = time.perf_counter() - start
    client.send(request("GET", "/ok"), request("GET", "/fail"))
    ok, fail = await client.replies("GET", "GET")
    assert (ok.status, fail.body) == (200, b"outer")
    assert time.perf_counter() - start >= 0.2 > answered  # only /ok went to the inner toxic


async def test_an_unasked_response_passes_through(http_proxy: HttpProxy) -> None:
    # A server may send a 408 on an idle connection before closing it.
    await http_proxy.add("http_error", path="/fail")
    client = await http_proxy.client()
    client.send(request("GET", "/ok"))
    assert (await client.reply()).status == 200
    (conn,) = http_proxy.proxy.connections
    conn.links["downstream"].feed(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
    unasked = await client.reply()
    assert unasked.status == 408
    client.send(request("GET", "/fail"))
    assert (await client.reply()).status == 503


async def test_bad_http_from_the_first_byte_makes_it_stand_aside(pair: MakePair) -> None:
    p = pair(HttpErrorToxic())  # would answer every request it could read
    not_http = b'{"not": "a request line"}'
    p.requests.feed(not_http + request("GET", "/"))
    await p.settle()
    assert p.requests.output.data == not_http + request("GET", "/")  # untouched
    p.requests.feed(request("GET", "/later"))
    await p.settle()
    assert p.requests.output.data.endswith(request("GET", "/later"))
    assert p.responses.output.data == b""


async def test_joined_inside_a_request_it_judges_from_the_next_head(pair: MakePair) -> None:
    p = pair(HttpErrorToxic(), midway=True)
    # Neither the rest of a body nor a head that has not come whole is judged, or held.
    for piece in (b'rest of a JSON body"}', b"abc", b"GET /half-a-head HTTP/1.1\r\nHo"):
        p.requests.feed(piece)
        await p.settle()
        assert p.requests.output.data.endswith(piece)
    p.requests.feed(request("GET", "/later"))
    await p.settle()
    assert b"/later" not in p.requests.output.data  # judged: answered by the proxy
    assert p.responses.output.data.startswith(b"HTTP/1.1 503 ")


async def test_joined_inside_a_response_it_frames_from_the_next_answer(pair: MakePair) -> None:
    # Servers write a head and its body apart (uvicorn does): joined between the two, the
    # toxic must not read the body as a status line and stand aside for the connection.
    p = pair(HttpErrorToxic(path="/fail"), midway=True)
    rest = b'rest of a JSON body"}'
    p.responses.feed(rest)
    await p.settle()
    assert p.responses.output.data == rest  # untouched
    p.requests.feed(request("GET", "/ok"))
    await p.settle()
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    p.responses.feed(ok[:20])
    await p.settle()
    p.responses.feed(ok[20:])
    p.requests.feed(request("GET", "/fail"))
    await p.settle()
    assert p.responses.output.data.startswith(rest + ok + b"HTTP/1.1 503 ")
