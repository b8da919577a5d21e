"""bandwidth: rate limiting in 100 ms slices, drift correction, rate 0, interrupts, decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.bandwidth import BandwidthToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(30)


def test_registered_under_its_api_name() -> None:
    assert TOXICS["bandwidth"] is BandwidthToxic
    assert BandwidthToxic().attributes() == {"rate": 0}


async def test_big_chunk_leaves_in_100ms_slices(harness: MakeHarness) -> None:
    data = bytes(range(250)) * 20  # 5000 B at 10 KB/s: 1000 B every 100 ms
    h = harness(BandwidthToxic(rate=10))
    h.feed(data)
    await h.run()
    assert h.output.data == data
    assert [len(c) for c in h.output.chunks] == [1000] * 5
    assert h.output.times == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])


async def test_480kb_at_1000kbs_takes_480ms(harness: MakeHarness) -> None:
    data = b"hello world " * 40_000
    h = harness(BandwidthToxic(rate=1000))
    for i in range(0, len(data), 32 * 1024):
        h.feed(data[i : i + 32 * 1024])
    await h.run()
    assert h.output.data == data
    assert h.output.times[-1] == pytest.approx(0.48)


async def test_small_chunks_queue_behind_each_other(harness: MakeHarness) -> None:
    h = harness(BandwidthToxic(rate=1))  # 1 byte per ms
    h.feed(*[b"0123456789"] * 5)
    await h.run()
    assert h.output.times == pytest.approx([0.01, 0.02, 0.03, 0.04, 0.05])


async def test_idle_time_is_not_credited(harness: MakeHarness) -> None:
    h = harness(BandwidthToxic(rate=10))
    h.feed(b"x" * 1000)
    await h.run()
    await h.advance(5.0)
    h.feed(b"y" * 1000)
    await h.run()
    assert h.output.times == pytest.approx([0.1, 5.2])


async def test_oversleep_is_made_up_on_the_next_slice(harness: MakeHarness) -> None:
    h = harness(BandwidthToxic(rate=10))
    h.feed(b"z" * 2000)
    await h.settle()
    # The loop wakes the first sleep 50 ms late; the second slice keeps the 200 ms schedule.
    h.clock.time += 0.15
    h.clock.fire()
    await h.run()
    assert h.output.times == pytest.approx([0.15, 0.2])


async def test_rate_zero_holds_data_without_spinning_until_interrupted(
    harness: MakeHarness,
) -> None:
    h = harness(BandwidthToxic(rate=0))
    h.feed(b"stuck", b"behind")
    await h.run()
    assert h.output.items == []
    assert h.clock.next_deadline() is None and not h.done  # parked, no timer, no busy loop
    await h.interrupt()
    assert h.output.chunks == [b"stuck"]
    assert [c.data for c in h.input.drain() if c is not None] == [b"behind"]


async def test_rate_zero_still_passes_eof(harness: MakeHarness) -> None:
    h = harness(BandwidthToxic(rate=0))
    h.feed(None)
    await h.run()
    assert h.output.closed and h.done


async def test_interrupt_mid_chunk_passes_the_rest_at_once(harness: MakeHarness) -> None:
    data = bytes(range(256)) * 14  # 3584 B at rate 10: four slices
    h = harness(BandwidthToxic(rate=10))
    h.feed(data)
    await h.advance(0.15)
    await h.interrupt()
    assert [len(c) for c in h.output.chunks] == [1000, 2584]
    assert h.output.data == data


async def test_eof_after_the_last_slice(harness: MakeHarness) -> None:
    h = harness(BandwidthToxic(rate=10))
    h.feed(b"a" * 1500, None)
    await h.run()
    assert h.output.close_time == pytest.approx(0.15)
    assert h.done


def test_negative_rate_is_refused_with_400() -> None:
    # Toxiproxy panics with "slice bounds out of range [:-100]" and the server exits.
    with pytest.raises(ApiError) as info:
        BandwidthToxic.from_attributes({"rate": -1})
    assert (info.value.status, info.value.message) == (
        400,
        "invalid attribute: bandwidth rate must be >= 0, got -1",
    )


@pytest.mark.parametrize(
    ("value", "kind"), [("fast", "string"), (2**63, "number 9223372036854775808"), (True, "bool")]
)
def test_wrong_json_types_fail_like_go(value: object, kind: str) -> None:
    with pytest.raises(ApiError) as info:
        BandwidthToxic.from_attributes({"rate": value})
    assert info.value.message == (
        f"bad request body: json: cannot unmarshal {kind} into Go struct field "
        "BandwidthToxic.attributes.rate of type int64"
    )
