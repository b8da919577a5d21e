"""Harness for toxic unit tests: a virtual clock and a stub wired to a queue and a recorder.

Toxics run on virtual time: `FakeClock.sleep` parks until the harness moves time past its
deadline, and `Harness.run` jumps time to the next deadline whenever every task is stuck, so
a 10 s latency test takes microseconds and no test ever sleeps on real time.

`live_proxy` is the real thing for the `*_timing.py` tests: an echo server on a free loopback
port behind an in-process `Proxy`, on the test's own event loop, all stopped afterwards;
`http_proxy` is the same in front of a real HTTP/1.1 server (see `http_kit`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chaos.proxy.collection import ToxicCollection
from chaos.proxy.proxy import Proxy
from chaos.proxy.stream import EOF, Chunk, ChunkQueue
from chaos.proxy.stub import Stub
from chaos.proxy.toxics import Toxic
from tests.proxy.toxics.http_kit import HttpClient, HttpUpstream

START = 1000.0
# Loop turns that let every ready task run to its next real wait (the toxics need a handful).
SETTLE_TURNS = 50
# More timer wake-ups than any test needs: hitting it means a toxic keeps waking up (spins).
MAX_WAKEUPS = 200_000


class FakeClock:
    """Virtual time; every requested sleep is recorded in `sleeps` (seconds)."""

    def __init__(self, start: float = START) -> None:
        self.time = start
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self.time + max(seconds, 0.0)
        heapq.heappush(self._timers, (deadline, next(self._order), future))
        await future

    def next_deadline(self) -> float | None:
        """Earliest deadline of a sleeper still waiting (cancelled sleeps are skipped)."""
        while self._timers and self._timers[0][2].done():
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire(self) -> None:
        """Wake every sleeper whose deadline has come."""
        while (deadline := self.next_deadline()) is not None and deadline <= self.time:
            heapq.heappop(self._timers)[2].set_result(None)


class Recorder:
    """The stub's outlet: what was sent, and the virtual time it was sent at."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.items: list[tuple[float, Chunk | None]] = []

    def put(self, item: Chunk | None) -> None:
        self.items.append((self.clock.now(), item))

    @property
    def chunks(self) -> list[bytes]:
        return [item.data for _, item in self.items if item is not None]

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def times(self) -> list[float]:
        """Virtual send time of each data chunk, relative to the harness start."""
        return [at - START for at, item in self.items if item is not None]

    @property
    def closed(self) -> bool:
        return any(item is None for _, item in self.items)

    @property
    def close_time(self) -> float:
        """Virtual time the EOF was sent at, relative to the harness start."""
        return next(at - START for at, item in self.items if item is None)


class FakeLink:
    """Counts resets asked for by a toxic."""

    def __init__(self) -> None:
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1


