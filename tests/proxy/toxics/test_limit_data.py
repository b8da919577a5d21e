"""limit_data: truncation at the limit, close, zero limit, state across interrupts, decoding."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.limit_data import LimitDataState, LimitDataToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(30)


def test_registered_under_its_api_name() -> None:
    assert TOXICS["limit_data"] is LimitDataToxic
    assert LimitDataToxic(bytes=5).attributes() == {"bytes": 5}
    assert LimitDataToxic().new_state() == LimitDataState(passed=0)


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([50], [50]),
        ([100], [100]),
        ([150], [100]),
        ([25, 25, 25, 25], [25, 25, 25, 25]),
        ([90, 20], [90, 10]),
    ],
)
async def test_passes_at_most_the_limit_then_closes(
    harness: MakeHarness, sizes: list[int], expected: list[int]
) -> None:
    chunks = [os.urandom(n) for n in sizes]
    h = harness(LimitDataToxic(bytes=100))
    h.feed(*chunks)
    await h.settle()
    assert [len(c) for c in h.output.chunks] == expected
    assert h.output.data == b"".join(chunks)[:100]
    assert h.output.closed == (sum(sizes) >= 100)
    assert h.done == (sum(sizes) >= 100)


async def test_three_then_five_bytes_with_limit_five(harness: MakeHarness) -> None:
    h = harness(LimitDataToxic(bytes=5))
    h.feed(b"abc", b"defgh", b"never")
    await h.settle()
    assert h.output.chunks == [b"abc", b"de"] and h.output.closed


async def test_zero_limit_closes_on_first_data(harness: MakeHarness) -> None:
    h = harness(LimitDataToxic(bytes=0))
    await h.settle()
    assert not h.output.closed
    h.feed(b"x" * 100)
    await h.settle()
    assert h.output.chunks == [] and h.output.closed and h.done


async def test_eof_before_the_limit_closes(harness: MakeHarness) -> None:
    h = harness(LimitDataToxic(bytes=100))
    h.feed(b"short", None)
    await h.settle()
    assert h.output.chunks == [b"short"] and h.output.closed


async def test_count_survives_an_interrupt(harness: MakeHarness) -> None:
    h = harness(LimitDataToxic(bytes=100))
    h.feed(os.urandom(90))
    await h.settle()
    await h.interrupt()
    h.start(LimitDataToxic(bytes=100))  # same stub, same state: an updated toxic
    second = os.urandom(20)
    h.feed(second)
    await h.settle()
    assert [len(c) for c in h.output.chunks] == [90, 10]
    assert h.output.chunks[1] == second[:10] and h.output.closed


async def test_lowering_the_limit_below_what_passed_closes_on_next_data(
    harness: MakeHarness,
) -> None:
    h = harness(LimitDataToxic(bytes=100))
    h.feed(b"a" * 50)
    await h.settle()
    await h.interrupt()
    h.start(LimitDataToxic(bytes=10))
    await h.settle()
    assert not h.output.closed
    h.feed(b"more")
    await h.settle()
    assert h.output.chunks == [b"a" * 50] and h.output.closed


def test_negative_limit_is_refused_with_400() -> None:
    with pytest.raises(ApiError) as info:
        LimitDataToxic.from_attributes({"bytes": -1})
    assert (info.value.status, info.value.message) == (
        400,
        "invalid attribute: limit_data bytes must be >= 0, got -1",
    )


def test_wrong_json_type_fails_like_go() -> None:
    with pytest.raises(ApiError) as info:
        LimitDataToxic.from_attributes({"bytes": 2.5})
    assert info.value.message == (
        "bad request body: json: cannot unmarshal number 2.5 into Go struct field "
        "LimitDataToxic.attributes.bytes of type int64"
    )
