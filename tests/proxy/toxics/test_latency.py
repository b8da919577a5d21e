"""latency: per-chunk delay with jitter, pipelined, interruptible; attribute decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.stream import Chunk
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.latency import LatencyToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(30)


def test_registered_under_its_api_name() -> None:
    assert TOXICS["latency"] is LatencyToxic
    assert LatencyToxic(latency=5).attributes() == {"latency": 5, "jitter": 0}


async def test_each_chunk_leaves_latency_after_it_was_read(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100))
    h.feed(b"one")
    await h.run()
    h.feed(b"two")
    await h.run()
    assert h.output.chunks == [b"one", b"two"]
    assert h.output.times == pytest.approx([0.1, 0.2])


async def test_jitter_draws_uniformly_within_plus_minus_jitter(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100, jitter=10))
    for i in range(200):
        h.feed(b"%d" % i)
        await h.run()
    sleeps = h.clock.sleeps
    assert len(sleeps) == 200
    assert all(0.090 <= s < 0.110 for s in sleeps), (min(sleeps), max(sleeps))
    # Both halves of the range are used: the jitter is not one-sided or constant.
    assert min(sleeps) < 0.095 and max(sleeps) > 0.105
    assert h.output.data == b"".join(b"%d" % i for i in range(200))


async def test_backlog_is_pipelined_not_cumulative(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100))
    h.feed(b"a", b"b", b"c")
    await h.run()
    assert h.output.chunks == [b"a", b"b", b"c"]
    assert h.output.times == pytest.approx([0.1, 0.1, 0.1])


async def test_timestamp_moves_to_due_time_so_chained_latencies_add(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100))
    h.feed(b"x")
    await h.run()
    sent = h.output.items[0][1]
    assert sent is not None and sent.timestamp == pytest.approx(h.clock.now())
    # The same chunk entering a second latency stage (here: this one again) is delayed anew.
    h.input.put(sent)
    await h.run()
    assert h.output.times == pytest.approx([0.1, 0.2])


async def test_time_already_spent_waiting_counts_towards_the_delay(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100))
    h.input.put(Chunk(b"late", h.clock.now() - 0.03))
    await h.run()
    assert h.output.times == pytest.approx([0.07])


async def test_jitter_larger_than_latency_never_sleeps_negative(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=5, jitter=50))
    for i in range(50):
        h.feed(b"%d" % i)
        await h.run()
    assert all(s > 0 for s in h.clock.sleeps)
    assert len(h.clock.sleeps) < 50  # draws below zero go straight through
    assert len(h.output.chunks) == 50


async def test_eof_follows_the_delayed_data(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100))
    h.feed(b"last", None)
    await h.run()
    assert h.output.chunks == [b"last"]
    assert h.output.close_time == pytest.approx(0.1)
    assert h.done


async def test_interrupt_passes_held_chunk_on_undelayed(harness: MakeHarness) -> None:
    h = harness(LatencyToxic(latency=100))
    h.feed(b"a", b"b", b"c")
    await h.advance(0.05)
    await h.interrupt()
    assert h.output.chunks == [b"a"]
    assert h.output.times == pytest.approx([0.05])
    assert [c.data for c in h.input.drain() if c is not None] == [b"b", b"c"]


def test_negative_latency_is_refused_with_400() -> None:
    with pytest.raises(ApiError) as info:
        LatencyToxic.from_attributes({"latency": -1})
    assert info.value.status == 400
    assert info.value.message == "invalid attribute: latency latency must be >= 0, got -1"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"latency": "100"},
            "bad request body: json: cannot unmarshal string into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            {"jitter": 1.5},
            "bad request body: json: cannot unmarshal number 1.5 into Go struct field "
            "LatencyToxic.attributes.jitter of type int64",
        ),
    ],
)
def test_wrong_json_types_fail_like_go(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError) as info:
        LatencyToxic.from_attributes(raw)
    assert (info.value.status, info.value.message) == (400, message)


def test_update_merges_over_existing_values() -> None:
    merged = LatencyToxic.from_attributes(
        {"LATENCY": 1000}, base=LatencyToxic(latency=100, jitter=10)
    )
    assert merged.attributes() == {"latency": 1000, "jitter": 10}
