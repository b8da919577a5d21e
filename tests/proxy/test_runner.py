"""The server as it runs: uvicorn's settings, and `-seed` reproducibility over the real API."""

from __future__ import annotations

import random
import socket
from typing import Any

import httpx
import pytest
import uvicorn

from chaos.proxy import runner
from chaos.proxy.runner import EmbeddedServer
from chaos.proxy.toxics.latency import LatencyToxic

pytestmark = pytest.mark.timeout(60)


def test_api_keeps_idle_connections_as_long_as_toxiproxy(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[uvicorn.Config] = []

    class Recording(uvicorn.Config):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(runner.uvicorn, "Config", Recording)
    with EmbeddedServer():
        pass
    (config,) = made
    assert config.timeout_keep_alive == 60  # Go's IdleTimeout (contract 0.8)


def _rolls(api: httpx.Client) -> list[list[bool]]:
    """Per live connection (oldest first): the toxicity roll of every toxic, both streams."""
    conns = api.get("/proxies/p/connections").raise_for_status().json()
    return [
        [t["active"] for stream in ("upstream", "downstream") for t in c["toxics"][stream]]
        for c in conns
    ]


def _run(seed: int, upstream: str, delays: list[float], count: int = 12) -> list[list[bool]]:
    """One fixed sequence of operations against a fresh server seeded with `seed`."""
    rolls: list[list[bool]] = []
    with EmbeddedServer(seed=seed) as server, httpx.Client(base_url=server.url) as api:
        api.post("/proxies", json={"name": "p", "listen": "127.0.0.1:0", "upstream": upstream})
        for body in (
            {"type": "latency", "stream": "upstream", "toxicity": 0.5, "attributes": {"jitter": 2}},
            {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 1, "jitter": 2}},
            {"type": "noop", "toxicity": 0.5},
        ):
            api.post("/proxies/p/toxics", json=body).raise_for_status()
        port = int(api.get("/proxies/p").json()["listen"].rpartition(":")[2])
        kept: list[socket.socket] = []
        try:
            for i in range(count):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                kept.append(sock)
                # One chunk each way, in turn: the jitter draws happen in a fixed order.
                sock.sendall(b"%08d" % i)
                got = b""
                while len(got) < 8:
                    got += sock.recv(8 - len(got)) or b"!" * 8
                assert got == b"%08d" % i
            rolls = _rolls(api)
            assert len(rolls) == count
            # An update restarts the toxic on every live link: a fresh roll each.
            api.patch("/proxies/p/toxics/noop_downstream", json={"toxicity": 0.5})
            rolls += _rolls(api)
        finally:
            for sock in kept:
                sock.close()
    assert len(delays) > 0  # some latency toxic was active, so jitter was drawn
    return rolls


def test_seed_makes_rolls_and_jitter_reproducible(
    threaded_echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []
    draw = LatencyToxic.delay

    def spy(self: LatencyToxic, rng: random.Random) -> float:
        delays.append(value := draw(self, rng))
        return value

    monkeypatch.setattr(LatencyToxic, "delay", spy)
    runs: dict[str, tuple[list[list[bool]], list[float]]] = {}
    for label, seed in (("first", 5), ("again", 5), ("other", 6)):
        delays.clear()
        runs[label] = (_run(seed, threaded_echo, delays), list(delays))
    assert runs["first"] == runs["again"]
    rolls, jitter = runs["first"]
    flat = [roll for conn in rolls for roll in conn]
    assert True in flat and False in flat  # toxicity 0.5 really rolls
    assert len(set(jitter)) > 1  # and jitter really varies
    other_rolls, other_jitter = runs["other"]
    assert other_rolls != rolls and other_jitter != jitter
