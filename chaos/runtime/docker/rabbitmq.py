"""A RabbitMQ broker in a container, with the same handle as the local `RabbitMQNode`.

Crash is ``docker kill`` (SIGKILL), frozen is ``docker pause`` (cgroup freezer: sockets stay
open, nothing answers), restart starts the same container: its data volume at /var/lib/rabbitmq
and its host name (hence its node name) are kept, so durable queues and persistent messages
survive. Works with our image and with the official ``rabbitmq`` image.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Self

import docker.errors

from chaos.runtime.broker import Broker
from chaos.runtime.docker.container import Container
from chaos.runtime.docker.session import DockerSession
from chaos.runtime.errors import RabbitMQError
from chaos.runtime.ports import PortAllocator, default_allocator
from chaos.runtime.readiness import CallableReady

__all__ = ["DockerRabbitMQ"]

AMQP_PORT = 5672
DATA_DIR = "/var/lib/rabbitmq"


class DockerRabbitMQ(Broker):
    """``with DockerRabbitMQ(session, image) as broker: broker.amqp_url``; kill/pause/restart."""

    def __init__(
        self,
        session: DockerSession,
        image: str,
        *,
        alias: str = "rabbitmq",
        allocator: PortAllocator | None = None,
        boot_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`env` adds to the container's environment (a cluster node's cookie and erl args)."""
        self.session = session
        self.alias = alias
        self._allocator = allocator or default_allocator()
        self.host = "127.0.0.1"
        self.port = self._allocator.allocate()
        self.node_name = f"rabbit@{alias}"
        self.boot_seconds: float | None = None
        self.recovery_seconds: float | None = None
        self.container = Container(
            session,
            alias,
            image,
            env=env,
            aliases=[alias],
            hostname=alias,  # the node name derives from it: same name, same data after restart
            ports={AMQP_PORT: self.port},
            volumes={session.volume(f"{alias}-data"): DATA_DIR},
            readiness=CallableReady(self._amqp_handshake, description="AMQP open/close"),
            start_timeout=boot_timeout,
            stop_timeout=stop_timeout,
            poll_interval=0.2,
        )

    @property
    def amqp_url(self) -> str:
        """The URL the test process uses (the published port on 127.0.0.1)."""
        return f"amqp://guest:guest@{self.host}:{self.port}/%2F"

    @property
    def network_address(self) -> str:
        """``host:port`` at which other containers reach it."""
        return f"{self.alias}:{AMQP_PORT}"

    @property
    def running(self) -> bool:
        return self.container.running

    def start(self, timeout: float | None = None) -> Self:
        """Start (or restart after a crash) and wait until AMQP accepts a connection."""
        if self.running:
            return self
        first = self.boot_seconds is None
        began = time.monotonic()
        self.container.start(timeout)
        elapsed = time.monotonic() - began
        if first:
            self.boot_seconds = elapsed
        else:
            self.recovery_seconds = elapsed
        return self

    def stop(self, timeout: float | None = None) -> None:
        self.container.stop(timeout)

    def kill(self) -> None:
        """``docker kill``: SIGKILL, no chance to flush or close connections."""
        self.container.kill()

    def pause(self) -> None:
        """``docker pause``; returns once the engine reports it frozen."""
        self.container.pause()

    def resume(self) -> None:
        self.container.resume()

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        """``docker exec <broker> rabbitmqctl ARGS``; return stdout."""
        argv = ["timeout", f"{timeout:g}", "rabbitmqctl", *args]
        try:
            code, (out, err) = self.container.sdk.exec_run(argv, demux=True)
        except docker.errors.APIError as exc:
            raise RabbitMQError(
                f"rabbitmqctl {' '.join(args)} in {self.container.name}: {exc}; hint: is the "
                "broker running and not paused?"
            ) from exc
        if code != 0:
            detail = _text(err or out).strip()[-2000:]
            hint = " (timed out)" if code == 124 else ""
            raise RabbitMQError(
                f"rabbitmqctl {' '.join(args)} failed with exit code {code}{hint} in "
                f"{self.container.name}: {detail}"
            )
        return _text(out)

    def close(self) -> None:
        """Remove the container and release the port (the session removes the volume)."""
        try:
            self.container.remove()
        finally:
            self._allocator.release(self.port)

    def __repr__(self) -> str:
        return f"DockerRabbitMQ({self.container.name!r}, port={self.port}, running={self.running})"


def _text(output: object) -> str:
    """exec_run output (bytes, or None for a stream that wrote nothing) as text."""
    return output.decode(errors="replace") if isinstance(output, bytes) else ""
