"""Boot, leader election and partition detection of a 3-node RabbitMQ cluster, local and Docker.

    .venv/bin/python bench/cluster.py [--runs 3] [--backends local,docker] [--size 3]

Each run boots a fresh cluster and measures, from the moment of the fault:
- boot: start to "every node sees every node running" (`RabbitMQCluster.start`);
- write resumed: the leader of a quorum queue is SIGKILLed; publishes through a surviving node,
  sent at once and again after each nack, until one is confirmed (a new leader committed it);
- leader reported: the same kill, until `cluster.leader()` names a survivor (polled through
  rabbitmqctl: its resolution is one CLI call, shown as "cli call");
- minority paused: node 3 is cut off; an AMQP handshake with it fails (pause_minority), polled
  every 50 ms;
- majority sees it down: the same cut, until node 1's view drops node 3 (polled by CLI).
Prints min / median / max per figure. Figures only: no pass/fail on speed. A loaded machine
(see the load average printed) stretches every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from chaos.runtime import Broker
from chaos.runtime.cluster import BrokerCluster

QUEUE = "bench-leader"


def wait(predicate: Callable[[], bool], timeout: float, step: float) -> float:
    """Seconds until `predicate` holds (raises TimeoutError after `timeout`)."""
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"not reached within {timeout} s")
        time.sleep(step)
    return time.monotonic() - began


def refuses_amqp(node: Broker) -> bool:
    """True if an AMQP handshake fails (a TCP connect is not enough: Docker's port forwarder
    accepts connections for a container that no longer listens)."""
    params = node.connection_parameters(socket_timeout=0.5, stack_timeout=1.0)
    try:
        pika.BlockingConnection(params).close()
    except (pika.exceptions.AMQPError, AMQPConnectorException, OSError):
        return True
    return False


def confirmed(channel: BlockingChannel) -> bool:
    """Publish one persistent message; True once the broker confirms it (a nack: no leader yet)."""
    try:
        channel.basic_publish("", QUEUE, b"x", pika.BasicProperties(delivery_mode=2))
    except pika.exceptions.NackError:
        return False
    return True


@contextlib.contextmanager
def make_cluster(backend: str, size: int) -> Iterator[BrokerCluster]:
    if backend == "local":
        from chaos.runtime import RabbitMQCluster

        with RabbitMQCluster(size) as cluster:
            yield cluster
    else:
        from chaos.runtime.docker import DockerRabbitMQCluster, DockerSession

        image = os.environ.get("CHAOS_RABBITMQ_IMAGE", "chaos-rabbitmq:local")
        with DockerSession() as session, DockerRabbitMQCluster(session, image, size) as cluster:
            yield cluster


def one_run(backend: str, size: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with make_cluster(backend, size) as cluster:
        assert cluster.boot_seconds is not None
        figures["boot"] = cluster.boot_seconds
        began = time.monotonic()
        cluster.cluster_status(0)
        figures["cli call"] = time.monotonic() - began
        with pika.BlockingConnection(cluster.nodes[0].connection_parameters()) as connection:
            channel = connection.channel()
            channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        leader = cluster.leader(QUEUE)
        survivor = next(n for n in cluster.nodes if n is not leader)
        params = survivor.connection_parameters(blocked_connection_timeout=60)
        with pika.BlockingConnection(params) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            # A publisher already at work: in one run a channel whose first publish came after
            # the kill was nacked for over 60 s (it had only the dead leader's address).
            assert confirmed(channel)
            began = time.monotonic()
            leader.kill()  # on Docker, `docker kill` and its wait take a while: count them too
            wait(lambda: confirmed(channel), 60, 0.0)
            figures["write resumed after leader kill"] = time.monotonic() - began
        figures["leader reported after kill"] = (
            time.monotonic()
            - began
            + wait(lambda: cluster.leader(QUEUE, via=survivor) is not leader, 60, 0.05)
        )
        leader.start()
        cluster.wait_formed(120)
        minority = cluster.nodes[-1]
        began = time.monotonic()
        cluster.partition([len(cluster) - 1])
        figures["minority paused (AMQP refused)"] = wait(lambda: refuses_amqp(minority), 60, 0.05)
        figures["majority sees it down"] = (
            time.monotonic()
            - began
            + wait(lambda: minority.node_name not in cluster.cluster_status(0), 60, 0.05)
        )
        began = time.monotonic()
        cluster.heal()
        figures["heal to formed"] = time.monotonic() - began
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", type=int, default=3)
    ap.add_argument("--backends", default="local,docker")
    args = ap.parse_args()
    backends = args.backends.split(",")
    results: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    for i in range(1, args.runs + 1):
        for backend in backends:
            load = os.getloadavg()[0]
            run = one_run(backend, args.size)
            results[backend].append(run)
            shown = ", ".join(f"{k} {v:.2f}" for k, v in run.items())
            print(f"run {i} {backend} (load {load:.1f}): {shown}", flush=True)
    print(f"\nseconds over {args.runs} run(s), {args.size} nodes: min / median / max")
    for backend in backends:
        print(f"  {backend}")
        for name in results[backend][0]:
            values = [r[name] for r in results[backend]]
            print(
                f"    {name:<34} {min(values):7.2f} {statistics.median(values):7.2f}"
                f" {max(values):7.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
