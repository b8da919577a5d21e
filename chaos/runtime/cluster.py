"""What every RabbitMQ cluster handle shares (local namespaces, containers): views and partitions.

A subclass gives the nodes (`Broker` handles: kill, stop, start, pause, resume, restart and
their `crashed()`/`paused()` blocks) and two primitives: `_cut(a, b)` drops all traffic between
nodes `a` and `b`, `_mend()` undoes every cut. The rest is here: formation, each node's view
(`rabbitmqctl cluster_status`), a quorum queue's leader, partitions on the test's timeline.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Self

from chaos._timeline import fault
from chaos.runtime.broker import Broker
from chaos.runtime.errors import RabbitMQError

__all__ = ["BrokerCluster", "NodeRef", "NodeView", "cluster_config"]

# Erlang run on one node: each member's running nodes (over RPC, "-" if unreachable), then the
# nodes its distribution is connected to, then whether its own RabbitMQ app runs.
_VIEW_EXPR = (
    'Csv = fun(L) -> lists:join(",", [atom_to_list(X) || X <- L]) end, '
    "lists:foreach(fun(N) -> case rpc:call(N, rabbit_nodes, all_running, [], 5000) of "
    'L when is_list(L) -> io:format("~s ~s~n", [N, Csv(L)]); '
    '_ -> io:format("~s -~n", [N]) end end, rabbit_nodes:all()), '
    'io:format("connected ~s~napp ~s~n", [Csv([node() | nodes()]), rabbit:is_running()]), ok.'
)

NodeRef = int | str | Broker
"""A node of a cluster: its index (0-based), its node name, or its handle."""


@dataclass(frozen=True)
class NodeView:
    """One node's view of its cluster."""

    node: str
    running: list[str]
    """Nodes running RabbitMQ as this node sees them (empty while pause_minority pauses it)."""
    connected: list[str]
    """Nodes its Erlang distribution reaches now (itself included)."""
    app_running: bool
    """False while its RabbitMQ app is stopped (pause_minority) though the VM runs."""
    views: dict[str, list[str] | None]
    """Every member's running nodes, read over RPC (None: this node cannot reach it)."""


def cluster_config(node_names: Sequence[str], partition_handling: str) -> str:
    """rabbitmq.conf lines: classic-config peer discovery of `node_names`, the partition mode."""
    lines = ["cluster_formation.peer_discovery_backend = classic_config"]
    lines += [
        f"cluster_formation.classic_config.nodes.{i} = {name}"
        for i, name in enumerate(node_names, 1)
    ]
    lines.append(f"cluster_partition_handling = {partition_handling}")
    return "\n".join(lines) + "\n"


