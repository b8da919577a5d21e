"""The sample system assembled: every service a process, every network edge its own proxy.

    gateway -[gateway-reactions]-> reactions -[reactions-notifications]-> notifications
                                      |                                       |
                             [reactions-broker]                     [notifications-push]
                                      v                                       v
    RabbitMQ -[worker-broker]-> notifier-worker -[worker-push]----------> push-provider

Used by the repo's fixtures and by the `chaos-sample` console script. The services are started
as `python -m sample_system.<service>`; nothing here is imported by them.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from chaos.client import Proxy, ProxyNotFound, Toxiproxy
from chaos.runtime import HttpReady, ManagedProcess, PortAllocator

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
_PORT_VARS = {
    "push_provider": "PUSH_PORT",
    "notifications": "NOTIFICATIONS_PORT",
    "reactions": "REACTIONS_PORT",
    "notifier_worker": "WORKER_PORT",
    "gateway": "GATEWAY_PORT",
}


class SampleStack:
    """Proxies and service processes of the sample system; `with SampleStack(...) as s:`."""

    def __init__(
        self,
        toxiproxy_url: str,
        broker_address: str,
        workdir: Path,
        *,
        mode: str = "sync",
        allocator: PortAllocator | None = None,
        env: Mapping[str, Mapping[str, str]] | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        if mode not in ("sync", "async"):
            raise ValueError(f"mode must be 'sync' or 'async', got {mode!r}")
        self.api = Toxiproxy(toxiproxy_url)
        self.broker_address = broker_address
        self.workdir = Path(workdir)
        self.mode = mode
        self.extra_env = {k: dict(v) for k, v in (env or {}).items()}
        self.start_timeout = start_timeout
        self._allocator = allocator or PortAllocator()
        self.ports: dict[str, int] = {}
        self.proxies: dict[str, Proxy] = {}
        self.services: dict[str, ManagedProcess] = {}
        self.startup_seconds: dict[str, float] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def _via(self, edge: str, scheme: str = "http") -> str:
        listen = self.proxies[edge].listen
        port = listen.rsplit(":", 1)[1]
        if scheme == "amqp":
            return f"amqp://guest:guest@127.0.0.1:{port}/%2F"
        return f"http://127.0.0.1:{port}"

    def _env(self, service: str) -> dict[str, str]:
        db = self.workdir / f"{service}.sqlite3"
        env: dict[str, str] = {_PORT_VARS[service]: str(self.ports[service]), "LOG_LEVEL": "INFO"}
        match service:
            case "notifications":
                env["PUSH_URL"] = self._via("notifications-push")
            case "reactions":
                env |= {
                    "REACTIONS_DB_PATH": str(db),
                    "REACTIONS_MODE": self.mode,
                    "NOTIFICATIONS_URL": self._via("reactions-notifications"),
                    "AMQP_URL": self._via("reactions-broker", "amqp"),
                }
            case "notifier_worker":
                env |= {
                    "WORKER_DB_PATH": str(db),
                    "AMQP_URL": self._via("worker-broker", "amqp"),
                    "PUSH_URL": self._via("worker-push"),
                }
            case "gateway":
                env["REACTIONS_URL"] = self._via("gateway-reactions")
        return env | self.extra_env.get(service, {})

    def start(self) -> Self:
        """Create the proxies, then start each service in order, each waited on until ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        for service in SERVICES:
            self.ports[service] = self._allocator.allocate()
        try:
            for edge in EDGES:
                upstream = (
                    self.broker_address
                    if edge.target == "broker"
                    else f"127.0.0.1:{self.ports[edge.target]}"
                )
                self._delete_proxy(edge.name)  # a leftover of an earlier, killed run
                self.proxies[edge.name] = self.api.create_proxy(
                    edge.name, upstream=upstream, listen="127.0.0.1:0"
                )
            self.startup_seconds["proxies"] = time.monotonic() - began
            for service in SERVICES:
                t = time.monotonic()
                process = self._process(service)
                self.services[service] = process
                # The service binds the reserved port itself.
                self._allocator.release(self.ports[service])
                process.start()
                self.startup_seconds[service] = time.monotonic() - t
        except BaseException:
            self.stop()
            raise
        self.startup_seconds["total"] = time.monotonic() - began
        return self

    def _process(self, service: str, env: Mapping[str, str] | None = None) -> ManagedProcess:
        variant = "-variant" if env else ""
        return ManagedProcess(
            service + variant,
            [sys.executable, "-m", f"sample_system.{service}"],
            env=self._env(service) | dict(env or {}),
            cwd=self.workdir,
            log_path=self.workdir / f"{service}{variant}.log",
            readiness=HttpReady(f"{self.url(service)}/health"),
            start_timeout=self.start_timeout,
        )

    @contextlib.contextmanager
    def replaced(self, service: str, env: Mapping[str, str]) -> Iterator[ManagedProcess]:
        """Run `service` with other settings for the block; the original comes back after."""
        original = self.services[service]
        original.stop()
        variant = self._process(service, env)
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
