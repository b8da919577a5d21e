"""http_latency: per-request delays of responses (all of them, or the first byte), in order."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.http_latency import HttpLatencyToxic

from .http_kit import request

if TYPE_CHECKING:
    from conftest import HttpProxy, MakePair, PairHarness

pytestmark = pytest.mark.timeout(60)

HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n"


def test_registered_with_every_attribute_and_its_default() -> None:
    assert TOXICS["http_latency"] is HttpLatencyToxic
    assert HttpLatencyToxic(latency=5).attributes() == {
        "method": "",
        "path": "",
        "match_headers": {},
        "percentage": 100.0,
        "count": 0,
        "latency": 5,
        "jitter": 0,
        "first_byte": False,
    }


def by_time(p: PairHarness) -> list[tuple[float, bytes]]:
    """What the response half sent, joined per virtual send time (ms), in order."""
    out: list[tuple[float, bytes]] = []
    for at, data in zip(p.responses.output.times, p.responses.output.chunks, strict=True):
        ms = round(at * 1000, 3)
        if out and out[-1][0] == ms:
            out[-1] = (ms, out[-1][1] + data)
        else:
            out.append((ms, data))
    return out


async def answer(p: PairHarness, *pieces: tuple[float, bytes]) -> None:
    """Feed the response half `pieces` of upstream answer, each at its virtual time."""
    start = p.clock.time
    for at, data in pieces:
        await p.advance(start + at - p.clock.time)
        p.responses.feed(data)
    await p.advance(10)


async def test_every_byte_of_a_matching_response_is_held(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=200))
    p.requests.feed(request("GET", "/a"))
    await p.settle()
    assert p.requests.output.data == request("GET", "/a")  # forwarded at once
    await answer(p, (0.0, HEAD + b"part"), (0.05, b"rest"))
    assert by_time(p) == [(200, HEAD + b"part"), (250, b"rest")]


async def test_first_byte_holds_only_the_start(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=200, first_byte=True))
    p.requests.feed(request("GET", "/a"))
    await answer(p, (0.0, HEAD + b"pa"), (0.05, b"rt"), (0.3, b"rest"))
    # What came while the start waited follows it at once; what comes later is not delayed.
    assert by_time(p) == [(200, HEAD + b"part"), (300, b"rest")]


async def test_a_1xx_spends_the_first_byte_delay(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=100, first_byte=True))
    p.requests.feed(request("POST", "/", {"Expect": "100-continue"}, body=b"12345678"))
    await answer(p, (0.0, b"HTTP/1.1 100 Continue\r\n\r\n"), (0.5, HEAD + b"12345678"))
    assert by_time(p) == [(100, b"HTTP/1.1 100 Continue\r\n\r\n"), (500, HEAD + b"12345678")]


async def test_only_matching_responses_wait_and_order_is_kept(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=300, path="/slow"))
    p.requests.feed(request("GET", "/fast"), request("GET", "/slow"), request("GET", "/fast"))
    fast, slow = HEAD + b"fastfast", HEAD + b"slowslow"
    await answer(p, (0.0, fast + slow), (0.01, fast))
    # The second /fast is not delayed itself, but never overtakes the /slow before it.
    assert by_time(p) == [(0, fast), (300, slow + fast)]


async def test_jitter_draws_a_delay_per_request(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=100, jitter=50))
    n = 20
    p.requests.feed(*[request("GET", f"/{i}") for i in range(n)])
    await p.settle()
    for _ in range(n):  # one answer a second: each leaves `delay` after its second began
        p.responses.feed(HEAD + b"12345678")
        await p.advance(1)
    delays = [at - 1000 * i for i, (at, _) in enumerate(by_time(p))]
    assert len(delays) == n and all(50 <= d < 150 for d in delays)
    assert len(set(delays)) > n // 2


async def test_count_delays_only_the_first_requests(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=100, count=2))
    p.requests.feed(*[request("GET", "/") for _ in range(4)])
    await p.settle()
    for _ in range(4):
        p.responses.feed(HEAD + b"12345678")
        await p.advance(1)
    assert [at for at, _ in by_time(p)] == [100, 1100, 2000, 3000]


async def test_an_interrupt_sends_what_waits_at_once(pair: MakePair) -> None:
    p = pair(HttpLatencyToxic(latency=1000))
    p.requests.feed(request("GET", "/"), request("GET", "/"))
    await p.settle()
    p.responses.feed(HEAD + b"12345678")
    await p.advance(0.1)
    await p.interrupt()
    assert p.responses.output.data == HEAD + b"12345678"  # not lost, not held longer
    p.start()
    p.responses.feed(HEAD + b"abcdefgh")
    await p.advance(2)
    assert [at for at, _ in by_time(p)] == [100, 1100]  # the next one still waits


async def test_matching_responses_are_late_on_a_keep_alive_connection(
    http_proxy: HttpProxy,
) -> None:
    await http_proxy.add("http_latency", latency=150, path="/slow")
    client = await http_proxy.client()
    timings = {}
    for target in ("/fast", "/slow", "/fast"):
        start = time.perf_counter()
        client.send(request("GET", target))
        reply = await client.reply()
        timings.setdefault(target, []).append(time.perf_counter() - start)
        assert reply.status == 200 and target.encode() in reply.body
    assert min(timings["/slow"]) >= 0.15
    assert max(timings["/fast"]) < min(timings["/slow"])


async def test_added_between_a_head_and_its_body_it_delays_the_next(
    http_proxy: HttpProxy,
) -> None:
    # What the planted recovery leak met: added while pooled connections still had answers
    # coming in two writes. It used to stand aside for the connection: nothing was late.
    client = await http_proxy.client()
    client.send(request("GET", "/split?ms=300"))
    await http_proxy.until(lambda: http_proxy.sent("downstream") > 0)  # the head is through
    await http_proxy.add("http_latency", latency=200)
    assert (await client.reply()).body == b"the body, written apart"
    start = time.perf_counter()
    client.send(request("GET", "/next"))
    assert (await client.reply()).body == b"GET /next #2 body=0"
    assert time.perf_counter() - start >= 0.2


async def test_pipelined_on_real_sockets_streams_and_keeps_order(http_proxy: HttpProxy) -> None:
    await http_proxy.add("http_latency", latency=100, path="/chunked")
    client = await http_proxy.client()
    start = time.perf_counter()
    client.send(request("GET", "/chunked?n=20"), request("GET", "/x"))
    streamed, plain = await client.replies("GET", "GET")
    assert time.perf_counter() - start >= 0.1
    assert streamed.body == b"".join(b"part %d;" % i for i in range(20))
    assert plain.body == b"GET /x #2 body=0"


def test_negative_delays_are_refused_with_400() -> None:
    with pytest.raises(ApiError) as info:
        HttpLatencyToxic.from_attributes({"latency": -5})
    assert (info.value.status, info.value.message) == (
        400,
        "invalid attribute: http_latency latency must be >= 0, got -5",
    )
    with pytest.raises(
        ApiError,
        match=r"cannot unmarshal number into Go struct field "
        r"HttpLatencyToxic\.attributes\.first_byte of type bool",
    ):
        HttpLatencyToxic.from_attributes({"first_byte": 1})
