"""ProxyServer as a library: the registry's semantics without HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chaos.proxy.errors import ApiError, ProxyNotFound
from chaos.proxy.server import ProxyRequest, ProxyServer, ToxicRequest

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def server() -> AsyncIterator[ProxyServer]:
    srv = ProxyServer(seed=3)
    yield srv
    await srv.shutdown()


def req(name: str, **kw: object) -> ProxyRequest:
    return ProxyRequest(name=name, listen="127.0.0.1:0", upstream="127.0.0.1:9", **kw)  # type: ignore[arg-type]


async def test_create_get_delete(server: ProxyServer) -> None:
    proxy = await server.create(req("a"))
    assert server.get("a") is proxy and proxy.enabled
    await server.delete("a")
    with pytest.raises(ApiError) as info:
        server.get("a")
    assert info.value == ProxyNotFound


async def test_empty_listen_binds_all_interfaces_on_create_and_update(server: ProxyServer) -> None:
    made = await server.create(ProxyRequest(name="e", listen="", upstream="127.0.0.1:9"))
    assert made.enabled and made.listen.startswith("[::]:")
    await server.create(req("a"))
    moved = await server.update("a", listen="")
    assert moved.enabled and moved.listen.startswith("[::]:")


async def test_every_proxy_shares_the_seeded_rng(server: ProxyServer) -> None:
    a = await server.create(req("a"))
    b = await server.create(req("b", enabled=False))
    assert a.rng is server.rng and b.rng is server.rng


def test_seed_makes_rolls_reproducible() -> None:
    first = [ProxyServer(seed=42).rng.random() for _ in range(3)]
    again = [ProxyServer(seed=42).rng.random() for _ in range(3)]
    assert first == again
    assert ProxyServer(seed=43).rng.random() != first[0]


async def test_create_with_toxics_validates_all_first(server: ProxyServer) -> None:
    bad = req("t", toxics=(ToxicRequest(type="noop"), ToxicRequest(type="latency", stream="?")))
    with pytest.raises(ApiError, match="stream was invalid"):
        await server.create(bad)
    assert server.proxies == {}
    good = req("t", toxics=(ToxicRequest(type="noop", name="n", toxicity=0.5),))
    proxy = await server.create(good)
    assert [(s.name, s.toxicity) for s in proxy.toxics.all()] == [("n", 0.5)]


async def test_concurrent_mutations_are_serialised(server: ProxyServer) -> None:
    names = [f"p{i}" for i in range(20)]
    await asyncio.gather(*(server.create(req(n)) for n in names))
    results = await asyncio.gather(
        *(server.add_toxic(n, ToxicRequest(type="noop")) for n in names),
        *(server.update(n, enabled=False) for n in names),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    assert all(not server.get(n).enabled and len(server.toxics(n)) == 1 for n in names)


async def test_populate_partial(server: ProxyServer) -> None:
    busy = await server.create(req("busy"))
    entries = [req("x"), ProxyRequest(name="y", listen=busy.listen, upstream="127.0.0.1:9")]
    done, error = await server.populate_partial(entries)
    assert [p.name for p in done] == ["x"]
    assert error is not None and "address already in use" in error.message
    with pytest.raises(ApiError, match="address already in use"):
        await server.populate(entries[1:])


async def test_cut_and_connections_of_an_idle_proxy(server: ProxyServer) -> None:
    await server.create(req("c"))
    assert await server.cut("c") == 0
    assert server.connections("c") == []


async def test_populate_config(
    server: ProxyServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "proxies.json"
    config.write_text(
        json.dumps([{"name": "cfg", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}])
    )
    made = await server.populate_config(config)
    assert [p.name for p in made] == ["cfg"] and server.get("cfg").enabled
    caplog.set_level(logging.ERROR)
    config.write_text("{not json")
    assert await server.populate_config(config) == []
    assert await server.populate_config(tmp_path / "missing.json") == []
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "invalid character 'n' looking for beginning of object key string" in messages
    assert "cannot read it" in messages


async def test_shutdown_stops_everything(server: ProxyServer) -> None:
    await server.create(req("s1"))
    await server.create(req("s2"))
    await server.shutdown()
    assert not any(p.enabled for p in server.proxies.values())


async def _active_pattern(seed: int, upstream: str, count: int) -> list[bool]:
    """Toxicity rolls of `count` sequential connections through a fresh seeded server."""
    srv = ProxyServer(seed=seed)
    try:
        toxic = ToxicRequest(type="noop", toxicity=0.5)
        proxy = await srv.create(
            ProxyRequest(name="s", listen="127.0.0.1:0", upstream=upstream, toxics=(toxic,))
        )
        host, _, port = proxy.listen.rpartition(":")
        pattern: list[bool] = []
        for _ in range(count):
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"x")
            await asyncio.wait_for(reader.readexactly(1), 5)  # both links exist now
            (info,) = srv.connections("s")
            pattern.append(info["toxics"]["downstream"][0]["active"])
            writer.close()
            await writer.wait_closed()
            for _ in range(200):
                if not srv.connections("s"):
                    break
                await asyncio.sleep(0.005)
        return pattern
    finally:
        await srv.shutdown()


async def test_seed_reproduces_toxicity_rolls_end_to_end() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
        writer.close()

    upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
    address = f"127.0.0.1:{upstream.sockets[0].getsockname()[1]}"
    try:
        first = await _active_pattern(11, address, 16)
        again = await _active_pattern(11, address, 16)
    finally:
        upstream.close()
        await upstream.wait_closed()
    assert first == again
    assert True in first and False in first  # toxicity 0.5 really rolls


def test_the_server_never_imports_the_api_layer() -> None:
    # Imports run one way (api -> server -> bodies): no cycle hidden behind a lazy import.
    import subprocess
    import sys

    code = (
        "import sys, chaos.proxy.server\n"
        "print(any(m.startswith('chaos.proxy.api') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