class Harness:
    """Runs one toxic's `pipe` on a stub fed by hand, on virtual time."""

    def __init__(
        self,
        toxic: Toxic,
        seed: int = 7,
        clock: FakeClock | None = None,
        rng: random.Random | None = None,
        shared: dict[Any, Any] | None = None,
        midway: bool = False,
    ) -> None:
        self.toxic = toxic
        self.clock = clock or FakeClock()
        self.input = ChunkQueue()
        self.output = Recorder(self.clock)
        self.link = FakeLink()
        rng = rng or random.Random(seed)
        state = toxic.new_state(midway=midway)
        self.stub = Stub(self.input, self.output, self.link, rng, self.clock, state, shared)
        self.task: asyncio.Task[None] | None = None

    def start(self, toxic: Toxic | None = None) -> None:
        """Start (or, after an interrupt, restart) pipe on the same stub and state."""
        if toxic is not None:
            self.toxic = toxic
        self.task = asyncio.create_task(self.toxic.pipe(self.stub))

    def feed(self, *items: bytes | None) -> None:
        """Queue data (stamped now) or EOF (None) as the toxic's input."""
        for item in items:
            self.input.put(EOF if item is None else Chunk(item, self.clock.now()))

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    async def settle(self) -> None:
        for _ in range(SETTLE_TURNS):
            await asyncio.sleep(0)
        if self.task is not None and self.task.done() and not self.task.cancelled():
            self.task.result()  # surface a toxic's crash in the test that caused it

    async def advance(self, seconds: float) -> None:
        """Move virtual time forward by `seconds`, waking sleepers in deadline order."""
        end = self.clock.time + seconds
        await self.settle()
        for _ in range(MAX_WAKEUPS):
            deadline = self.clock.next_deadline()
            if deadline is None or deadline > end:
                break
            self.clock.time = max(self.clock.time, deadline)
            self.clock.fire()
            await self.settle()
        else:
            raise AssertionError(f"{self.toxic!r} woke up {MAX_WAKEUPS} times: busy loop?")
        self.clock.time = end
        await self.settle()

    async def run(self, limit: float = 3600.0) -> None:
        """Let the toxic work until it ends, or no timer is left, or `limit` virtual seconds."""
        end = self.clock.time + limit
        await self.settle()
        for _ in range(MAX_WAKEUPS):
            deadline = self.clock.next_deadline()
            if self.done or deadline is None or deadline > end:
                return
            self.clock.time = max(self.clock.time, deadline)
            self.clock.fire()
            await self.settle()
        raise AssertionError(f"{self.toxic!r} woke up {MAX_WAKEUPS} times: busy loop?")

    async def interrupt(self) -> None:
        """Cancel pipe as the link does; the toxic must let the cancellation through."""
        assert self.task is not None
        self.task.cancel()
        await asyncio.wait((self.task,))
        assert self.task.cancelled(), f"{self.toxic!r} swallowed its interrupt"


MakeHarness = Callable[..., Harness]
"""The `harness` fixture: `harness(toxic, seed=7)` -> a started Harness."""


@pytest.fixture
async def harness() -> AsyncIterator[MakeHarness]:
    """Factory of started harnesses; every toxic task still running is cancelled afterwards."""
    made: list[Harness] = []

    def make(toxic: Toxic, seed: int = 7) -> Harness:
        h = Harness(toxic, seed)
        h.start()
        made.append(h)
        return h

    yield make
    for h in made:
        if h.task is not None and not h.task.done():
            h.task.cancel()
            await asyncio.wait((h.task,))


class PairHarness:
    """Both halves of an HTTP toxic on one connection, on one virtual clock.

    `requests` is the upstream link's half (fed what the client sends, outputs what reaches
    the server), `responses` the downstream one's (fed what the server sends). `midway`: the
    toxic joins a connection that has carried bytes already.
    """

    def __init__(
        self, toxic: Toxic, seed: int = 7, toxicity: float = 1.0, midway: bool = False
    ) -> None:
        clock, rng, self.shared = FakeClock(), random.Random(seed), {}
        self.toxic = toxic
        self.requests, self.responses = (
            Harness(
                toxic.on_link(stream, toxicity, 1),
                clock=clock,
                rng=rng,
                shared=self.shared,
                midway=midway,
            )
            for stream in ("upstream", "downstream")
        )
        self.clock = clock

    def start(self) -> None:
        self.requests.start()
        self.responses.start()

    async def settle(self) -> None:
        await self.requests.settle()
        await self.responses.settle()

    async def advance(self, seconds: float) -> None:
        await self.requests.advance(seconds)
        await self.settle()

    async def interrupt(self) -> None:
        """Cancel both halves as the links do when a toxic changes; restart with `start`."""
        await self.requests.interrupt()
        await self.responses.interrupt()


MakePair = Callable[..., PairHarness]
"""The `pair` fixture: `pair(toxic, seed=7, toxicity=1.0, midway=False)` -> a started
PairHarness."""


