"""Robustness: 1,000 concurrent connections through one proxy while its toxics keep changing.

Every connection sends a random payload in several writes to an echo upstream and checks the
echo by sha256, while latency (with jitter), slicer, bandwidth and noop toxics are added,
updated and removed under them. Nothing may be lost, reordered or stuck, and once every
connection is closed the process holds no more file descriptors than before. Run twice: the
embedded server (uvloop, own thread, changes over the HTTP API) and a ProxyServer on the
test's own asyncio loop (changes through the registry).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import resource
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import httpx
import pytest

from chaos.proxy.runner import EmbeddedServer
from chaos.proxy.server import ProxyRequest, ProxyServer, ToxicRequest
from tests.proxy._echo import echo_handler

pytestmark = pytest.mark.timeout(120)

CONNECTIONS = 1000
MIN_PAYLOAD, MAX_PAYLOAD = 4 * 1024, 64 * 1024
MIN_WRITES, MAX_WRITES = 2, 8
CHANGES_PER_WRITE = 2
MAX_TOXIC_CHANGES = 400
CHANGE_PACE = 0.02
IO_TIMEOUT = 60.0
# Descriptors that may differ from the baseline without a leak: the httpx pool may hold a
# second keep-alive socket to the API (a poll overlapping a change), and uvicorn its server
# side. A proxied connection holds 4 (client, the proxy's two sockets, the echo's), so even
# two leaked connections exceed this.
FD_SLACK = 5


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def raise_fd_limit(needed: int) -> None:
    """Lift the soft RLIMIT_NOFILE to the hard limit if `needed` descriptors would not fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        pytest.skip(f"needs {needed} file descriptors, RLIMIT_NOFILE hard limit is {hard}")


@pytest.fixture
async def echo() -> AsyncIterator[str]:
    server = await asyncio.start_server(echo_handler, "127.0.0.1", 0, backlog=2 * CONNECTIONS)
    yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()
    await server.wait_closed()


class Target(Protocol):
    """Proxy `p` and the operations the test makes on its toxics."""

    port: int

    async def add(self, toxic: dict[str, Any]) -> None: ...

    async def update(self, name: str, attributes: dict[str, int], toxicity: float) -> None: ...

    async def remove(self, name: str) -> None: ...

    async def live(self) -> int:
        """How many connections the proxy carries now."""
        ...


class OverHttp:
    """The embedded server (uvloop, its own thread), driven over its HTTP API."""

    def __init__(self, api: httpx.AsyncClient, port: int) -> None:
        self.api, self.port = api, port

    async def add(self, toxic: dict[str, Any]) -> None:
        r = await self.api.post("/proxies/p/toxics", json=toxic)
        assert r.status_code == 200, r.text

    async def update(self, name: str, attributes: dict[str, int], toxicity: float) -> None:
        body = {"attributes": attributes, "toxicity": toxicity}
        r = await self.api.patch(f"/proxies/p/toxics/{name}", json=body)
        assert r.status_code == 200, r.text

    async def remove(self, name: str) -> None:
        r = await self.api.delete(f"/proxies/p/toxics/{name}")
        assert r.status_code == 204, r.text

    async def live(self) -> int:
        return len((await self.api.get("/proxies/p/connections")).raise_for_status().json())


class InProcess:
    """A ProxyServer on the test's own (asyncio) loop, driven through the registry."""

    def __init__(self, server: ProxyServer, port: int) -> None:
        self.server, self.port = server, port

    async def add(self, toxic: dict[str, Any]) -> None:
        await self.server.add_toxic("p", ToxicRequest(**toxic))

    async def update(self, name: str, attributes: dict[str, int], toxicity: float) -> None:
        await self.server.update_toxic("p", name, attributes, toxicity)

    async def remove(self, name: str) -> None:
        await self.server.remove_toxic("p", name)

    async def live(self) -> int:
        return len(self.server.connections("p"))


@pytest.fixture(params=["embedded-http", "in-process"])
async def target(request: pytest.FixtureRequest, echo: str) -> AsyncIterator[Target]:
    if request.param == "in-process":
        server = ProxyServer(seed=1)
        proxy = await server.create(ProxyRequest(name="p", listen="127.0.0.1:0", upstream=echo))
        yield InProcess(server, int(proxy.listen.rpartition(":")[2]))
        await server.shutdown()
        return
    with EmbeddedServer(seed=1) as embedded:
        async with httpx.AsyncClient(base_url=embedded.url, timeout=30) as api:
            body = {"name": "p", "listen": "127.0.0.1:0", "upstream": echo}
            r = await api.post("/proxies", json=body)
            assert r.status_code == 201, r.text
            yield OverHttp(api, int(r.json()["listen"].rpartition(":")[2]))


