"""http_error on real sockets: answers per request, in order, never reaching the server."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.server import ProxyRequest, ProxyServer, ToxicRequest
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.http_error import HttpErrorToxic

from .http_kit import HttpClient, HttpUpstream, request

if TYPE_CHECKING:
    from conftest import HttpProxy, LiveProxy, MakePair

pytestmark = pytest.mark.timeout(60)


def within(count: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """`count` successes of `n` draws is within `sigmas` standard deviations of n*p."""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


async def statuses(client: HttpClient, targets: list[str], batch: int = 50) -> list[int]:
    """Send GETs pipelined in batches; the statuses, in order."""
    out: list[int] = []
    for i in range(0, len(targets), batch):
        part = targets[i : i + batch]
        client.send(*(request("GET", t) for t in part))
        out += [r.status for r in await client.replies(*["GET"] * len(part))]
    return out


def test_registered_with_every_attribute_and_its_default() -> None:
    assert TOXICS["http_error"] is HttpErrorToxic
    assert HttpErrorToxic().attributes() == {
        "method": "",
        "path": "",
        "match_headers": {},
        "percentage": 100.0,
        "count": 0,
        "status": 503,
        "body": "",
        "headers": {},
    }


async def test_matching_requests_are_answered_and_never_forwarded(http_proxy: HttpProxy) -> None:
    await http_proxy.add(
        "http_error", status=429, path="/limited", body="slow down", headers={"Retry-After": "3"}
    )
    client = await http_proxy.client()
    client.send(request("GET", "/limited/x"), request("GET", "/other"))
    limited, other = await client.replies("GET", "GET")
    assert (limited.status, limited.body) == (429, b"slow down")
    assert limited.headers["retry-after"] == "3"
    assert limited.headers["content-type"] == "text/plain; charset=utf-8"
    assert (other.status, other.body) == (200, b"GET /other #1 body=0")
    assert [r.target for r in http_proxy.upstream.received] == ["/other"]


async def test_pipelined_answers_keep_their_order(http_proxy: HttpProxy) -> None:
    # Upstream answers are held 100 ms on their way back: an answer the proxy makes at once
    # must still wait for those ahead of it.
    await http_proxy.add("latency", latency=100)
    await http_proxy.add("http_error", status=503, path="/fail", body="local")
    client = await http_proxy.client()
    targets = ["/a", "/fail", "/chunked?n=5", "/fail", "/fail", "/b"]
    client.send(*(request("GET", t) for t in targets))
    replies = await client.replies(*["GET"] * len(targets))
    assert [(r.status, r.body) for r in replies] == [
        (200, b"GET /a #1 body=0"),
        (503, b"local"),
        (200, b"part 0;part 1;part 2;part 3;part 4;"),
        (503, b"local"),
        (503, b"local"),
        (200, b"GET /b #3 body=0"),
    ]


async def test_percentage_is_rolled_per_request_within_binomial_bounds(
    http_proxy: HttpProxy,
) -> None:
    await http_proxy.add("http_error", percentage=30)
    client = await http_proxy.client()
    n = 400
    got = await statuses(client, [f"/r{i}" for i in range(n)])
    failed = got.count(503)
    # 4 sigma: 120 +/- 36.7 (seed 7 fixes the draws; the bound is what any seed must meet).
    assert within(failed, n, 0.30), failed
    assert len(http_proxy.upstream.received) == n - failed == got.count(200)


async def test_toxicity_too_applies_per_request_not_per_connection(http_proxy: HttpProxy) -> None:
    spec = await http_proxy.add("http_error", percentage=50)
    await http_proxy.proxy.toxics.update(spec, None, 0.5)
    client = await http_proxy.client()
    n = 400
    failed = (await statuses(client, ["/"] * n)).count(503)
    assert within(failed, n, 0.25), failed  # one connection sees both outcomes, 25% fail


async def test_count_fails_the_first_requests_across_connections(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", count=2, method="POST")
    seen = []
    for _ in range(4):  # a client retrying on a new connection each time
        client = await http_proxy.client()
        client.send(request("GET", "/read"), request("POST", "/write", body=b"x"))
        seen.append([r.status for r in await client.replies("GET", "POST")])
        client.close()
    assert seen == [[200, 503], [200, 503], [200, 200], [200, 200]]


async def test_count_survives_updates_unless_count_changes(http_proxy: HttpProxy) -> None:
    name = await http_proxy.add("http_error", count=1)
    client = await http_proxy.client()
    assert await statuses(client, ["/", "/"]) == [503, 200]
    await http_proxy.proxy.toxics.update(name, {"status": 500}, None)
    assert await statuses(client, ["/"]) == [200]
    await http_proxy.proxy.toxics.update(name, {"count": 2}, None)
    assert await statuses(client, ["/", "/", "/"]) == [500, 500, 200]


@pytest.mark.parametrize(
    ("attributes", "hit", "miss"),
    [
        ({"method": "post, PUT"}, request("PUT", "/x", body=b"1"), request("GET", "/x")),
        ({"path": "/api"}, request("GET", "/api/v1?q=/z"), request("GET", "/v1/api")),
        (
            {"path": "/users/*/avatar"},
            request("GET", "/users/7/avatar"),
            request("GET", "/users/7"),
        ),
        ({"path": "/a?c"}, request("GET", "/abc?x=1"), request("GET", "/ab")),
        (
            {"match_headers": {"X-Fault": "yes"}},
            request("GET", "/", {"x-fault": "yes"}),
            request("GET", "/", {"X-Fault": "no"}),
        ),
        (
            {"match_headers": {"authorization": "Bearer *"}},
            request("GET", "/", {"Authorization": "Bearer t0k3n"}),
            request("GET", "/", {"Authorization": "Basic dTpw"}),
        ),
        (
            {"match_headers": {"X-Canary": "*"}},
            request("GET", "/", {"X-Canary": ""}),
            request("GET", "/"),
        ),
        ({"path": "/p"}, request("GET", "http://upstream/p/q"), request("GET", "http://p/q")),
    ],
)
async def test_matching_by_method_path_and_header(
    http_proxy: HttpProxy, attributes: dict[str, Any], hit: bytes, miss: bytes
) -> None:
    await http_proxy.add("http_error", status=418, **attributes)
    client = await http_proxy.client()
    client.send(hit, miss)
    methods = [r.split(b" ", 1)[0].decode() for r in (hit, miss)]
    assert [r.status for r in await client.replies(*methods)] == [418, 200]


async def test_request_bodies_are_dropped_whole_with_either_framing(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", path="/upload")
    client = await http_proxy.client()
    body = bytes(range(256)) * 300
    client.send(
        request("POST", "/upload", body=body),
        request("POST", "/upload", body=body, chunked=True),
        request("POST", "/kept", body=body, chunked=True),
        request("POST", "/kept", body=b"tail"),
    )
    replies = await client.replies("POST", "POST", "POST", "POST")
    assert [r.status for r in replies] == [503, 503, 200, 200]
    assert [(r.target, len(r.body)) for r in http_proxy.upstream.received] == [
        ("/kept", len(body)),
        ("/kept", 4),
    ]


async def test_an_answer_to_head_has_no_body(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", body="sorry")
    client = await http_proxy.client()
    client.send(request("HEAD", "/"), request("GET", "/"))
    head, get = await client.replies("HEAD", "GET")
    assert (head.headers["content-length"], head.body) == ("5", b"")
    assert get.body == b"sorry"


@pytest.mark.parametrize(
    "closing",
    [
        request("GET", "/", {"Connection": "close"}),
        request("GET", "/", version="HTTP/1.0"),
        request("POST", "/", {"Expect": "100-continue"}, body=b"never sent"),
    ],
    ids=["connection-close", "http-1.0", "expect-100-continue"],
)
async def test_a_request_that_ends_the_connection_is_answered_then_closed(
    http_proxy: HttpProxy, closing: bytes
) -> None:
    await http_proxy.add("http_error")
    client = await http_proxy.client()
    head = closing.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    client.send(request("GET", "/first"), head)  # a 100-continue client waits with its body
    first, answer = await client.replies("GET", closing.split(b" ")[0].decode())
    assert (first.status, answer.status) == (503, 503)
    assert answer.headers["connection"] == "close"
    assert await client.closed()
    assert http_proxy.upstream.received == []


async def test_forwarded_connection_close_and_expect_continue(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", path="/never")
    client = await http_proxy.client()
    client.send(request("POST", "/up", {"Expect": "100-continue"}, body=b""))
    client.send(
        b"POST /up HTTP/1.1\r\nHost: u\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
    )
    first = await client.reply("POST")
    client.send(b"abc")
    second = await client.reply("POST")
    assert (first.status, second.status, second.interim) == (200, 200, [100])
    client.send(request("GET", "/close"))
    assert (await client.reply()).headers["connection"] == "close"
    assert await client.closed()


async def test_upgrade_answered_by_the_server_makes_the_toxic_stand_aside(
    http_proxy: HttpProxy,
) -> None:
    await http_proxy.add("http_error", path="/fail")
    client = await http_proxy.client()
    upgrade = request("GET", "/upgrade", {"Connection": "Upgrade", "Upgrade": "echo"})
    # What follows the upgrade request is the new protocol, even if it looks like HTTP.
    client.send(upgrade + request("GET", "/fail"))
    switched = await client.reply(upgrade=True)
    assert switched.status == 101
    echoed = client.leftover
    while len(echoed) < len(request("GET", "/fail")):
        echoed += await asyncio.wait_for(client.reader.read(65536), 10)
    assert echoed == request("GET", "/fail")
    client.writer.write(b"\x81\x05hello")
    assert await asyncio.wait_for(client.reader.readexactly(7), 10) == b"\x81\x05hello"


async def test_a_refused_upgrade_keeps_http_going(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", path="/fail")
    client = await http_proxy.client()
    # The upstream does not switch on /nope: HTTP goes on, the held request is judged.
    upgrade = request("GET", "/nope", {"Connection": "Upgrade", "Upgrade": "echo"})
    client.send(upgrade + request("GET", "/fail") + request("GET", "/ok"))
    refused = await client.reply(upgrade=True)
    assert [refused.status] + [r.status for r in await client.replies("GET", "GET")] == [
        200,
        503,
        200,
    ]
    # A matching upgrade request is answered by the proxy, and never switches.
    client.send(request("GET", "/fail", {"Connection": "Upgrade", "Upgrade": "echo"}))
    assert (await client.reply(upgrade=True)).status == 503


async def test_bad_http_from_the_client_flows_untouched(live_proxy: LiveProxy) -> None:
    await live_proxy.add("http_error")  # would answer every request
    reader, writer = await live_proxy.connect()
    junk = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(256))
    writer.write(junk)
    assert await asyncio.wait_for(reader.readexactly(len(junk)), 10) == junk
    writer.write(request("GET", "/"))  # later HTTP too: the toxic stood aside for good
    assert await asyncio.wait_for(reader.readexactly(len(request())), 10) == request()


async def test_bad_http_from_the_server_flows_untouched(live_proxy: LiveProxy) -> None:
    # The echo upstream "answers" a request with the request: not a response.
    await live_proxy.add("http_error", path="/fail")
    reader, writer = await live_proxy.connect()
    writer.write(request("GET", "/ok"))
    got = await asyncio.wait_for(reader.readexactly(len(request("GET", "/ok"))), 10)
    assert got == request("GET", "/ok")
    writer.write(request("GET", "/fail"))  # no more answers from the proxy
    got = await asyncio.wait_for(reader.readexactly(len(request("GET", "/fail"))), 10)
    assert got == request("GET", "/fail")


async def test_added_and_removed_on_a_live_keep_alive_connection(http_proxy: HttpProxy) -> None:
    client = await http_proxy.client()
    assert await statuses(client, ["/1"]) == [200]
    name = await http_proxy.add("http_error", status=502)
    assert await statuses(client, ["/2", "/3"]) == [502, 502]
    await http_proxy.remove(name)
    assert await statuses(client, ["/4"]) == [200]
    assert [r.target for r in http_proxy.upstream.received] == ["/1", "/4"]
    (conn,) = http_proxy.proxy.connections
    assert conn.shared == {}  # the removed toxic forgot the connection


async def test_removed_while_an_answer_is_owed_closes_after_what_is_queued(
    http_proxy: HttpProxy,
) -> None:
    await http_proxy.add("latency", latency=300)  # upstream's answer is still on its way...
    name = await http_proxy.add("http_error", path="/fail")
    client = await http_proxy.client()
    client.send(request("GET", "/slow"), request("GET", "/fail"))  # ...and the proxy owes one
    await http_proxy.until(lambda: http_proxy.received("downstream") > 0)
    await http_proxy.remove(name)
    assert (await client.reply()).status == 200  # queued data is not lost
    assert await client.closed()  # the owed answer could not be placed: no wrong pairing


async def test_interrupts_lose_nothing_of_a_streamed_body(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_error", path="/fail")
    client = await http_proxy.client()
    body = bytes(range(256)) * 400
    chunked = request("POST", "/up", body=body, chunked=True)
    client.send(chunked[:-20_000])
    await http_proxy.until(lambda: http_proxy.sent("upstream") > 20_000)
    await http_proxy.add("noop", stream="upstream")  # every toxic of the link restarts
    client.send(chunked[-20_000:])
    client.send(request("GET", "/fail"))
    assert [r.status for r in await client.replies("POST", "GET")] == [200, 503]
    assert http_proxy.upstream.received[0].body == body


async def test_a_seed_makes_the_rolls_repeat() -> None:
    upstream = HttpUpstream()
    await upstream.start()
    outcomes = []
    try:
        for seed in (42, 42, 43):
            server = ProxyServer(seed=seed)
            toxic = ToxicRequest(type="http_error", attributes={"percentage": 50})
            req = ProxyRequest(name="p", listen="127.0.0.1:0", upstream=upstream.address)
            proxy = await server.create(req)
            await server.add_toxic("p", toxic)
            host, _, port = proxy.listen.rpartition(":")
            client = HttpClient(*await asyncio.open_connection(host, int(port)))
            outcomes.append(await statuses(client, ["/"] * 64))
            client.close()
            await server.shutdown()
    finally:
        await upstream.stop()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] != outcomes[2]
    assert {503, 200} == set(outcomes[0])


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"status": 99}, "http_error status 99 is not valid (hint: a final status within 200..599"),
        ({"status": 600}, "status 600 is not valid"),
        ({"percentage": 100.5}, "percentage 100.5 is not valid (hint: a percentage is within"),
        ({"percentage": -1}, "http_error percentage must be >= 0, got -1"),
        ({"count": -2}, "http_error count must be >= 0, got -2"),
        ({"method": "GET,P OST"}, "method 'GET,P OST' is not valid"),
        ({"path": "api"}, "path 'api' is not valid (hint: a path starts with /"),
        ({"headers": {"Bad Name": "x"}}, "headers 'Bad Name' is not valid"),
        ({"headers": {"Content-Length": "1"}}, "the proxy sets the framing headers itself"),
        ({"headers": {"X-A": "1\r\nX-B: 2"}}, "a header value has no CR, LF or NUL"),
        ({"match_headers": {"a:b": "x"}}, "match_headers 'a:b' is not valid"),
    ],
)
def test_invalid_attributes_are_refused_with_400(attributes: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError) as info:
        HttpErrorToxic.from_attributes(attributes)
    assert info.value.status == 400
    assert message in info.value.message and info.value.message.startswith("invalid attribute: ")


@pytest.mark.parametrize(
    ("attributes", "go"),
    [
        (
            {"status": "503"},
            "string into Go struct field HttpErrorToxic.attributes.status of type int64",
        ),
        ({"body": 1}, "number into Go struct field HttpErrorToxic.attributes.body of type string"),
        (
            {"headers": ["a"]},
            "array into Go struct field HttpErrorToxic.attributes.headers of type map",
        ),
        (
            {"percentage": "x"},
            "string into Go struct field HttpErrorToxic.attributes.percentage of",
        ),
    ],
)
def test_wrong_json_types_fail_like_go(attributes: dict[str, Any], go: str) -> None:
    with pytest.raises(ApiError) as info:
        HttpErrorToxic.from_attributes(attributes)
    assert info.value.message.startswith(f"bad request body: json: cannot unmarshal {go}")


async def test_interrupted_while_dropping_a_body_goes_on_dropping(pair: MakePair) -> None:
    p = pair(HttpErrorToxic())
    body = b"z" * 50
    p.requests.feed(request("POST", "/", body=body)[:-20])
    await p.settle()
    await p.interrupt()
    p.start()
    p.requests.feed(body[-20:] + request("GET", "/next"))
    await p.settle()
    assert p.requests.output.data == b""  # nothing of either reached the server
    assert p.responses.output.data.count(b"HTTP/1.1 503 Service Unavailable") == 2
