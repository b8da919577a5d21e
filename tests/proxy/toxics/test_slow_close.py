"""slow_close: data untouched, EOF delayed, interrupt passes the EOF on, decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chaos.proxy.errors import ApiError
from chaos.proxy.toxics import TOXICS
from chaos.proxy.toxics.slow_close import SlowCloseToxic

if TYPE_CHECKING:
    from conftest import MakeHarness

pytestmark = pytest.mark.timeout(30)


def test_registered_under_its_api_name() -> None:
    assert TOXICS["slow_close"] is SlowCloseToxic
    assert SlowCloseToxic(delay=3).attributes() == {"delay": 3}


async def test_data_passes_at_once_and_eof_waits_delay(harness: MakeHarness) -> None:
    h = harness(SlowCloseToxic(delay=400))
    h.feed(b"a", b"b")
    await h.settle()
    assert h.output.chunks == [b"a", b"b"]
    assert h.output.times == [0.0, 0.0]
    await h.advance(1.0)
    h.feed(None)
    await h.advance(0.399)
    assert not h.output.closed
    await h.run()
    assert h.output.close_time == pytest.approx(1.4)
    assert h.done


async def test_zero_delay_closes_at_once(harness: MakeHarness) -> None:
    h = harness(SlowCloseToxic(delay=0))
    h.feed(b"x", None)
    await h.settle()
    assert h.output.closed and h.done
    assert h.clock.sleeps == []


async def test_interrupt_while_delaying_passes_the_eof_on(harness: MakeHarness) -> None:
    h = harness(SlowCloseToxic(delay=400))
    h.feed(b"x", None)
    await h.advance(0.1)
    assert not h.output.closed
    await h.interrupt()
    assert h.output.closed
    assert h.output.close_time == pytest.approx(0.1)


async def test_interrupt_while_reading_sends_nothing(harness: MakeHarness) -> None:
    h = harness(SlowCloseToxic(delay=400))
    await h.settle()
    await h.interrupt()
    assert h.output.items == []


def test_negative_delay_is_refused_with_400() -> None:
    with pytest.raises(ApiError) as info:
        SlowCloseToxic.from_attributes({"delay": -400})
    assert (info.value.status, info.value.message) == (
        400,
        "invalid attribute: slow_close delay must be >= 0, got -400",
    )


def test_wrong_json_type_fails_like_go() -> None:
    with pytest.raises(ApiError) as info:
        SlowCloseToxic.from_attributes({"delay": [1]})
    assert info.value.message == (
        "bad request body: json: cannot unmarshal array into Go struct field "
        "SlowCloseToxic.attributes.delay of type int64"
    )
