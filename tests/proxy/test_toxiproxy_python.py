"""The PyPI toxiproxy-python client, unchanged, against our server over real HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from chaos.proxy.runner import EmbeddedServer

toxiproxy = pytest.importorskip("toxiproxy")
from toxiproxy.api import APIConsumer  # noqa: E402
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists  # noqa: E402

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as server:
        yield server


@pytest.fixture
def tp(embedded: EmbeddedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setattr(APIConsumer, "host", "127.0.0.1")
    monkeypatch.setattr(APIConsumer, "port", embedded.port)
    client = toxiproxy.Toxiproxy()
    yield client
    client.destroy_all()


def roundtrip(listen: str, payload: bytes = b"ping") -> tuple[bytes, float]:
    host, _, port = listen.rpartition(":")
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    return got, time.monotonic() - start


def refused(listen: str) -> bool:
    host, _, port = listen.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_running_and_version(tp: object) -> None:
    import chaos

    assert tp.running() is True
    assert tp.version() == b'{"version": "' + chaos.__version__.encode() + b'"}\n'


def test_create_list_get_destroy(tp: object, threaded_echo: str) -> None:
    proxy = tp.create(upstream=threaded_echo, name="svc")
    assert proxy.enabled is True and proxy.listen.startswith("127.0.0.1:")
    assert roundtrip(proxy.listen)[0] == b"ping"
    assert list(tp.proxies()) == ["svc"]
    assert tp.get_proxy("svc").listen == proxy.listen
    with pytest.raises(ProxyExists):
        tp.create(upstream=threaded_echo, name="svc")
    assert tp.destroy(proxy) is True
    assert tp.get_proxy("svc") is None
    assert refused(proxy.listen)
    with pytest.raises(NotFound):
        APIConsumer.get("/proxies/svc")


def test_toxics_add_list_remove(tp: object, threaded_echo: str) -> None:
    proxy = tp.create(upstream=threaded_echo, name="slow")
    proxy.add_toxic(type="latency", attributes={"latency": 300})
    toxics = proxy.toxics()
    assert list(toxics) == ["latency_downstream"]
    toxic = toxics["latency_downstream"]
    assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1)
    assert toxic.attributes == {"latency": 300, "jitter": 0}
    assert roundtrip(proxy.listen)[1] >= 0.29
    with pytest.raises(ProxyExists):  # the client maps every 409 to ProxyExists
        proxy.add_toxic(type="latency", attributes={"latency": 1})
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="bogus")
    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.get_toxic("latency_downstream") is None
    assert roundtrip(proxy.listen)[1] < 0.29


def test_disable_enable_and_down(tp: object, threaded_echo: str) -> None:
    proxy = tp.create(upstream=threaded_echo, name="flaky")
    proxy.disable()
    assert tp.get_proxy("flaky").enabled is False
    assert refused(proxy.listen)
    proxy.enable()
    assert roundtrip(proxy.listen)[0] == b"ping"
    with proxy.down():
        assert refused(proxy.listen)
    assert roundtrip(proxy.listen)[0] == b"ping"


def test_reset(tp: object, threaded_echo: str) -> None:
    proxy = tp.create(upstream=threaded_echo, name="r")
    proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 0})
    proxy.disable()
    assert tp.reset() is True
    again = tp.get_proxy("r")
    assert again.enabled is True
    assert again.toxics() == {}
    assert roundtrip(proxy.listen)[0] == b"ping"


def test_populate(tp: object, threaded_echo: str) -> None:
    made = tp.populate(
        [
            {"name": "p1", "upstream": threaded_echo, "listen": "127.0.0.1:0"},
            {"name": "p2", "upstream": threaded_echo, "listen": "127.0.0.1:0"},
        ]
    )
    assert sorted(p.name for p in made) == ["p1", "p2"]
    assert sorted(tp.proxies()) == ["p1", "p2"]
    for proxy in made:
        assert roundtrip(proxy.listen)[0] == b"ping"
    # The server-side /populate too, through the client's HTTP layer.
    body = [{"name": "p3", "upstream": threaded_echo, "listen": "127.0.0.1:0"}]
    response = APIConsumer.post("/populate", json=body)
    assert response.status_code == 201
    assert [p["name"] for p in response.json()["proxies"]] == ["p3"]