class BrokerCluster:
    """Base of cluster handles: ``with cluster: cluster.nodes[0].kill(); cluster.leader(q)``."""

    nodes: list[Broker]
    boot_seconds: float | None = None

    def __init__(self) -> None:
        self._cut_pairs: set[frozenset[int]] = set()

    # -- subclass primitives --------------------------------------------------------------------

    def start(self, timeout: float | None = None) -> Self:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _cut(self, a: int, b: int) -> None:
        raise NotImplementedError

    def _mend(self) -> None:
        raise NotImplementedError

    # -- nodes and addresses --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Broker]:
        return iter(self.nodes)

    def __getitem__(self, index: int) -> Broker:
        return self.nodes[index]

    @property
    def node_names(self) -> list[str]:
        return [node.node_name for node in self.nodes]

    @property
    def amqp_urls(self) -> list[str]:
        """One AMQP URL per node, in node order (what the test process connects to)."""
        return [node.amqp_url for node in self.nodes]

    @property
    def addresses(self) -> list[str]:
        """``host:port`` of every node's AMQP listener, where a proxy or a service reaches it."""
        return [node.network_address for node in self.nodes]

    def index(self, node: NodeRef) -> int:
        """The index of a node given by index, node name or handle."""
        if isinstance(node, int) and not isinstance(node, bool):
            if not 0 <= node < len(self.nodes):
                raise IndexError(f"node index {node} out of range 0..{len(self.nodes) - 1}")
            return node
        for i, candidate in enumerate(self.nodes):
            if candidate is node or candidate.node_name == node:
                return i
        raise LookupError(f"{node!r} is not a node of this cluster ({self.node_names})")

    def node(self, ref: NodeRef) -> Broker:
        return self.nodes[self.index(ref)]

    # -- views ------------------------------------------------------------------------------------

    def view(self, node: NodeRef, timeout: float = 30.0) -> NodeView:
        """What `node` sees, in one ``rabbitmqctl eval`` (works while pause_minority holds its
        RabbitMQ app stopped, when ``cluster_status`` refuses to answer)."""
        asked = self.node(node)
        out = asked.rabbitmqctl("eval", _VIEW_EXPR, timeout=timeout)
        views: dict[str, list[str] | None] = {}
        connected: list[str] = []
        app_running = False
        for line in out.splitlines():
            key, _, rest = line.partition(" ")
            if key == "connected":
                connected = sorted(filter(None, rest.split(",")))
            elif key == "app":
                app_running = rest.strip() == "true"
            elif "@" in key:
                views[key] = None if rest.strip() == "-" else sorted(filter(None, rest.split(",")))
        if asked.node_name not in views:
            raise RabbitMQError(
                f"unexpected answer of {asked.node_name} to the view query: {out[-1000:]!r}"
            )
        return NodeView(
            asked.node_name, views[asked.node_name] or [], connected, app_running, views
        )

    def cluster_status(self, node: NodeRef, timeout: float = 30.0) -> list[str]:
        """Names of the nodes running RabbitMQ as `node` sees them (``rabbit_nodes:all_running``,
        what ``rabbitmqctl cluster_status`` lists); empty while pause_minority pauses it."""
        return self.view(node, timeout).running

    def views(self, timeout: float = 30.0) -> dict[str, NodeView | None]:
        """Every node's view (None for a node that cannot answer: down or frozen)."""
        seen: dict[str, NodeView | None] = {}
        for node in self.nodes:
            try:
                seen[node.node_name] = self.view(node, timeout) if node.running else None
            except RabbitMQError:
                seen[node.node_name] = None
        return seen

    def wait_formed(self, timeout: float = 120.0, nodes: Iterable[NodeRef] | None = None) -> None:
        """Wait until each of `nodes` (default: all) sees all of them running (polled)."""
        wanted = [self.index(n) for n in nodes] if nodes is not None else list(range(len(self)))
        names = sorted(self.nodes[i].node_name for i in wanted)
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            # One query shows every node's view: the asked node reads the others' over RPC.
            asked = wanted[0]
            try:
                view = self.view(asked, timeout=max(5.0, deadline - time.monotonic()))
                seen = [view.views.get(self.nodes[i].node_name) for i in wanted]
                if all(s is not None and set(names) <= set(s) for s in seen):
                    return
                last = view.views
            except RabbitMQError as exc:
                last = f"error: {exc}"
            if time.monotonic() >= deadline:
                raise RabbitMQError(
                    f"cluster not formed within {timeout:g}s: wanted {names} running as seen "
                    f"from each; last views (from {self.nodes[asked].node_name}): {last}; "
                    f"hint: read the nodes' logs"
                )
            time.sleep(0.2)

    def leader(self, queue: str, via: NodeRef | None = None) -> Broker:
        """The node that leads quorum queue `queue` (asked of `via`, default: a running node)."""
        asked = self.node(via) if via is not None else self._a_running_node()
        out = asked.rabbitmqctl(
            "list_queues", "name", "type", "leader", "-q", "--formatter", "json"
        )
        for row in json.loads(out or "[]"):
            if row.get("name") == queue:
                if row.get("type") != "quorum" or not row.get("leader"):
                    raise RabbitMQError(
                        f"queue {queue!r} is {row.get('type')!r} with leader "
                        f"{row.get('leader')!r} as {asked.node_name} sees it; hint: declare "
                        "it with arguments={'x-queue-type': 'quorum'}"
                    )
                return self.node(str(row["leader"]))
        raise LookupError(f"no queue {queue!r} as {asked.node_name} sees it")

    def _a_running_node(self) -> Broker:
        for node in self.nodes:
            if node.running:
                return node
        raise RabbitMQError(f"no node of {self.node_names} is running; hint: start() one")

    # -- partitions -------------------------------------------------------------------------------

    @property
    def partitioned_pairs(self) -> set[frozenset[int]]:
        """Pairs of node indices whose traffic is cut now."""
        return set(self._cut_pairs)

    def partition(self, nodes: Iterable[NodeRef]) -> None:
        """Cut `nodes` off from the other nodes (all traffic, Erlang distribution included).

        The nodes within each side still reach each other and the test process reaches every
        node. Cuts add up: a second call cuts further; `heal()` removes them all.
        """
        side = {self.index(n) for n in nodes}
        rest = set(range(len(self))) - side
        if not side or not rest:
            raise ValueError(
                f"partition({sorted(side)}) of a {len(self)}-node cluster leaves one side empty; "
                "hint: name the nodes of one side only"
            )
        for a in sorted(side):
            for b in sorted(rest):
                self._cut(a, b)
                self._cut_pairs.add(frozenset((a, b)))

    def heal(self, wait: bool = True, timeout: float = 120.0) -> None:
        """Remove every cut; with `wait`, return once the cluster has formed again."""
        self._mend()
        self._cut_pairs.clear()
        if wait:
            self.wait_formed(timeout, [i for i, n in enumerate(self.nodes) if n.running])

    @contextlib.contextmanager
    def partitioned(self, nodes: Iterable[NodeRef], heal_timeout: float = 120.0) -> Iterator[Self]:
        """Cut `nodes` off for the block (on the test's timeline); heal and wait formed after."""
        side = sorted(self.index(n) for n in nodes)
        names = [self.nodes[i].node_name for i in side]
        with fault(
            "partition",
            ",".join(names),
            lambda: self.partition(side),
            lambda: self.heal(timeout=heal_timeout),
            {"nodes": names, "of": self.node_names},
        ):
            yield self

    # -- restore ----------------------------------------------------------------------------------

    def restore(self, timeout: float = 120.0) -> None:
        """Undo what a test left: heal cuts, resume frozen nodes, start dead ones, wait formed."""
        if self._cut_pairs:
            self.heal(wait=False)
        for node in self.nodes:
            if node.running:
                node.resume()
        for node in self.nodes:
            if not node.running:
                node.start()
        self.wait_formed(timeout)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()
