"""A RabbitMQ cluster of containers on the run's network, one container per node.

Every node is a `DockerRabbitMQ` (node name ``rabbit@<alias>``, its own data volume and host
port) told its peers through the environment: ``-rabbit cluster_nodes`` is the classic-config
peer list, the cookie is shared. A partition is iptables DROP rules inside the containers'
network namespaces, entered from the host with ``nsenter`` (the images need no iptables and
no extra capability; the test process still reaches every node). The rules go with the
container: a node restarted inside a partition comes back uncut.
"""

from __future__ import annotations

import secrets
import shutil
import string
import subprocess
import threading
import time
from typing import Self

from chaos.runtime.cluster import BrokerCluster
from chaos.runtime.docker.errors import DockerError
from chaos.runtime.docker.rabbitmq import DockerRabbitMQ
from chaos.runtime.docker.session import DockerSession
from chaos.runtime.ports import PortAllocator, default_allocator

__all__ = ["DockerRabbitMQCluster"]


class DockerRabbitMQCluster(BrokerCluster):
    """``with DockerRabbitMQCluster(session, image) as cluster:`` the `RabbitMQCluster` API."""

    nodes: list[DockerRabbitMQ]  # type: ignore[assignment]  # narrower than the base's Broker

    def __init__(
        self,
        session: DockerSession,
        image: str,
        size: int = 3,
        *,
        prefix: str = "rabbit",
        allocator: PortAllocator | None = None,
        boot_timeout: float = 120.0,
        net_ticktime: int = 5,
        partition_handling: str = "pause_minority",
    ) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"size={size!r} must be >= 1")
        if shutil.which("nsenter") is None:
            raise DockerError(
                "nsenter not found: partitions enter the containers' network namespaces; "
                "hint: `apt-get install util-linux`"
            )
        self.session = session
        self.image = image
        self.boot_timeout = boot_timeout
        aliases = [f"{prefix}-{i + 1}" for i in range(size)]
        peers = ",".join(f"'rabbit@{a}'" for a in aliases)
        cookie = "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))
        erl_args = (
            f"-rabbit cluster_nodes {{[{peers}],disc}} "
            f"-rabbit cluster_partition_handling {partition_handling} "
            f"-kernel net_ticktime {net_ticktime}"
        )
        env = {
            "RABBITMQ_ERLANG_COOKIE": cookie,
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": erl_args,
            "RABBITMQ_CTL_ERL_ARGS": f"-kernel net_ticktime {net_ticktime}",
        }
        ports = allocator or default_allocator()
        self.nodes = [
            DockerRabbitMQ(
                session, image, alias=a, allocator=ports, boot_timeout=boot_timeout, env=env
            )
            for a in aliases
        ]
        self._rules: set[tuple[int, str]] = set()

    def start(self, timeout: float | None = None) -> Self:
        """Start the first node, then the others in parallel; wait until all N run together."""
        timeout = self.boot_timeout if timeout is None else timeout
        began = time.monotonic()
        self.nodes[0].start(timeout)
        errors: list[BaseException] = []

        def boot(node: DockerRabbitMQ) -> None:
            try:
                node.start(max(1.0, began + timeout - time.monotonic()))
            except BaseException as exc:  # re-raised below, in the caller's thread
                errors.append(exc)

        threads = [threading.Thread(target=boot, args=(n,), daemon=True) for n in self.nodes[1:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 30.0)
        if errors:
            raise errors[0]
        self.wait_formed(max(5.0, began + timeout - time.monotonic()))
        if self.boot_seconds is None:
            self.boot_seconds = time.monotonic() - began
        return self

    def ip(self, index: int) -> str:
        """Node `index`'s address on the run's network."""
        sdk = self.nodes[index].container.sdk
        sdk.reload()
        net = sdk.attrs["NetworkSettings"]["Networks"].get(self.session.network_name)
        if not net or not net.get("IPAddress"):
            raise DockerError(
                f"{sdk.name} has no address on {self.session.network_name}; hint: is it running?"
            )
        return str(net["IPAddress"])

    def _iptables(self, index: int, *args: str) -> None:
        sdk = self.nodes[index].container.sdk
        sdk.reload()
        pid = sdk.attrs["State"]["Pid"]
        argv = ["nsenter", "-t", str(pid), "-n", "iptables", "-w", "5", *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            raise DockerError(
                f"`{' '.join(argv)}` in {sdk.name} failed ({proc.returncode}): "
                f"{proc.stderr.strip()[-500:]}; hint: run as root with iptables installed"
            )

    def _cut(self, a: int, b: int) -> None:
        for here, there in ((a, b), (b, a)):
            peer = self.ip(there)
            if (here, peer) in self._rules:
                continue
            self._iptables(here, "-I", "INPUT", "-s", peer, "-j", "DROP")
            self._iptables(here, "-I", "OUTPUT", "-d", peer, "-j", "DROP")
            self._rules.add((here, peer))

    def _mend(self) -> None:
        for index in sorted({here for here, _ in self._rules}):
            if self.nodes[index].running:  # a restarted container has a fresh namespace
                self._iptables(index, "-F", "INPUT")
                self._iptables(index, "-F", "OUTPUT")
        self._rules.clear()

    def rules(self, index: int) -> list[str]:
        """The iptables rules in force in node `index`'s container."""
        sdk = self.nodes[index].container.sdk
        sdk.reload()
        argv = ["nsenter", "-t", str(sdk.attrs["State"]["Pid"]), "-n", "iptables", "-S"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return [r for r in out.stdout.splitlines() if r.startswith("-A")]

    def close(self) -> None:
        """Remove the containers (the session removes their volumes)."""
        errors: list[Exception] = []
        for node in self.nodes:
            try:
                node.close()
            except Exception as exc:  # remove the others all the same
                errors.append(exc)
        if errors:
            raise errors[0]

    def __repr__(self) -> str:
        return f"DockerRabbitMQCluster({self.node_names})"
