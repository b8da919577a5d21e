"""Parsing the API's JSON into frozen models, tolerant of extra keys, strict about shapes."""

from __future__ import annotations

import dataclasses

import pytest

from chaos.client import Connection, Proxy, Toxic

TOXIC = {
    "attributes": {"latency": 500, "jitter": 0},
    "name": "latency_downstream",
    "type": "latency",
    "stream": "downstream",
    "toxicity": 1,
}
# Exactly as Toxiproxy 2.12 prints it, stray Logger included.
PROXY = {
    "name": "echo",
    "listen": "127.0.0.1:26379",
    "upstream": "127.0.0.1:20000",
    "enabled": True,
    "Logger": {},
    "toxics": [TOXIC],
}


def test_proxy_from_toxiproxy_json() -> None:
    proxy = Proxy.from_json(PROXY)
    assert proxy == Proxy(
        "echo",
        "127.0.0.1:26379",
        "127.0.0.1:20000",
        True,
        (Toxic("latency_downstream", "latency", "downstream", 1.0, {"latency": 500, "jitter": 0}),),
    )
    assert isinstance(proxy.toxics[0].toxicity, float)


def test_toxicity_is_echoed_as_given() -> None:
    assert Toxic.from_json({**TOXIC, "toxicity": -0.5}).toxicity == -0.5
    assert Toxic.from_json({**TOXIC, "toxicity": 5}).toxicity == 5.0


def test_missing_optional_keys_take_the_server_defaults() -> None:
    proxy = Proxy.from_json({"name": "old", "listen": "h:1", "upstream": "h:2"})
    assert (proxy.enabled, proxy.toxics) == (True, ())
    toxic = Toxic.from_json({"name": "n", "type": "noop", "attributes": None})
    assert (toxic.stream, toxic.toxicity, toxic.attributes) == ("downstream", 1.0, {})


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"listen": "h:1", "upstream": "h:2"}, KeyError),
        ({**PROXY, "name": 5}, TypeError),
        ({**PROXY, "enabled": "yes"}, TypeError),
        ({**PROXY, "toxics": [{**TOXIC, "toxicity": "high"}]}, TypeError),
        ({**PROXY, "toxics": [{**TOXIC, "toxicity": True}]}, TypeError),
        ({**PROXY, "toxics": [{**TOXIC, "attributes": []}]}, TypeError),
    ],
)
def test_malformed_json_is_rejected(data: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        Proxy.from_json(data)


def test_models_are_frozen_and_hashable() -> None:
    proxy = Proxy.from_json(PROXY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        proxy.enabled = False  # type: ignore[misc]
    assert len({proxy, Proxy.from_json(PROXY)}) == 1
    assert hash(proxy.toxics[0]) == hash(Toxic.from_json(TOXIC))


def test_equality_ignores_the_bound_client() -> None:
    assert Proxy.from_json(PROXY, client=object()) == Proxy.from_json(PROXY)
    assert "client" not in repr(Proxy.from_json(PROXY, client=object()))


@pytest.mark.parametrize(
    ("listen", "host", "port"),
    [
        ("127.0.0.1:3310", "127.0.0.1", 3310),
        ("[::]:42399", "::", 42399),
        ("localhost:0", "localhost", 0),
    ],
)
def test_host_and_port(listen: str, host: str, port: int) -> None:
    proxy = Proxy("p", listen, "u:1")
    assert (proxy.host, proxy.port) == (host, port)


def test_listen_without_port() -> None:
    with pytest.raises(ValueError, match="'bogus' has no port"):
        _ = Proxy("p", "bogus", "u:1").port


def test_toxic_to_json_round_trips() -> None:
    toxic = Toxic.from_json(TOXIC)
    assert Toxic.from_json(toxic.to_json()) == toxic


def test_unbound_proxy_says_how_to_proceed() -> None:
    with pytest.raises(RuntimeError, match="'p' is not bound to a client"):
        Proxy("p", "h:1", "u:1").disable()


def test_connection_tolerates_missing_counters() -> None:
    conn = Connection.from_json({"id": "1", "client": "a:1", "upstream": "b:2", "extra": 1})
    assert (conn.opened_at, conn.upstream_toxics, conn.bytes_downstream) == (0.0, (), 0)
