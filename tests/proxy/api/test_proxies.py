"""Proxies: /version, list, create, get, update, delete (contract section 1 and 3)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from chaos.proxy.server import ProxyServer

from .conftest import assert_error, assert_json, create, roundtrip

pytestmark = pytest.mark.timeout(30)


def refused(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


async def test_version_exact_body(client: httpx.AsyncClient) -> None:
    r = await client.get("/version")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json;charset=utf-8"
    import chaos

    assert r.content == b'{"version": "' + chaos.__version__.encode() + b'"}\n'


async def test_empty_index(client: httpx.AsyncClient) -> None:
    r = await client.get("/proxies")
    assert assert_json(r) == {}
    assert r.content == b"{}"


async def test_create_resolves_listen_and_key_order(client: httpx.AsyncClient, echo: str) -> None:
    r = await client.post(
        "/proxies", json={"name": "echo", "listen": "localhost:0", "upstream": echo}
    )
    proxy = assert_json(r, 201)
    assert list(proxy) == ["name", "listen", "upstream", "enabled", "toxics"]
    assert "Logger" not in r.text
    host, _, port = proxy["listen"].rpartition(":")
    assert host == "127.0.0.1" and int(port) > 0
    assert proxy["enabled"] is True and proxy["toxics"] == []
    assert r.content.startswith(b'{"name":"echo","listen":"127.0.0.1:')  # compact
    assert await roundtrip(proxy["listen"]) == b"ping"


async def test_missing_listen_binds_all_interfaces(client: httpx.AsyncClient, echo: str) -> None:
    proxy = assert_json(await client.post("/proxies", json={"name": "x", "upstream": echo}), 201)
    assert proxy["listen"].startswith("[::]:")
    port = proxy["listen"].rpartition(":")[2]
    assert await roundtrip(f"127.0.0.1:{port}") == b"ping"


async def test_create_disabled_keeps_listen_verbatim(client: httpx.AsyncClient, echo: str) -> None:
    proxy = await create(client, "off", echo, listen="localhost:0", enabled=False)
    assert (proxy["listen"], proxy["enabled"]) == ("localhost:0", False)


async def test_upstream_not_validated(client: httpx.AsyncClient) -> None:
    proxy = await create(client, "n", "nonsense")
    assert proxy["upstream"] == "nonsense"


async def test_unreachable_upstream_accepts_then_closes(client: httpx.AsyncClient) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    dead = f"127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    proxy = await create(client, "down", dead)
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    assert await asyncio.wait_for(reader.read(10), 5) == b""  # EOF
    writer.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "bad request body: EOF"),
        (
            b"[1,2]",
            "bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy",
        ),
        (
            b'{"name":5}',
            "bad request body: json: cannot unmarshal number into Go struct field Proxy.name "
            "of type string",
        ),
        (
            b'{"name":"a","enabled":"yes"}',
            "bad request body: json: cannot unmarshal string into Go struct field "
            "Proxy.enabled of type bool",
        ),
        (
            b"{bad}",
            "bad request body: invalid character 'b' looking for beginning of object key string",
        ),
        (b'{"name":', "bad request body: unexpected EOF"),
        (b'{"upstream":"x"}', "missing required field: name"),
        (b'{"name":"","upstream":""}', "missing required field: name"),
        (b'{"name":"a"}', "missing required field: upstream"),
    ],
)
async def test_create_errors(client: httpx.AsyncClient, body: bytes, message: str) -> None:
    assert_error(await client.post("/proxies", content=body), 400, message)
    assert assert_json(await client.get("/proxies")) == {}


async def test_field_names_case_insensitive_and_unknown_ignored(
    client: httpx.AsyncClient, echo: str
) -> None:
    body = {"NAME": "ci", "Upstream": echo, "LISTEN": "127.0.0.1:0", "whatever": [1]}
    proxy = assert_json(await client.post("/proxies", json=body), 201)
    assert proxy["name"] == "ci"


async def test_slash_in_name_refused(client: httpx.AsyncClient, echo: str) -> None:
    r = await client.post("/proxies", json={"name": "sl/ash", "upstream": echo})
    assert r.status_code == 400
    assert "cannot contain '/'" in r.json()["error"]
    assert "'sl/ash'" in r.json()["error"]


async def test_duplicate_name_409_before_bind(client: httpx.AsyncClient, echo: str) -> None:
    await create(client, "dup", echo)
    r = await client.post("/proxies", json={"name": "dup", "listen": "bogus", "upstream": echo})
    assert_error(r, 409, "proxy already exists")


async def test_port_conflict_500(client: httpx.AsyncClient, echo: str, held_port: int) -> None:
    r = await client.post(
        "/proxies", json={"name": "c", "listen": f"localhost:{held_port}", "upstream": echo}
    )
    assert_error(r, 500, f"listen tcp 127.0.0.1:{held_port}: bind: address already in use")
    assert_error(await client.get("/proxies/c"), 404, "proxy not found")


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("bogus", "listen tcp: address bogus: missing port in address"),
        ("256.1.1.1:80", "listen tcp: lookup 256.1.1.1: no such host"),
    ],
)
async def test_bad_listen_500(
    client: httpx.AsyncClient, echo: str, listen: str, message: str
) -> None:
    r = await client.post("/proxies", json={"name": "b", "listen": listen, "upstream": echo})
    assert_error(r, 500, message)


async def test_index_sorted_by_name(client: httpx.AsyncClient, echo: str) -> None:
    for name in ["b", "a", "c"]:
        await create(client, name, echo, enabled=False)
    r = await client.get("/proxies")
    assert list(assert_json(r)) == ["a", "b", "c"]


async def test_get_and_404(client: httpx.AsyncClient, echo: str) -> None:
    created = await create(client, "g", echo)
    assert assert_json(await client.get("/proxies/g")) == created
    assert_error(await client.get("/proxies/nope"), 404, "proxy not found")


async def test_disable_closes_listener_and_connections_with_fin(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "d", echo)
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"hi")
    assert await asyncio.wait_for(reader.readexactly(2), 5) == b"hi"
    r = await client.patch("/proxies/d", json={"enabled": False})
    assert assert_json(r)["enabled"] is False
    assert await asyncio.wait_for(reader.read(10), 5) == b""  # FIN, not RST
    writer.close()
    assert refused(proxy["listen"])
    r = await client.patch("/proxies/d", json={"enabled": True})
    assert assert_json(r)["listen"] == proxy["listen"]  # the resolved port is reused
    assert await roundtrip(proxy["listen"]) == b"ping"


async def test_update_404_before_body(client: httpx.AsyncClient) -> None:
    assert_error(await client.patch("/proxies/nope", content=b"{"), 404, "proxy not found")


@pytest.mark.parametrize("method", ["PATCH", "POST"])
async def test_update_body_errors(client: httpx.AsyncClient, echo: str, method: str) -> None:
    await create(client, "u", echo)
    assert_error(await client.request(method, "/proxies/u"), 400, "bad request body: EOF")
    r = await client.request(method, "/proxies/u", content=b'{"listen": 1}')
    assert_error(
        r,
        400,
        "bad request body: json: cannot unmarshal number into Go struct field Proxy.listen "
        "of type string",
    )


async def test_update_unresolvable_listen_changes_nothing(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "u", echo)
    r = await client.patch("/proxies/u", json={"listen": "bogus"})
    assert_error(r, 500, "address bogus: missing port in address")
    assert assert_json(await client.get("/proxies/u")) == proxy


async def test_update_name_ignored_and_same_values_noop(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "u", echo)
    r = await client.post("/proxies/u", json={"name": "renamed", "enabled": True})
    assert assert_json(r) == proxy
    assert list(assert_json(await client.get("/proxies"))) == ["u"]


async def test_update_hostname_same_address_keeps_connections(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "h", echo)
    port = proxy["listen"].rpartition(":")[2]
    reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
    r = await client.patch("/proxies/h", json={"listen": f"localhost:{port}"})
    assert assert_json(r)["listen"] == proxy["listen"]
    writer.write(b"still")
    assert await asyncio.wait_for(reader.readexactly(5), 5) == b"still"
    writer.close()


async def test_update_listen_restarts_and_drops_connections(
    client: httpx.AsyncClient, echo: str
) -> None:
    proxy = await create(client, "m", echo)
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"x")
    await asyncio.wait_for(reader.readexactly(1), 5)
    moved = assert_json(await client.patch("/proxies/m", json={"listen": "localhost:0"}))
    assert moved["listen"] != proxy["listen"] and moved["enabled"] is True
    assert await asyncio.wait_for(reader.read(10), 5) == b""
    writer.close()
    assert await roundtrip(moved["listen"]) == b"ping"


async def test_update_upstream_restarts(client: httpx.AsyncClient, echo: str) -> None:
    await create(client, "up", "127.0.0.1:1")
    moved = assert_json(await client.patch("/proxies/up", json={"upstream": echo}))
    assert moved["upstream"] == echo
    assert await roundtrip(moved["listen"]) == b"ping"


async def test_update_bind_failure_leaves_disabled_with_new_listen(
    client: httpx.AsyncClient, echo: str, held_port: int
) -> None:
    await create(client, "f", echo)
    r = await client.patch("/proxies/f", json={"listen": f"127.0.0.1:{held_port}"})
    assert_error(r, 500, f"listen tcp 127.0.0.1:{held_port}: bind: address already in use")
    proxy = assert_json(await client.get("/proxies/f"))
    assert (proxy["listen"], proxy["enabled"]) == (f"127.0.0.1:{held_port}", False)


async def test_enable_bind_failure_500(
    client: httpx.AsyncClient, echo: str, held_port: int
) -> None:
    await create(client, "e", echo, listen=f"127.0.0.1:{held_port}", enabled=False)
    r = await client.patch("/proxies/e", json={"enabled": True})
    assert_error(r, 500, f"listen tcp 127.0.0.1:{held_port}: bind: address already in use")


async def test_upstream_change_on_disabled_proxy_just_stored(
    client: httpx.AsyncClient, echo: str
) -> None:
    await create(client, "s", "127.0.0.1:1", enabled=False)
    proxy = assert_json(await client.patch("/proxies/s", json={"upstream": echo}))
    assert (proxy["upstream"], proxy["enabled"]) == (echo, False)


async def test_delete_closes_and_frees_port(
    client: httpx.AsyncClient, echo: str, server: ProxyServer
) -> None:
    proxy = await create(client, "del", echo)
    host, _, port = proxy["listen"].rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"x")
    await asyncio.wait_for(reader.readexactly(1), 5)
    r = await client.delete("/proxies/del")
    assert (r.status_code, r.content) == (204, b"")
    assert "content-length" not in r.headers and "content-type" not in r.headers
    assert await asyncio.wait_for(reader.read(10), 5) == b""
    writer.close()
    assert_error(await client.delete("/proxies/del"), 404, "proxy not found")
    # The port is free at once: the same listen can be taken again.
    again = await create(client, "del", echo, listen=proxy["listen"])
    assert again["listen"] == proxy["listen"]


async def test_json_escaping_like_go(client: httpx.AsyncClient, echo: str) -> None:
    r = await client.post("/proxies", json={"name": "<a&b>", "upstream": echo, "enabled": False})
    assert r.status_code == 201
    assert b'"name":"\\u003ca\\u0026b\\u003e"' in r.content


async def test_toxics_survive_disable_and_reapply(client: httpx.AsyncClient, echo: str) -> None:
    proxy = await create(client, "k", echo)
    body = {"type": "latency", "attributes": {"latency": 300}}
    assert_json(await client.post("/proxies/k/toxics", json=body))
    assert_json(await client.patch("/proxies/k", json={"enabled": False}))
    again = assert_json(await client.patch("/proxies/k", json={"enabled": True}))
    assert [t["name"] for t in again["toxics"]] == ["latency_downstream"]
    start = asyncio.get_running_loop().time()
    assert await roundtrip(proxy["listen"]) == b"ping"
    assert asyncio.get_running_loop().time() - start >= 0.29
