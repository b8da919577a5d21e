"""reset_peer: idle untouched, reset `timeout` after first data or EOF, interrupts, decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.reset_peer import ResetToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(30)


def test_registered_under_its_api_name() -> None:
    assert TOXICS["reset_peer"] is ResetToxic
    assert ResetToxic(timeout=2).attributes() == {"timeout": 2}


async def test_idle_connection_is_left_alone(harness: MakeHarness) -> None:
    h = harness(ResetToxic(timeout=100))
    await h.advance(60.0)
    assert h.link.resets == 0 and h.output.items == [] and not h.done


@pytest.mark.parametrize("first", [b"hello", None], ids=["data", "eof"])
async def test_resets_timeout_after_the_first_item(
    harness: MakeHarness, first: bytes | None
) -> None:
    h = harness(ResetToxic(timeout=500))
    await h.advance(1.0)
    h.feed(first)
    await h.advance(0.499)
    assert h.link.resets == 0
    await h.advance(0.002)
    assert h.link.resets == 1 and h.done
    assert h.output.items == []  # what was read is discarded with the connection


async def test_zero_timeout_resets_on_first_data(harness: MakeHarness) -> None:
    h = harness(ResetToxic(timeout=0))
    h.feed(b"x")
    await h.settle()
    assert h.link.resets == 1 and h.clock.sleeps == []


async def test_interrupt_while_waiting_passes_the_chunk_on(harness: MakeHarness) -> None:
    h = harness(ResetToxic(timeout=500))
    h.feed(b"first", b"second")
    await h.advance(0.2)
    await h.interrupt()
    assert h.link.resets == 0
    assert h.output.chunks == [b"first"]
    assert [c.data for c in h.input.drain() if c is not None] == [b"second"]


async def test_interrupt_while_waiting_after_eof_passes_the_eof_on(harness: MakeHarness) -> None:
    h = harness(ResetToxic(timeout=500))
    h.feed(None)
    await h.advance(0.2)
    await h.interrupt()
    assert h.link.resets == 0 and h.output.closed


def test_negative_timeout_is_refused_with_400() -> None:
    with pytest.raises(ApiError) as info:
        ResetToxic.from_attributes({"timeout": -10})
    assert (info.value.status, info.value.message) == (
        400,
        "invalid attribute: reset_peer timeout must be >= 0, got -10",
    )


def test_wrong_json_type_fails_like_go() -> None:
    with pytest.raises(ApiError) as info:
        ResetToxic.from_attributes({"timeout": "10"})
    assert info.value.message == (
        "bad request body: json: cannot unmarshal string into Go struct field "
        "ResetToxic.attributes.timeout of type int64"
    )
