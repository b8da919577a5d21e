"""Where the sample services run, and how the proxy, the services and the tests address them.

                local processes                  docker containers
proxy listens   127.0.0.1:0                      0.0.0.0:0 (inside its container)
service -> proxy  127.0.0.1:<listen port>        toxiproxy:<listen port>
proxy -> service  127.0.0.1:<service port>       <service>:8000 (network alias)
test -> service   http://127.0.0.1:<port>        http://127.0.0.1:<published port>
SQLite files      <workdir>/<service>.sqlite3    /data/<service>.sqlite3 (a session volume)
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, Self

from chaos.runtime import HttpReady, ManagedProcess, PortAllocator
from chaos.runtime.docker import Container, DockerSession

__all__ = ["DockerPlacement", "LocalPlacement", "Placement", "ServiceHandle"]

# Every sample service's settings prefix: <PREFIX>_HOST and <PREFIX>_PORT.
PREFIXES = {
    "push_provider": "PUSH",
    "notifications": "NOTIFICATIONS",
    "reactions": "REACTIONS",
    "notifier_worker": "WORKER",
    "gateway": "GATEWAY",
}


class ServiceHandle(Protocol):
    """What the stack needs of a running service: a `ManagedProcess` or a `Container`."""

    def start(self, timeout: float | None = None) -> Self: ...

    def stop(self, timeout: float | None = None) -> object: ...


class Placement(Protocol):
    """One way to run the services; see the table in this module's docstring."""

    proxy_listen: str
    proxy_host: str

    def reserve(self, service: str) -> None: ...

    def upstream(self, service: str) -> str: ...

    def url(self, service: str) -> str: ...

    def data_path(self, service: str) -> str: ...

    def handle(self, service: str, env: Mapping[str, str], variant: str) -> ServiceHandle: ...


def _module(service: str) -> list[str]:
    return ["-m", f"sample_system.{service}"]


class LocalPlacement:
    """Each service a child process on loopback, with its files in `workdir`."""

    proxy_listen = "127.0.0.1:0"
    proxy_host = "127.0.0.1"

    def __init__(
        self, workdir: Path, allocator: PortAllocator | None = None, start_timeout: float = 30.0
    ) -> None:
        self.workdir = Path(workdir)
        self.allocator = allocator or PortAllocator()
        self.start_timeout = start_timeout
        self.ports: dict[str, int] = {}

    def reserve(self, service: str) -> None:
        self.ports[service] = self.allocator.allocate()

    def upstream(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def data_path(self, service: str) -> str:
        return str(self.workdir / f"{service}.sqlite3")

    def handle(self, service: str, env: Mapping[str, str], variant: str) -> ManagedProcess:
        prefix = PREFIXES[service]
        # The service binds the reserved port itself once started.
        self.allocator.release(self.ports[service])
        return ManagedProcess(
            service + variant,
            [sys.executable, *_module(service)],
            env={f"{prefix}_PORT": str(self.ports[service]), **env},
            cwd=self.workdir,
            log_path=self.workdir / f"{service}{variant}.log",
            readiness=HttpReady(f"{self.url(service)}/health"),
            start_timeout=self.start_timeout,
        )


class DockerPlacement:
    """Each service a container of `image` on the session's network, port 8000 published."""

    proxy_listen = "0.0.0.0:0"
    PORT = 8000

    def __init__(
        self,
        session: DockerSession,
        image: str,
        *,
        proxy_host: str = "toxiproxy",
        allocator: PortAllocator | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.session = session
        self.image = image
        self.proxy_host = proxy_host
        self.allocator = allocator or PortAllocator()
        self.start_timeout = start_timeout
        self.ports: dict[str, int] = {}  # published on 127.0.0.1
        self.volumes: dict[str, str] = {}

    @staticmethod
    def alias(service: str) -> str:
        return service.replace("_", "-")  # host names may not hold "_"

    def reserve(self, service: str) -> None:
        self.ports[service] = self.allocator.allocate()
        self.volumes[service] = self.session.volume(f"{self.alias(service)}-data")

    def upstream(self, service: str) -> str:
        return f"{self.alias(service)}:{self.PORT}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def data_path(self, service: str) -> str:
        return f"/data/{service}.sqlite3"

    def handle(self, service: str, env: Mapping[str, str], variant: str) -> Container:
        prefix = PREFIXES[service]
        # The engine's port forwarder binds the reserved host port once started.
        self.allocator.release(self.ports[service])
        return Container(
            self.session,
            self.alias(service) + variant,
            self.image,
            command=["python", *_module(service)],
            env={f"{prefix}_HOST": "0.0.0.0", f"{prefix}_PORT": str(self.PORT), **env},
            # A variant takes the alias over while the original is stopped.
            aliases=[self.alias(service)],
            ports={self.PORT: self.ports[service]},
            volumes={self.volumes[service]: "/data"},
            readiness=HttpReady(f"{self.url(service)}/health"),
            start_timeout=self.start_timeout,
        )
