"""Frozen models of the API's JSON: proxies, toxics and (our extension) live connections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STREAMS = ("upstream", "downstream")


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TypeError(f"{key!r} should be a string, got {value!r}")
    return value


def _number(value: Any, key: str) -> float:
    # bool is an int subclass; a JSON true is never a valid number here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{key!r} should be a number, got {value!r}")
    return float(value)


def split_address(address: str) -> tuple[str, int]:
    """Split `host:port` (or `[v6]:port`) into host and port."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {address!r} has no port; expected host:port")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Toxic:
    """A toxic as the server reports it; attributes are type-specific (all keys present)."""

    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    # Excluded from the hash so a Toxic stays hashable despite holding a dict.
    attributes: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        """Parse a toxic object, ignoring unknown keys."""
        attributes = data.get("attributes")
        if attributes is None:
            attributes = {}  # tolerate a missing or null attributes object
        if not isinstance(attributes, Mapping):
            raise TypeError(f"'attributes' should be an object, got {attributes!r}")
        return cls(
            name=_str(data, "name"),
            type=_str(data, "type"),
            stream=data.get("stream", "downstream"),
            toxicity=_number(data.get("toxicity", 1.0), "toxicity"),
            attributes=dict(attributes),
        )

    def to_json(self) -> dict[str, Any]:
        """The body that creates this toxic."""
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class Proxy:
    """A proxy as the server reported it, bound to the client that fetched it.

    The convenience methods call that client with this proxy's name and return what it returns:
    a value for `Toxiproxy`, an awaitable for `AsyncToxiproxy`. The fields are a snapshot; call
    `refresh()` for the current state.
    """

    name: str
    listen: str
    upstream: str
    enabled: bool = True
    toxics: tuple[Toxic, ...] = ()
    client: Any = field(default=None, compare=False, repr=False, hash=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], client: Any = None) -> Proxy:
        """Parse a proxy object, ignoring unknown keys such as Toxiproxy's stray `Logger`."""
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise TypeError(f"'enabled' should be a boolean, got {enabled!r}")
        return cls(
            name=_str(data, "name"),
            listen=_str(data, "listen"),
            upstream=_str(data, "upstream"),
            enabled=enabled,
            toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()),
            client=client,
        )

    @property
    def host(self) -> str:
        """Host part of `listen` (`::` when the server bound all interfaces)."""
        return split_address(self.listen)[0]

    @property
    def port(self) -> int:
        """Port part of `listen`: where to connect to go through the proxy."""
        return split_address(self.listen)[1]

    def _bound(self) -> Any:
        if self.client is None:
            raise RuntimeError(
                f"proxy {self.name!r} is not bound to a client; call the client's methods "
                "with the proxy name instead"
            )
        return self.client

    def refresh(self) -> Any:
        """Fetch this proxy again (`get_proxy`)."""
        return self._bound().get_proxy(self.name)

    def enable(self) -> Any:
        """Enable this proxy."""
        return self._bound().enable(self.name)

    def disable(self) -> Any:
        """Disable this proxy (closes its live connections)."""
        return self._bound().disable(self.name)

    def delete(self) -> Any:
        """Delete this proxy."""
        return self._bound().delete_proxy(self.name)

    def add_toxic(self, type: str, **kwargs: Any) -> Any:
        """Add a toxic to this proxy (same arguments as the client's `add_toxic`)."""
        return self._bound().add_toxic(self.name, type, **kwargs)

    def add_http_error(self, status: int = 503, **kwargs: Any) -> Any:
        """Add an http_error toxic (same arguments as the client's `add_http_error`)."""
        return self._bound().add_http_error(self.name, status, **kwargs)

    def add_http_latency(self, latency: int, **kwargs: Any) -> Any:
        """Add an http_latency toxic (same arguments as the client's `add_http_latency`)."""
        return self._bound().add_http_latency(self.name, latency, **kwargs)

    def update_toxic(self, toxic: str, **kwargs: Any) -> Any:
        """Update one of this proxy's toxics (same arguments as the client's `update_toxic`)."""
        return self._bound().update_toxic(self.name, toxic, **kwargs)

    def remove_toxic(self, toxic: str) -> Any:
        """Remove one of this proxy's toxics."""
        return self._bound().remove_toxic(self.name, toxic)

    def connections(self) -> Any:
        """Live connections through this proxy (pytest-chaos servers only)."""
        return self._bound().connections(self.name)

    def cut_connections(self) -> Any:
        """Close every live connection through this proxy (pytest-chaos servers only)."""
        return self._bound().cut_connections(self.name)


@dataclass(frozen=True)
class ConnectionToxic:
    """A toxic on one link of a live connection; `active` is false when its toxicity roll lost."""

    name: str
    type: str
    active: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectionToxic:
        """Parse one entry of a connection's per-stream toxic list."""
        return cls(
            name=_str(data, "name"), type=_str(data, "type"), active=bool(data.get("active"))
        )


@dataclass(frozen=True)
class Connection:
    """A live client connection through a proxy (a pytest-chaos server extension)."""

    id: str
    client: str
    upstream: str
    opened_at: float
    upstream_toxics: tuple[ConnectionToxic, ...] = ()
    downstream_toxics: tuple[ConnectionToxic, ...] = ()
    bytes_upstream: int = 0
    bytes_downstream: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Connection:
        """Parse one element of `GET /proxies/{proxy}/connections`, ignoring unknown keys."""
        toxics = data.get("toxics") or {}
        counts = data.get("bytes") or {}
        return cls(
            id=_str(data, "id"),
            client=_str(data, "client"),
            upstream=_str(data, "upstream"),
            opened_at=_number(data.get("opened_at", 0.0), "opened_at"),
            upstream_toxics=tuple(
                ConnectionToxic.from_json(t) for t in toxics.get("upstream") or ()
            ),
            downstream_toxics=tuple(
                ConnectionToxic.from_json(t) for t in toxics.get("downstream") or ()
            ),
            bytes_upstream=int(_number(counts.get("upstream", 0), "bytes.upstream")),
            bytes_downstream=int(_number(counts.get("downstream", 0), "bytes.downstream")),
        )
