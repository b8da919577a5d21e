"""One container driven like a `ManagedProcess`: start and wait ready, stop, kill, pause, isolate.

The container is created on the first start and kept after a stop or a kill, so a restart keeps
its writable layer, its volumes and its host ports; the session removes it at close.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Self

import docker.errors
from docker.models.containers import Container as SdkContainer

from chaos.runtime._blocks import FaultBlocks
from chaos.runtime.docker.errors import DockerError
from chaos.runtime.docker.session import DockerSession
from chaos.runtime.errors import ServiceExited, ServiceNotReady
from chaos.runtime.readiness import Readiness, readiness_checks

__all__ = ["Container"]


class Container(FaultBlocks):
    """A labelled container of a `DockerSession`, with readiness checks run from the host."""

    def __init__(
        self,
        session: DockerSession,
        role: str,
        image: str,
        *,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        aliases: Sequence[str] = (),
        ports: Mapping[int, int] | None = None,
        volumes: Mapping[str, str] | None = None,
        hostname: str | None = None,
        readiness: Readiness | Sequence[Readiness] | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.1,
    ) -> None:
        if start_timeout <= 0 or stop_timeout <= 0:
            raise ValueError(
                f"start_timeout={start_timeout!r} and stop_timeout={stop_timeout!r} must be > 0"
            )
        self.session = session
        self.role = role
        self.name = session.name(role)
        self.image = image
        self.command = list(command) if command is not None else None
        self.env = dict(env or {})
        self.aliases = list(aliases)
        self.ports = dict(ports or {})  # container port -> host port on 127.0.0.1
        self.volumes = dict(volumes or {})  # volume name -> mount path
        self.hostname = hostname
        self.readiness = readiness_checks(readiness)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self._sdk: SdkContainer | None = None
        self.isolated = False

    # -- state ---------------------------------------------------------------------------------

    def status(self) -> str | None:
        """The engine's word for it (created, running, paused, exited), or None if not made."""
        if self._sdk is None:
            return None
        try:
            self._sdk.reload()
        except docker.errors.NotFound:
            return None
        return str(self._sdk.status)

    @property
    def running(self) -> bool:
        """True while it runs (paused counts as running, as for a process)."""
        return self.status() in ("running", "paused")

    @property
    def is_paused(self) -> bool:
        return self.status() == "paused"

    @property
    def sdk(self) -> SdkContainer:
        if self._sdk is None:
            raise DockerError(f"container {self.name} was never started; hint: start() it first")
        return self._sdk

    def log_tail(self, lines: int = 20) -> str:
        if self._sdk is None:
            return ""
        try:
            return self._sdk.logs(tail=lines).decode(errors="replace").rstrip()
        except docker.errors.APIError as exc:
            return f"(logs unavailable: {exc})"

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float | None = None) -> Self:
        """Create it on the first call, start it, run the readiness checks. No-op if running."""
        if self.running:
            return self
        began = time.monotonic()
        if self._sdk is None or self.status() is None:
            self._sdk = self.session.create(
                self.role,
                self.image,
                command=self.command,
                environment=self.env,
                aliases=self.aliases,
                hostname=self.hostname,
                ports={f"{c}/tcp": ("127.0.0.1", h) for c, h in self.ports.items()},
                volumes={v: {"bind": path, "mode": "rw"} for v, path in self.volumes.items()},
            )
        try:
            self._sdk.start()
        except docker.errors.APIError as exc:
            raise DockerError(f"starting container {self.name}: {exc}") from exc
        self._wait_ready(began, self.start_timeout if timeout is None else timeout)
        return self

    def _wait_ready(self, began: float, timeout: float) -> None:
        deadline = began + timeout
        pending = list(self.readiness)
        last_error: str | None = None
        while pending:
            status = self.status()
            if status not in ("running", "paused"):
                raise ServiceExited(
                    f"container {self.name} ({self.image}) is {status} before it became ready",
                    name=self.name,
                    exit_code=self._sdk.attrs["State"].get("ExitCode") if self._sdk else None,
                    last_error=last_error,
                    log_tail=self.log_tail(),
                )
            try:
                pending[0].check()
            except Exception as exc:
                last_error = str(exc)
            else:
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ServiceNotReady(
                    f"container {self.name} ({self.image}) not ready after {timeout:g} s",
                    name=self.name,
                    last_error=last_error,
                    log_tail=self.log_tail(),
                )
            time.sleep(self.poll_interval)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after the stop timeout; the container is kept. Idempotent."""
        if not self.running:
            return
        try:
            if self.is_paused:
                self.sdk.unpause()  # a frozen process never acts on SIGTERM
            self.sdk.stop(timeout=int(self.stop_timeout if timeout is None else timeout))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            raise DockerError(f"stopping container {self.name}: {exc}") from exc

    @property
    def fault_target(self) -> str:
        return self.name

    def kill(self) -> None:
        """SIGKILL its processes (a crash); returns once the engine reports it exited."""
        try:
            if self.is_paused:
                self.sdk.unpause()
            self.sdk.kill()
            self.sdk.wait(timeout=30)
        except docker.errors.APIError as exc:
            raise DockerError(f"killing container {self.name}: {exc}") from exc

    def pause(self) -> None:
        """Freeze every process of the container (cgroup freezer): sockets stay open."""
        try:
            self.sdk.pause()
        except docker.errors.APIError as exc:
            raise DockerError(f"pausing container {self.name}: {exc}") from exc

    def resume(self) -> None:
        """Thaw it; a no-op unless paused (as SIGCONT is for a process)."""
        if not self.is_paused:
            return
        try:
            self.sdk.unpause()
        except docker.errors.APIError as exc:
            raise DockerError(f"resuming container {self.name}: {exc}") from exc

    def restart(self, timeout: float | None = None) -> Self:
        self.stop()
        return self.start(timeout)

    def isolate(self) -> None:
        """Disconnect it from the session's network: a partition at the network level."""
        self.session.disconnect(self.sdk)
        self.isolated = True

    def rejoin(self) -> None:
        """Connect it back, under the same aliases."""
        self.session.connect(self.sdk, self.aliases)
        self.isolated = False

    def remove(self) -> None:
        """Force-remove the container (its named volumes stay with the session)."""
        if self._sdk is not None:
            try:
                self._sdk.remove(force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                raise DockerError(f"removing container {self.name}: {exc}") from exc
            self._sdk = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"Container({self.name!r}, image={self.image!r}, status={self.status()!r})"
