"""Link: rebuilding a chain under live data, toxicity rolls, and a cancelled link."""

from __future__ import annotations

import asyncio
import random

import pytest

from chaos.proxy.collection import ToxicCollection, ToxicSpec
from chaos.proxy.flow import Flow
from chaos.proxy.link import Link
from chaos.proxy.stream import Chunk
from chaos.proxy.stub import Stub
from chaos.proxy.toxics import Toxic

pytestmark = pytest.mark.timeout(30)


class Sink:
    """The destination: records every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return False


def hold(name: str) -> ToxicSpec:
    """A toxic that keeps the first chunk it reads until interrupted (bandwidth rate 0)."""
    return ToxicCollection.build("bandwidth", "downstream", name, None, {"rate": 0})


def new_link(sink: Sink) -> Link:
    return Link("downstream", Flow(), sink, lambda: None, lambda: None, random.Random(1))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_rebuilds_put_data_back_in_order_never_through_a_toxic_twice() -> None:
    sink = Sink()
    link = new_link(sink)
    a, b = hold("a"), hold("b")
    link.start((a, b))
    link.feed(b"1")
    link.feed(b"2")
    link.feed(b"3")
    await settle()  # a holds 1; 2 and 3 wait before a
    await link.update((a, b))  # interrupted, a passes 1 on to b and takes 2
    link.feed(b"4")
    await settle()
    assert sink.writes == []  # b holds 1, a holds 2, 3 and 4 wait before a
    # Interrupted, b releases 1 and a passes 2 on to b; 3 and 4, queued before the removed a,
    # must go in behind 2 (the older data), not ahead of it.
    await link.update((b,))
    await settle()
    assert sink.writes == [b"1"]
    await link.update(())
    assert b"".join(sink.writes) == b"1234"


async def test_caller_rolls_decide_which_toxics_run() -> None:
    link = new_link(Sink())
    link.start(())
    await link.update((hold("a"), hold("b")), active=(False, True))
    assert [active for _, _, active in link.applied] == [False, True]
    with pytest.raises(ValueError, match="1 toxicity rolls for a chain of 2 toxics"):
        await link.update((hold("a"), hold("b")), active=(True,))
    link.cancel()


async def test_no_chain_is_built_on_a_link_cancelled_during_an_update() -> None:
    link = new_link(Sink())
    link.start((hold("a"),))
    link.feed(b"x")
    await settle()
    updating = asyncio.create_task(link.update((hold("a"), hold("b"))))
    await asyncio.sleep(0)  # the update has cancelled a and waits for it to stop
    link.cancel()  # the connection closes meanwhile
    await updating
    await settle()
    others = asyncio.all_tasks() - {asyncio.current_task()}
    assert not others, f"toxic tasks left waiting on a dead link: {others}"


class Inline(Toxic):
    """Handles chunks at once unless told to defer; `pipe` marks what it handled late."""

    type = "inline-test"

    def __init__(self, defer: set[bytes]) -> None:
        self.defer = defer
        self.inlined: list[bytes] = []

    def inline(self, stub: Stub, chunk: Chunk) -> bool:
        if chunk.data in self.defer:
            return False
        self.inlined.append(chunk.data)
        stub.send(chunk)
        return True

    async def pipe(self, stub: Stub) -> None:
        while (chunk := await stub.read()) is not None:
            stub.send(Chunk(chunk.data.upper(), chunk.timestamp))
        stub.close()


async def test_the_first_toxic_may_handle_chunks_inline_but_never_overtakes() -> None:
    sink, toxic = Sink(), Inline(defer={b"b"})
    link = new_link(sink)
    link.start((ToxicSpec("i", "downstream", "downstream", 1.0, toxic),))
    link.feed(b"a")  # inline: written before feed returns
    assert sink.writes == [b"a"]
    link.feed(b"b")  # deferred to the task...
    link.feed(b"c")  # ...so c queues behind it instead of going first
    await settle()
    assert sink.writes == [b"a", b"B", b"C"]
    assert toxic.inlined == [b"a"]
    await link.update(())  # without the toxic, no inline path is left
    link.feed(b"d")
    assert sink.writes[-1] == b"d" and toxic.inlined == [b"a"]


async def test_a_toxic_whose_roll_failed_is_not_run_inline() -> None:
    sink, toxic = Sink(), Inline(defer=set())
    link = new_link(sink)
    spec = ToxicSpec("i", "downstream", "downstream", 1.0, toxic)
    await link.update((spec,), active=(False,))
    link.feed(b"x")
    await settle()
    assert sink.writes == [b"x"] and toxic.inlined == []
    link.cancel()
