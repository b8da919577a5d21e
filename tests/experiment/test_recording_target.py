"""recording_target: an id per request; accepted, accepted_at and unknown as the answers say."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

import chaos


def _target(handler: httpx.MockTransport, **kwargs: object) -> chaos.RecordingTarget:
    target = chaos.recording_target(
        "POST",
        "http://shop/orders",
        json=lambda rid: {"id": rid},
        **kwargs,  # type: ignore[arg-type]
    )
    target._owned = httpx.AsyncClient(transport=handler)  # the client it would make itself
    return target


async def test_ids_are_sent_and_sorted_by_outcome() -> None:
    answers = iter([202, 503, 504])
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["id"])
        return httpx.Response(next(answers))

    target = _target(httpx.MockTransport(answer), id_prefix="t")
    await target()
    for _ in range(2):
        with pytest.raises(chaos.RequestFailed):
            await target()
    await target.aclose()
    assert seen == ["t-1", "t-2", "t-3"]
    assert target.accepted == {"t-1"} and set(target.accepted_at) == {"t-1"}
    assert target.unknown == {"t-3"}  # a 504: the work may have been done; the 503 was refused


async def test_a_timeout_is_unknown_and_a_refused_connection_is_neither() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        if request.headers["X-Id"].endswith("-1"):
            raise httpx.ReadTimeout("slow", request=request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    target = chaos.recording_target("GET", "http://shop/", id_header="X-Id", id_prefix="h")
    target._owned = httpx.AsyncClient(transport=httpx.MockTransport(fail))
    for _ in range(2):
        with pytest.raises(chaos.RequestFailed):
            await target()
    await target.aclose()
    assert target.unknown == {"h-1"} and target.accepted == set()


async def test_a_request_cut_at_the_loads_deadline_is_unknown() -> None:
    # The load cancels a request that outlives its timeout from its scheduled start: it may
    # have been acted on (seen delivered under load, then judged "unexpected").
    sent = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        sent.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")

    target = _target(httpx.MockTransport(hang), id_prefix="c")
    request = asyncio.ensure_future(target())
    await asyncio.wait_for(sent.wait(), 5)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    await target.aclose()
    assert target.unknown == {"c-1"} and target.accepted == set()


def test_a_target_the_system_cannot_see_ids_in_is_refused() -> None:
    with pytest.raises(ValueError, match=r"needs json=.* or id_header"):
        chaos.recording_target("POST", "http://shop/orders")
    with pytest.raises(TypeError, match="json must be a callable"):
        chaos.recording_target("POST", "http://shop/orders", json={"id": 1})  # type: ignore[arg-type]


def test_wait_until_returns_the_value_or_says_what_it_saw_last() -> None:
    calls = iter([0, RuntimeError("restarting"), 3])

    def check() -> object:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert chaos.wait_until("it", check, timeout=5, interval=0.01) == 3
    with pytest.raises(chaos.SettleTimeout, match=r"queue empty: not true after 0.05 s") as info:
        chaos.wait_until("queue empty", lambda: [], timeout=0.05, interval=0.01)
    assert info.value.last == []


class _Broker:
    def __init__(self, *counts: int | Exception) -> None:
        self.counts = list(counts)

    def consumers(self, queue: str) -> int:
        value = self.counts.pop(0)
        if isinstance(value, Exception):
            raise value
        return value


def test_queue_consumer_ready_waits_for_the_consumers() -> None:
    ready = chaos.QueueConsumerReady(_Broker(LookupError("no queue"), 0, 2), "orders", consumers=2)
    with pytest.raises(chaos.NotReady, match="not declared yet"):
        ready.check()
    with pytest.raises(chaos.NotReady, match="has 0 consumer"):
        ready.check()
    ready.check()
    with pytest.raises(ValueError, match="consumers=0"):
        chaos.QueueConsumerReady(_Broker(), "orders", consumers=0)


def test_a_new_target_never_repeats_an_earlier_targets_ids() -> None:
    # Each test makes its own target and drops it; CPython then often puts the next one at the
    # same address. Ids derived from id(self) repeated across tests, and the sample system's
    # deduplication dropped the repeats: reactions "lost" on Docker (CI, 3 of 4 runs).
    prefixes = set()
    for _ in range(200):
        target = chaos.recording_target("GET", "http://shop/", id_header="X-Id")
        prefixes.add(target.prefix)
        del target
    assert len(prefixes) == 200
