"""timeout: black hole, silence timer re-armed per chunk, EOF, interrupts, decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.noop import NoopToxic
from chaos.proxy.toxics.timeout import TimeoutToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(30)


def test_registered_and_closes_connections_when_removed() -> None:
    assert TOXICS["timeout"] is TimeoutToxic
    assert TimeoutToxic.closes_on_remove is True
    assert TimeoutToxic(timeout=3).attributes() == {"timeout": 3}


async def test_zero_timeout_black_holes_data_and_never_closes(harness: MakeHarness) -> None:
    h = harness(TimeoutToxic(timeout=0))
    h.feed(b"lost", b"also lost")
    await h.run()
    assert h.output.items == []
    assert h.clock.next_deadline() is None and not h.done


async def test_zero_timeout_passes_eof(harness: MakeHarness) -> None:
    h = harness(TimeoutToxic(timeout=0))
    h.feed(b"lost", None)
    await h.run()
    assert h.output.chunks == [] and h.output.closed and h.done


async def test_closes_after_timeout_without_traffic(harness: MakeHarness) -> None:
    h = harness(TimeoutToxic(timeout=300))
    await h.advance(0.299)
    assert not h.output.closed
    await h.run()
    assert h.output.close_time == pytest.approx(0.3)
    assert h.output.chunks == [] and h.done


async def test_each_chunk_rearms_the_timer_and_is_dropped(harness: MakeHarness) -> None:
    h = harness(TimeoutToxic(timeout=300))
    for _ in range(3):
        await h.advance(0.2)
        h.feed(b"ping")
    await h.run()
    assert h.output.chunks == []
    assert h.output.close_time == pytest.approx(0.6 + 0.3)


async def test_eof_closes_at_once(harness: MakeHarness) -> None:
    h = harness(TimeoutToxic(timeout=300))
    await h.advance(0.1)
    h.feed(None)
    await h.settle()
    assert h.output.close_time == pytest.approx(0.1)
    assert h.done


async def test_interrupt_leaves_the_queue_readable(harness: MakeHarness) -> None:
    # The cancelled inner read must unwind before a new stage waits on the same queue,
    # or the new reader's wake-up is lost and the link hangs.
    h = harness(TimeoutToxic(timeout=300))
    await h.advance(0.1)
    await h.interrupt()
    assert h.output.items == []
    h.start(NoopToxic())
    await h.settle()
    h.feed(b"after", None)
    await h.settle()
    assert h.output.chunks == [b"after"] and h.output.closed


async def test_eof_read_in_the_instant_of_an_interrupt_is_passed_on(harness: MakeHarness) -> None:
    h = harness(TimeoutToxic(timeout=300))
    await h.settle()
    h.feed(None)
    await h.interrupt()  # cancelled before the toxic saw the EOF its read just took
    assert h.output.closed


def test_negative_timeout_is_refused_with_400() -> None:
    with pytest.raises(ApiError) as info:
        TimeoutToxic.from_attributes({"timeout": -1})
    assert (info.value.status, info.value.message) == (
        400,
        "invalid attribute: timeout timeout must be >= 0, got -1",
    )


def test_wrong_json_type_fails_like_go() -> None:
    with pytest.raises(ApiError) as info:
        TimeoutToxic.from_attributes({"Timeout": {"ms": 1}})
    assert info.value.message == (
        "bad request body: json: cannot unmarshal object into Go struct field "
        "TimeoutToxic.attributes.timeout of type int64"
    )