class Churn:
    """Adds, updates and removes toxics at random, one change at a time, counting them."""

    # Two latency slots: a chain that holds data in two places at once checks that a
    # rebuild puts it back in order.
    SLOTS = ("latency_a", "latency_b", "slicer", "bandwidth", "noop")

    def __init__(self, target: Target, rng: random.Random) -> None:
        self.target = target
        self.rng = rng
        self.changes = 0
        self.present: set[str] = set()
        self._changed = asyncio.Condition()

    async def after(self, count: int) -> None:
        """Wait until `count` changes have been made in all."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.changes >= count)

    def attributes(self, type_: str) -> dict[str, int]:
        rng = self.rng
        if type_ == "latency":
            # Longer than a change takes, so data is still held when the next one interrupts.
            return {"latency": rng.randint(100, 500), "jitter": rng.randint(0, 100)}
        if type_ == "slicer":
            average = rng.randint(1024, 8192)
            return {
                "average_size": average,
                "size_variation": rng.randint(0, average // 2),
                "delay": rng.randint(0, 100),
            }
        if type_ == "bandwidth":
            return {"rate": rng.randint(50_000, 200_000)}  # KB/s: slows, never starves
        return {}

    async def step(self) -> None:
        rng = self.rng
        slot = rng.choice(self.SLOTS)
        type_ = slot.partition("_")[0]
        stream = rng.choice(["upstream", "downstream"])
        name = f"{slot}_{stream}"
        toxicity = rng.choice([1.0, 1.0, 0.5])
        if name not in self.present:
            toxic = {"name": name, "type": type_, "stream": stream, "toxicity": toxicity}
            await self.target.add({**toxic, "attributes": self.attributes(type_)})
            self.present.add(name)
        elif rng.random() < 0.5:
            await self.target.update(name, self.attributes(type_), toxicity)
        else:
            await self.target.remove(name)
            self.present.discard(name)
        async with self._changed:
            self.changes += 1
            self._changed.notify_all()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set() and self.changes < MAX_TOXIC_CHANGES:
            await self.step()
            # Pacing, not synchronisation: in-process changes are quick enough to all happen
            # before the data moves; latency toxics still hold data when the next one comes.
            await asyncio.sleep(CHANGE_PACE)

    async def clear(self) -> None:
        for name in sorted(self.present):
            await self.target.remove(name)
        self.present.clear()


async def _exchange(
    index: int,
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    payload: bytes,
    writes: int,
    between: Callable[[int], Awaitable[None]],
) -> str | None:
    """Send `payload` in `writes` writes while reading the echo; None if it came back intact.

    `between(n)` is awaited before the n-th write (n >= 1).
    """
    reader, writer = streams

    async def send() -> None:
        step = -(-len(payload) // writes)
        for n, start in enumerate(range(0, len(payload), step)):
            if n:
                await between(n)
            writer.write(payload[start : start + step])
            await writer.drain()

    async def receive() -> tuple[int, bytes]:
        digest, got = hashlib.sha256(), 0
        while got < len(payload) and (data := await reader.read(65536)):
            digest.update(data)
            got += len(data)
        return got, digest.digest()

    try:
        async with asyncio.timeout(IO_TIMEOUT):
            _, (got, digest) = await asyncio.gather(send(), receive())
    except TimeoutError:
        return f"connection {index}: stuck, no full echo of {len(payload)} bytes in {IO_TIMEOUT} s"
    except OSError as exc:
        return f"connection {index}: {exc!r}"
    if got != len(payload):
        return f"connection {index}: EOF after {got} of {len(payload)} bytes"
    if digest != hashlib.sha256(payload).digest():
        return f"connection {index}: {got} bytes came back but their sha256 differs"
    return None


async def _until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    """Poll a state (not a time) until it holds, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        await asyncio.sleep(0.05)


async def test_thousand_connections_survive_toxic_churn(target: Target) -> None:
    raise_fd_limit(4 * CONNECTIONS + 256)
    rng = random.Random(20261122)
    churn = Churn(target, rng)

    async def live_is(count: int) -> bool:
        return await target.live() == count

    # Warm up whatever is created lazily (API keep-alive socket, loop internals) first.
    warm = await asyncio.open_connection("127.0.0.1", target.port)
    await churn.step()
    assert await _exchange(-1, warm, b"warm-up" * 100, 2, lambda n: asyncio.sleep(0)) is None
    await churn.clear()
    warm[1].close()
    await warm[1].wait_closed()
    await _until(lambda: live_is(0), "the warm-up connection did not close")
    baseline = open_fds()

    started = time.monotonic()
    streams = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", target.port) for _ in range(CONNECTIONS))
    )
    await _until(lambda: live_is(CONNECTIONS), "not every connection reached the proxy")
    payloads = [rng.randbytes(rng.randint(MIN_PAYLOAD, MAX_PAYLOAD)) for _ in range(CONNECTIONS)]
    writes = [rng.randint(MIN_WRITES, MAX_WRITES) for _ in range(CONNECTIONS)]
    base = churn.changes

    async def client(i: int) -> str | None:
        # Each write waits for more toxic changes: every connection has data in flight
        # through chains that keep being rebuilt.
        outcome = await _exchange(
            i,
            streams[i],
            payloads[i],
            writes[i],
            lambda n: churn.after(base + CHANGES_PER_WRITE * n),
        )
        if i % 2:  # half leave at once, under the churn; half stay until the end
            streams[i][1].close()
        return outcome

    stop = asyncio.Event()
    churning = asyncio.create_task(churn.run(stop))
    try:
        outcomes = await asyncio.gather(*(client(i) for i in range(CONNECTIONS)))
    finally:
        stop.set()
        await churning
    await churn.clear()
    failures = [o for o in outcomes if o is not None]
    assert not failures, f"{len(failures)} of {CONNECTIONS} failed: {failures[:10]}"

    for _, writer in streams:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in streams), return_exceptions=True)
    await _until(lambda: live_is(0), "the proxy did not close every connection")

    async def fds_back() -> bool:
        return open_fds() <= baseline + FD_SLACK

    await _until(fds_back, f"open fds did not come back to {baseline} (+{FD_SLACK})")
    total = sum(map(len, payloads))
    print(
        f"\n{CONNECTIONS} connections, {total / 1e6:.1f} MB echoed, {churn.changes} toxic "
        f"changes in {time.monotonic() - started:.1f} s; open fds {baseline} -> {open_fds()}"
    )
