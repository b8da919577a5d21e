"""How long a quorum queue refuses writes after its leader is killed, and the cluster's boot.

    .venv/bin/python bench/quorum_failover.py [--kills 3] [--size 3]

Boots a local `chaos.RabbitMQCluster` (network namespaces: needs root), declares a quorum
queue, and publishes with confirms from a connection to a node that does not lead it, one
message at a time. The leader is killed with SIGKILL; the figure is the time from the kill to
the confirm of the first message published after it (the new leader is elected and has the
message on a majority), and which node leads then. The killed node is restarted (it rejoins)
before the next kill. Prints figures only: no pass/fail on speed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pika
import pika.exceptions

import chaos

QUEUE = "bench-quorum"
CONFIRM_WAIT_S = 60.0  # a bound on one publish, far above any election seen


def _connect(node: chaos.Broker) -> pika.adapters.blocking_connection.BlockingChannel:
    connection = pika.BlockingConnection(
        node.connection_parameters(socket_timeout=CONFIRM_WAIT_S, blocked_connection_timeout=None)
    )
    channel = connection.channel()
    channel.confirm_delivery()
    channel.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    return channel


def one_kill(cluster: chaos.BrokerCluster) -> tuple[float, str, str]:
    """Kill the leader; return (seconds until a write is confirmed again, killed, new leader)."""
    leader = cluster.leader(QUEUE)
    other = next(node for node in cluster if node is not leader)
    channel = _connect(other)
    channel.basic_publish("", QUEUE, b"warm", mandatory=True)
    leader.kill()
    killed_at = time.monotonic()
    deadline = killed_at + CONFIRM_WAIT_S
    while True:
        try:
            channel.basic_publish("", QUEUE, b"after", mandatory=True)
            break
        except (pika.exceptions.NackError, pika.exceptions.UnroutableError):
            if time.monotonic() >= deadline:
                raise
    seconds = time.monotonic() - killed_at
    new_leader = cluster.leader(QUEUE, via=other).node_name
    channel.connection.close()
    cluster.restore()
    return seconds, leader.node_name, new_leader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--size", type=int, default=3)
    args = parser.parse_args()
    with chaos.RabbitMQCluster(args.size) as cluster:
        print(f"cluster of {args.size} booted in {cluster.boot_seconds:.1f} s", flush=True)
        _connect(cluster[0]).connection.close()
        figures = []
        for i in range(args.kills):
            seconds, killed, leader = one_kill(cluster)
            figures.append(seconds)
            print(
                f"kill {i + 1}: {killed} killed, writes confirmed again after "
                f"{seconds:.2f} s, new leader {leader}",
                flush=True,
            )
        print(
            f"writes unavailable after a leader kill: median {statistics.median(figures):.2f} s, "
            f"min {min(figures):.2f} s, max {max(figures):.2f} s over {len(figures)} kills"
        )


if __name__ == "__main__":
    main()
