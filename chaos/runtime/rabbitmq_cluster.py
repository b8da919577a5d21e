"""A RabbitMQ cluster of private local nodes, each in its own network namespace.

Each node is a `RabbitMQNode` (own ports, data dir, node name and epmd) run through
``ip netns exec`` in a namespace of a `chaos.runtime.netns.Lab`, so a partition is a real cut
of Erlang distribution (iptables DROP between the nodes' addresses) and AMQP is reached from
the host on each node's address. The nodes find each other by classic-config peer discovery
with one shared Erlang cookie; the first boots alone, the others join it in parallel (started
all at once, each could find no peer up and form a cluster of its own).
"""

from __future__ import annotations

import os
import secrets
import shutil
import string
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

from chaos.runtime.cluster import BrokerCluster, cluster_config
from chaos.runtime.netns import Lab
from chaos.runtime.ports import PortAllocator, default_allocator
from chaos.runtime.rabbitmq import DEFAULT_RABBITMQ_SERVER, RabbitMQNode

__all__ = ["RabbitMQCluster"]

_EPMD_PORT = 4369  # each node has its own namespace, so the standard port is free in each


class RabbitMQCluster(BrokerCluster):
    """``with RabbitMQCluster(3) as cluster:`` ``cluster.nodes[0].kill()``,
    ``with cluster.partitioned([0]): ...``, ``cluster.leader("q")``, ``cluster.amqp_urls``."""

    nodes: list[RabbitMQNode]  # type: ignore[assignment]  # narrower than the base's Broker

    def __init__(
        self,
        size: int = 3,
        base_dir: str | os.PathLike[str] | None = None,
        *,
        server_path: str | os.PathLike[str] = DEFAULT_RABBITMQ_SERVER,
        allocator: PortAllocator | None = None,
        boot_timeout: float = 120.0,
        net_ticktime: int = 5,
        partition_handling: str = "pause_minority",
        run: str | None = None,
    ) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"size={size!r} must be >= 1")
        if net_ticktime < 1:
            raise ValueError(f"net_ticktime={net_ticktime!r} must be >= 1 second")
        self.size = size
        self.server_path = Path(server_path)
        self.boot_timeout = boot_timeout
        # Distribution notices a silent peer (a DROP rule, a frozen VM) after about this long.
        self.net_ticktime = net_ticktime
        self.partition_handling = partition_handling
        self._owns_base_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="chaos-cluster-")).resolve()
        self._allocator = allocator or default_allocator()
        self.lab = Lab(size, run=run)
        self.nodes = []
        self._closed = False

    @property
    def run(self) -> str:
        """The run id in the namespaces' names (``chaosnet-<run>-n1``...)."""
        return self.lab.run

    def start(self, timeout: float | None = None) -> Self:
        """Make the namespaces, boot the nodes, wait until all N run in one cluster."""
        if self._closed:
            raise RuntimeError("this RabbitMQCluster is closed; create a new one")
        timeout = self.boot_timeout if timeout is None else timeout
        began = time.monotonic()
        if not self.nodes:
            self.lab.start()
            self.nodes = self._make_nodes()
        self.nodes[0].start(timeout)
        self._start_in_parallel(self.nodes[1:], max(1.0, began + timeout - time.monotonic()))
        self.wait_formed(max(5.0, began + timeout - time.monotonic()))
        if self.boot_seconds is None:
            self.boot_seconds = time.monotonic() - began
        return self

    def _make_nodes(self) -> list[RabbitMQNode]:
        names = [f"rabbit-{i + 1}@{self.lab.ip(i)}" for i in range(self.size)]
        extra = cluster_config(names, self.partition_handling)
        cookie = "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))
        return [
            RabbitMQNode(
                self.base_dir / f"node{i + 1}",
                server_path=self.server_path,
                allocator=self._allocator,
                boot_timeout=self.boot_timeout,
                host=self.lab.ip(i),
                netns=self.lab.exec_prefix(i),
                node_name=name,
                cookie=cookie,
                epmd_port=_EPMD_PORT,
                extra_config=extra,
                extra_erl_args=f"-kernel net_ticktime {self.net_ticktime}",
            )
            for i, name in enumerate(names)
        ]

    @staticmethod
    def _start_in_parallel(nodes: list[RabbitMQNode], timeout: float) -> None:
        errors: list[BaseException] = []

        def boot(node: RabbitMQNode) -> None:
            try:
                node.start(timeout)
            except BaseException as exc:  # re-raised below, in the caller's thread
                errors.append(exc)

        threads = [threading.Thread(target=boot, args=(n,), daemon=True) for n in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 30.0)
        if errors:
            raise errors[0]

    def _cut(self, a: int, b: int) -> None:
        self.lab.block(a, b)

    def _mend(self) -> None:
        self.lab.unblock_all()

    def rules(self, node: int) -> list[str]:
        """The iptables rules in force in node `node`'s namespace."""
        return self.lab.rules(node)

    def close(self) -> None:
        """Kill every node, remove the namespaces (rules and veths go with them) and the data."""
        if self._closed:
            return
        self._closed = True
        try:
            # SIGKILL, not a clean stop: the data goes anyway, and a node stopping cleanly
            # waits for its peers (seconds each).
            for node in self.nodes:
                if node.running:
                    node.kill()
            for node in self.nodes:
                node.close()
        finally:
            self.lab.close()
            if self._owns_base_dir:
                shutil.rmtree(self.base_dir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"RabbitMQCluster({self.node_names}, run={self.run!r})"