@pytest.fixture
async def pair() -> AsyncIterator[MakePair]:
    """Factory of started pair harnesses; their tasks are cancelled afterwards."""
    made: list[PairHarness] = []

    def make(
        toxic: Toxic, seed: int = 7, toxicity: float = 1.0, midway: bool = False
    ) -> PairHarness:
        p = PairHarness(toxic, seed, toxicity, midway)
        p.start()
        made.append(p)
        return p

    yield make
    for p in made:
        for h in (p.requests, p.responses):
            if h.task is not None and not h.task.done():
                h.task.cancel()
                await asyncio.wait((h.task,))


class LiveProxy:
    """An echo upstream behind a real proxy; connections are tracked and closed on teardown."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.writers: list[asyncio.StreamWriter] = []

    async def add(self, type_: str, stream: str = "downstream", **attributes: Any) -> str:
        """Add a toxic (named `<type>_<stream>`) to every live and future connection."""
        spec = ToxicCollection.build(
            type_, stream, None, None, attributes, self.proxy.toxics.names()
        )
        await self.proxy.toxics.add(spec)
        return spec.name

    async def remove(self, name: str) -> None:
        await self.proxy.toxics.remove(name)

    def received(self, stream: str = "downstream") -> int:
        """Bytes the proxy's links in `stream` have read from their source (held or not)."""
        return sum(c.links[stream].received_bytes for c in self.proxy.connections if c.links)

    def sent(self, stream: str = "downstream") -> int:
        """Bytes the proxy's links in `stream` have written to their destination."""
        return sum(c.links[stream].sent_bytes for c in self.proxy.connections if c.links)

    async def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll `condition` (a state of the proxy, not a time) until true or fail."""
        deadline = time.perf_counter() + timeout
        while not condition():
            assert time.perf_counter() < deadline, f"condition not met within {timeout} s"
            await asyncio.sleep(0.005)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, _, port = self.proxy.listen.rpartition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        self.writers.append(writer)
        return reader, writer

    async def close(self) -> None:
        """Close the test's client connections, then stop the proxy."""
        for writer in self.writers:
            writer.close()
        await self.proxy.stop()

    async def echo(self, data: bytes, timeout: float = 10.0) -> float:
        """Send `data` on a new connection; seconds until all of it came back."""
        reader, writer = await self.connect()
        start = time.perf_counter()
        writer.write(data)
        got = await asyncio.wait_for(reader.readexactly(len(data)), timeout)
        elapsed = time.perf_counter() - start
        assert got == data
        return elapsed


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # the proxy reset us (reset_peer): nothing left to echo to
    finally:
        writer.close()


@pytest.fixture
async def live_proxy() -> AsyncIterator[LiveProxy]:
    """A started proxy on a free port in front of an echo server; both stopped afterwards."""
    upstream = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    proxy = Proxy("echo", "127.0.0.1:0", f"127.0.0.1:{port}", rng=random.Random(7))
    await proxy.start()
    live = LiveProxy(proxy)
    try:
        yield live
    finally:
        await live.close()
        upstream.close()
        await upstream.wait_closed()


class HttpProxy(LiveProxy):
    """A real proxy in front of `HttpUpstream`, with HTTP clients."""

    def __init__(self, proxy: Proxy, upstream: HttpUpstream) -> None:
        super().__init__(proxy)
        self.upstream = upstream

    async def client(self) -> HttpClient:
        return HttpClient(*await self.connect())


@pytest.fixture
async def http_proxy() -> AsyncIterator[HttpProxy]:
    """A started proxy (seeded rolls) in front of an HTTP upstream; both stopped afterwards."""
    upstream = HttpUpstream()
    await upstream.start()
    proxy = Proxy("web", "127.0.0.1:0", upstream.address, rng=random.Random(7))
    await proxy.start()
    live = HttpProxy(proxy, upstream)
    try:
        yield live
    finally:
        await live.close()
        await upstream.stop()
