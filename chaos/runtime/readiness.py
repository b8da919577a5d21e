"""Readiness checks: small objects whose ``check()`` returns when ready and raises otherwise."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

__all__ = [
    "CallableReady",
    "HttpReady",
    "NotReady",
    "QueueConsumerReady",
    "Readiness",
    "TcpReady",
    "readiness_checks",
]


class NotReady(Exception):
    """A readiness check ran and found the service not ready yet."""


@runtime_checkable
class Readiness(Protocol):
    """Anything with ``check()``; any exception it raises means "not ready yet"."""

    def check(self) -> None:
        """Return if the service is ready; raise (with a useful message) if not."""


def readiness_checks(readiness: Readiness | Sequence[Readiness] | None) -> list[Readiness]:
    """One check, several or none, as a list; anything without ``check()`` is a TypeError."""
    if readiness is None:
        return []
    checks = [readiness] if isinstance(readiness, Readiness) else list(readiness)
    for check in checks:
        if not isinstance(check, Readiness):
            raise TypeError(f"readiness check {check!r} has no check() method")
    return checks


def _check_port(port: int) -> None:
    if not 0 < port < 65536:
        raise ValueError(f"port={port!r} is not a TCP port (1-65535)")


class TcpReady:
    """Ready once a TCP connect to ``host:port`` succeeds."""

    def __init__(self, host: str, port: int, *, connect_timeout: float = 1.0) -> None:
        _check_port(port)
        self.host, self.port, self.connect_timeout = host, port, connect_timeout

    def check(self) -> None:
        """Connect and close at once."""
        try:
            with socket.create_connection((self.host, self.port), timeout=self.connect_timeout):
                pass
        except OSError as exc:
            raise NotReady(f"TCP connect to {self.host}:{self.port} failed: {exc!r}") from exc

    def __repr__(self) -> str:
        return f"TcpReady({self.host!r}, {self.port})"


class HttpReady:
    """Ready once ``GET url`` answers with ``status``."""

    def __init__(self, url: str, status: int = 200, *, request_timeout: float = 2.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url={url!r} must start with http:// or https://")
        if not 100 <= status <= 599:
            raise ValueError(f"status={status!r} is not an HTTP status code (100-599)")
        self.url, self.status, self.request_timeout = url, status, request_timeout

    def check(self) -> None:
        """Issue one GET and compare the status."""
        import httpx  # not at import: the plugin loads this module, most runs never check

        try:
            response = httpx.get(self.url, timeout=self.request_timeout, trust_env=False)
        except httpx.HTTPError as exc:
            raise NotReady(f"GET {self.url} failed: {exc!r}") from exc
        if response.status_code != self.status:
            raise NotReady(
                f"GET {self.url} answered {response.status_code}, waiting for {self.status}"
            )

    def __repr__(self) -> str:
        return f"HttpReady({self.url!r}, status={self.status})"


class CallableReady:
    """Ready once ``fn()`` returns a truthy value (a falsy return or an exception means not yet)."""

    def __init__(self, fn: Callable[[], object], *, description: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"fn={fn!r} is not callable")
        self.fn = fn
        self.description = description or getattr(fn, "__qualname__", repr(fn))

    def check(self) -> None:
        """Call ``fn`` once."""
        if not self.fn():
            raise NotReady(f"{self.description}() returned a falsy value")

    def __repr__(self) -> str:
        return f"CallableReady({self.description})"


class _CountsConsumers(Protocol):
    def consumers(self, queue: str) -> int: ...


class QueueConsumerReady:
    """Ready once `queue` on `broker` has at least `consumers` consumers attached.

    What "the worker is up" means for a queue consumer: its process may answer long before it
    has connected and subscribed. Takes a `chaos.runtime.Broker` (about 1 s per check: it asks
    `rabbitmqctl`).
    """

    def __init__(self, broker: _CountsConsumers, queue: str, consumers: int = 1) -> None:
        if consumers < 1:
            raise ValueError(f"consumers={consumers!r} must be >= 1")
        self.broker, self.queue, self.consumers = broker, queue, consumers

    def check(self) -> None:
        """Count the queue's consumers once."""
        try:
            attached = self.broker.consumers(self.queue)
        except LookupError as exc:
            raise NotReady(f"queue {self.queue!r} not declared yet ({exc})") from exc
        if attached < self.consumers:
            raise NotReady(
                f"queue {self.queue!r} has {attached} consumer(s), waiting for {self.consumers}"
            )

    def __repr__(self) -> str:
        return f"QueueConsumerReady({self.queue!r}, consumers={self.consumers})"
