"""The sample system assembled: every service a process, every network edge its own proxy.

    gateway -[gateway-reactions]-> reactions -[reactions-notifications]-> notifications
                                      |                                       |
                             [reactions-broker]                     [notifications-push]
                                      v                                       v
    RabbitMQ -[worker-broker]-> notifier-worker -[worker-push]----------> push-provider

Used by the repo's fixtures and by the `chaos-sample` console script. The services are started
as `python -m sample_system.<service>`, as processes or containers (`chaos.placement`); nothing
here is imported by them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Self

from chaos.client import Proxy, ProxyNotFound, Toxiproxy
from chaos.placement import Placement, ServiceHandle

__all__ = ["EDGES", "SERVICES", "Edge", "SampleStack"]


@dataclass(frozen=True)
class Edge:
    """A proxied network edge: its proxy name, who calls, and what it reaches."""

    name: str
    caller: str
    target: str


EDGES = (
    Edge("gateway-reactions", "gateway", "reactions"),
    Edge("reactions-notifications", "reactions", "notifications"),
    Edge("notifications-push", "notifications", "push_provider"),
    Edge("reactions-broker", "reactions", "broker"),
    Edge("worker-broker", "notifier_worker", "broker"),
    Edge("worker-push", "notifier_worker", "push_provider"),
)
# Start order: what a service calls is up before it.
SERVICES = ("push_provider", "notifications", "reactions", "notifier_worker", "gateway")


class SampleStack:
    """Proxies and service processes of the sample system; `with SampleStack(...) as s:`."""

    def __init__(
        self,
        toxiproxy_url: str,
        broker_address: str,
        placement: Placement,
        *,
        mode: str = "sync",
        env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        if mode not in ("sync", "async"):
            raise ValueError(f"mode must be 'sync' or 'async', got {mode!r}")
        self.api = Toxiproxy(toxiproxy_url)
        self.broker_address = broker_address
        self.placement = placement
        self.mode = mode
        self.extra_env = {k: dict(v) for k, v in (env or {}).items()}
        self.proxies: dict[str, Proxy] = {}
        self.services: dict[str, ServiceHandle] = {}
        self.startup_seconds: dict[str, float] = {}

    def url(self, service: str) -> str:
        return self.placement.url(service)

    def _via(self, edge: str, scheme: str = "http") -> str:
        port = self.proxies[edge].listen.rsplit(":", 1)[1]
        host = self.placement.proxy_host
        if scheme == "amqp":
            return f"amqp://guest:guest@{host}:{port}/%2F"
        return f"http://{host}:{port}"

    def _env(self, service: str) -> dict[str, str]:
        db = self.placement.data_path(service)
        env: dict[str, str] = {"LOG_LEVEL": "INFO"}
        match service:
            case "notifications":
                env["PUSH_URL"] = self._via("notifications-push")
            case "reactions":
                env |= {
                    "REACTIONS_DB_PATH": db,
                    "REACTIONS_MODE": self.mode,
                    "NOTIFICATIONS_URL": self._via("reactions-notifications"),
                    "AMQP_URL": self._via("reactions-broker", "amqp"),
                }
            case "notifier_worker":
                env |= {
                    "WORKER_DB_PATH": db,
                    "AMQP_URL": self._via("worker-broker", "amqp"),
                    "PUSH_URL": self._via("worker-push"),
                }
            case "gateway":
                env["REACTIONS_URL"] = self._via("gateway-reactions")
        return env | self.extra_env.get(service, {})

    def start(self) -> Self:
        """Create the proxies, then start each service in order, each waited on until ready."""
        began = time.monotonic()
        try:
            for service in SERVICES:
                self.placement.reserve(service)
            for edge in EDGES:
                upstream = (
                    self.broker_address
                    if edge.target == "broker"
                    else self.placement.upstream(edge.target)
                )
                self._delete_proxy(edge.name)  # a leftover of an earlier, killed run
                self.proxies[edge.name] = self.api.create_proxy(
                    edge.name, upstream=upstream, listen=self.placement.proxy_listen
                )
            self.startup_seconds["proxies"] = time.monotonic() - began
            for service in SERVICES:
                t = time.monotonic()
                process = self.placement.handle(service, self._env(service), "")
                self.services[service] = process
                process.start()
                self.startup_seconds[service] = time.monotonic() - t
        except BaseException:
            self.stop()
            raise
        self.startup_seconds["total"] = time.monotonic() - began
        return self

    @contextlib.contextmanager
    def replaced(self, service: str, env: Mapping[str, str]) -> Iterator[ServiceHandle]:
        """Run `service` with other settings for the block; the original comes back after."""
        original = self.services[service]
        original.stop()
        variant = self.placement.handle(service, self._env(service) | dict(env), "-variant")
        self.services[service] = variant  # stop() cleans it up if we are interrupted
        try:
            yield variant.start()
        finally:
            variant.stop()
            self.services[service] = original
            original.start()

    def _delete_proxy(self, name: str) -> None:
        with contextlib.suppress(ProxyNotFound):
            self.api.delete_proxy(name)

    def stop(self) -> None:
        """Stop the services (reverse order), then delete the proxies; idempotent."""
        for service in reversed(list(self.services)):
            self.services[service].stop()
        for name in list(self.proxies):
            with contextlib.suppress(Exception):
                self._delete_proxy(name)
            del self.proxies[name]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.api.close()
