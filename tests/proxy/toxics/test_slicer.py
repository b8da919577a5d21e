"""slicer: Toxiproxy's halving, slice counts and sizes, pauses, interrupts, validation."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, strategies as st

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.slicer import SlicerToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(60)


def test_registered_under_its_api_name() -> None:
    assert TOXICS["slicer"] is SlicerToxic
    assert SlicerToxic(average_size=4, delay=9).attributes() == {
        "average_size": 4,
        "size_variation": 0,
        "delay": 9,
    }


async def test_halves_100_bytes_into_16_slices_20ms_apart(harness: MakeHarness) -> None:
    data = bytes(range(100))
    h = harness(SlicerToxic(average_size=10, size_variation=0, delay=20_000))
    h.feed(data)
    await h.run()
    assert h.output.data == data
    assert [len(c) for c in h.output.chunks] == [6, 6, 6, 7, 6, 6, 6, 7] * 2
    assert h.output.times == pytest.approx([i * 0.02 for i in range(16)])


async def test_average_one_gives_one_byte_slices(harness: MakeHarness) -> None:
    data = b"hello world, twenty-four"
    h = harness(SlicerToxic(average_size=1, delay=10))
    h.feed(data)
    await h.run()
    assert h.output.chunks == [bytes([b]) for b in data]


async def test_480kb_gives_about_480_slices(harness: MakeHarness) -> None:
    data = b"hello world " * 40_000
    h = harness(SlicerToxic(average_size=1024, size_variation=512, delay=10))
    h.feed(data)
    await h.run()
    assert h.output.data == data
    sizes = [len(c) for c in h.output.chunks]
    assert 240 <= len(sizes) <= 720
    assert min(sizes) > 0 and max(sizes) <= 1024 + 512


@given(
    average=st.integers(1, 64),
    variation_share=st.floats(0, 1.0),
    size=st.integers(0, 5000),
    seed=st.integers(0, 2**32),
)
def test_cuts_cover_the_chunk_in_order_within_bounds(
    average: int, variation_share: float, size: int, seed: int
) -> None:
    variation = int(average * variation_share)
    toxic = SlicerToxic(average_size=average, size_variation=variation)
    cuts = toxic.cuts(0, size, random.Random(seed))
    if size == 0:
        assert cuts == [0]
        return
    assert cuts[-1] == size
    starts = [0, *cuts[:-1]]
    lengths = [end - start for start, end in zip(starts, cuts, strict=True)]
    assert all(0 < n <= average + variation for n in lengths), lengths


async def test_zero_delay_never_sleeps(harness: MakeHarness) -> None:
    h = harness(SlicerToxic(average_size=3))
    h.feed(b"abcdefghijkl", None)
    await h.settle()
    assert h.output.data == b"abcdefghijkl" and len(h.output.chunks) > 1
    assert h.clock.sleeps == [] and h.output.closed and h.done


async def test_interrupt_between_slices_sends_the_rest_in_one_piece(harness: MakeHarness) -> None:
    data = bytes(range(100))
    h = harness(SlicerToxic(average_size=10, delay=20_000))
    h.feed(data, b"next")
    await h.advance(0.05)
    await h.interrupt()
    assert [len(c) for c in h.output.chunks] == [6, 6, 6, 100 - 18]
    assert h.output.data == data
    assert [c.data for c in h.input.drain() if c is not None] == [b"next"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {},
            "invalid attribute: slicer average_size must be > 0, got 0"
            " (hint: the size in bytes slices should average, e.g. 1024)",
        ),
        (
            {"average_size": 10, "size_variation": 11},
            "invalid attribute: slicer size_variation must be <= average_size, "
            "got size_variation 11 with average_size 10 (hint: use at most average_size)",
        ),
        ({"average_size": -1}, "invalid attribute: slicer average_size must be >= 0, got -1"),
    ],
)
def test_values_that_would_kill_the_server_are_refused_with_400(
    raw: dict[str, Any], message: str
) -> None:
    with pytest.raises(ApiError) as info:
        SlicerToxic.from_attributes(raw)
    assert (info.value.status, info.value.message) == (400, message)


def test_constructor_refuses_a_slicer_that_would_recurse_forever() -> None:
    with pytest.raises(ApiError, match="average_size must be > 0"):
        SlicerToxic()


def test_update_is_validated_after_merging() -> None:
    base = SlicerToxic(average_size=10, size_variation=5)
    with pytest.raises(ApiError, match="size_variation must be <= average_size"):
        SlicerToxic.from_attributes({"average_size": 4}, base=base)


async def test_variation_equal_to_average_is_valid_and_slices_intact(
    harness: MakeHarness,
) -> None:
    # toxiproxy-node-client's suite adds exactly this slicer; Toxiproxy accepts and runs it.
    toxic = SlicerToxic.from_attributes({"average_size": 1000, "size_variation": 1000})
    data = bytes(range(256)) * 200
    h = harness(toxic)
    h.feed(data, None)
    await h.run()
    assert h.output.data == data
    sizes = [len(c) for c in h.output.chunks]
    assert len(sizes) > 1 and min(sizes) > 0 and max(sizes) <= 2000


def test_wrong_json_type_fails_like_go_with_go_int() -> None:
    with pytest.raises(ApiError) as info:
        SlicerToxic.from_attributes({"average_size": "big"})
    assert info.value.message == (
        "bad request body: json: cannot unmarshal string into Go struct field "
        "SlicerToxic.attributes.average_size of type int"
    )
