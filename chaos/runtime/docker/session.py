"""One run's Docker objects: a labelled network, containers and volumes, all removed at close.

Every object carries ``io.chaos.managed=true`` and ``io.chaos.run=<run id>``, so a run removes
exactly its own objects. If the process dies without closing (SIGKILL), the process watchdog
runs ``chaos-docker clean --run <run id>``; the same command by hand finds any other leftover.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from typing import Any, Self

import docker.errors
from docker.models.containers import Container as SdkContainer

import docker
from chaos.runtime._watchdog import watchdog
from chaos.runtime.docker.errors import DockerError, DockerUnavailable, ImageMissing

__all__ = [
    "MANAGED",
    "ROLE",
    "RUN",
    "DockerSession",
    "cleanup",
    "connect",
    "leftovers",
    "unavailable_reason",
]

MANAGED = "io.chaos.managed"
RUN = "io.chaos.run"
ROLE = "io.chaos.role"


def connect(timeout: float = 60.0) -> docker.DockerClient:
    """A client of the engine in $DOCKER_HOST (default: the local socket), checked with a ping."""
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except docker.errors.DockerException as exc:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerUnavailable(
            f"no Docker engine answers at {where}: {exc}; hint: install docker.io and start "
            "dockerd (or set DOCKER_HOST), or use --chaos-backend local"
        ) from exc
    return client


def unavailable_reason() -> str | None:
    """Why the Docker backend cannot run here, or None if an engine answers."""
    try:
        connect(timeout=5).close()
    except DockerUnavailable as exc:
        return str(exc)
    return None


def _remove_all(client: docker.DockerClient, filters: dict[str, Any]) -> dict[str, list[str]]:
    """Containers first (they hold networks and volumes), then networks, then volumes."""
    removed: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}
    for container in client.containers.list(all=True, filters=filters):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
            removed["containers"].append(str(container.name))
    for network in client.networks.list(filters=filters):
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
            removed["networks"].append(str(network.name))
    for volume in client.volumes.list(filters=filters):
        with contextlib.suppress(docker.errors.NotFound):
            volume.remove(force=True)
            removed["volumes"].append(volume.name)
    return removed


def cleanup(client: docker.DockerClient, run: str | None = None) -> dict[str, list[str]]:
    """Remove every object of `run` (default: of every run) that pytest-chaos made."""
    label = [f"{MANAGED}=true"] + ([f"{RUN}={run}"] if run else [])
    try:
        return _remove_all(client, {"label": label})
    except docker.errors.APIError as exc:
        raise DockerError(f"cleaning up objects labelled {label}: {exc}") from exc


def leftovers(client: docker.DockerClient, run: str | None = None) -> dict[str, list[str]]:
    """Names of the objects `cleanup` would remove."""
    labels = [f"{MANAGED}=true"] + ([f"{RUN}={run}"] if run else [])
    filters: dict[str, str | list[str] | bool] = {"label": labels}
    return {
        "containers": [str(c.name) for c in client.containers.list(all=True, filters=filters)],
        "networks": [str(n.name) for n in client.networks.list(filters=filters)],
        "volumes": [str(v.name) for v in client.volumes.list(filters=filters)],
    }


class DockerSession:
    """A user-defined bridge network and everything made on it; ``with DockerSession() as s:``."""

    def __init__(
        self, client: docker.DockerClient | None = None, *, run: str | None = None
    ) -> None:
        self.client = client or connect()
        self.run = run or f"{os.getpid()}-{secrets.token_hex(3)}"
        self.network_name = f"chaos-{self.run}"
        self._network_made = False
        # Should this process die without closing (SIGKILL), the watchdog cleans up the run.
        self._on_death = [
            sys.executable,
            "-m",
            "chaos.runtime.docker.cli",
            "clean",
            "--run",
            self.run,
        ]

    def labels(self, role: str) -> dict[str, str]:
        return {MANAGED: "true", RUN: self.run, ROLE: role}

    def name(self, role: str) -> str:
        """Container and volume names: unique per run, readable in `docker ps`."""
        return f"chaos-{self.run}-{role}"

    def start(self) -> Self:
        watchdog.on_death(self._on_death)
        if not self._network_made:
            try:
                self.client.networks.create(
                    self.network_name, driver="bridge", labels=self.labels("network")
                )
            except docker.errors.APIError as exc:
                raise DockerError(f"creating network {self.network_name}: {exc}") from exc
            self._network_made = True
        return self

    def volume(self, role: str) -> str:
        """A named, labelled volume (kept across container restarts until close)."""
        name = self.name(role)
        try:
            self.client.volumes.create(name, labels=self.labels(role))
        except docker.errors.APIError as exc:
            raise DockerError(f"creating volume {name}: {exc}") from exc
        return name

    def require_image(self, image: str, setting: str) -> None:
        """Fail early, naming the setting, when the engine lacks `image` (nothing is pulled)."""
        try:
            self.client.images.get(image)
        except docker.errors.ImageNotFound as exc:
            raise ImageMissing(
                f"image {image!r} ({setting}) is not in the Docker engine; hint: build the "
                "images with scripts/build-images.sh, or `docker load`/`docker pull` it"
            ) from exc

    def create(self, role: str, image: str, **kwargs: Any) -> SdkContainer:
        """Create (not start) a labelled container on the network; `aliases` name it there."""
        aliases = kwargs.pop("aliases", [])
        name = self.name(role)
        try:
            with contextlib.suppress(docker.errors.NotFound):  # an earlier variant's container
                self.client.containers.get(name).remove(force=True)
            return self.client.containers.create(
                image,
                name=name,
                labels=self.labels(role),
                network=self.network_name,
                networking_config={
                    self.network_name: self.client.api.create_endpoint_config(aliases=aliases)
                },
                detach=True,
                **kwargs,
            )
        except docker.errors.ImageNotFound as exc:
            raise ImageMissing(
                f"image {image!r} for {role} is not in the Docker engine; hint: build it with "
                "scripts/build-images.sh"
            ) from exc
        except docker.errors.APIError as exc:
            raise DockerError(f"creating container {name} from {image!r}: {exc}") from exc

    def disconnect(self, container: SdkContainer) -> None:
        """Cut `container` off the network: a partition below every proxy."""
        try:
            self.client.networks.get(self.network_name).disconnect(container, force=True)
        except docker.errors.APIError as exc:
            raise DockerError(f"disconnecting {container.name}: {exc}") from exc

    def connect(self, container: SdkContainer, aliases: list[str]) -> None:
        """Put `container` back on the network under its aliases."""
        try:
            self.client.networks.get(self.network_name).connect(container, aliases=aliases)
        except docker.errors.APIError as exc:
            raise DockerError(f"connecting {container.name}: {exc}") from exc

    def leftovers(self) -> dict[str, list[str]]:
        return leftovers(self.client, self.run)

    def close(self) -> dict[str, list[str]]:
        """Remove every object of this run; idempotent. Returns what was removed."""
        removed = cleanup(self.client, self.run)
        watchdog.forget_on_death(self._on_death)
        return removed

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
