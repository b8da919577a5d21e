"""Checks every cluster backend must pass (local namespaces, containers): one function each."""

from __future__ import annotations

import time

import pika
import pika.exceptions
import pytest
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from chaos._timeline import Timeline, active
from chaos.runtime.cluster import BrokerCluster
from tests.runtime._helpers import wait_until


def everyone(cluster: BrokerCluster) -> list[str]:
    return sorted(cluster.node_names)


def formed(cluster: BrokerCluster) -> None:
    """Every node sees every node running; each has its own port and name."""
    for i in range(len(cluster)):
        assert cluster.cluster_status(i) == everyone(cluster)
    assert len(set(cluster.amqp_urls)) == len(cluster) == len(set(cluster.node_names))
    assert cluster.boot_seconds is not None


def kill_and_rejoin(cluster: BrokerCluster) -> None:
    """A crashed node drops out of the others' view and rejoins; the crash is on the timeline."""
    victim = cluster.nodes[2]
    timeline = Timeline()
    with active(timeline), victim.crashed():
        assert not victim.running
        assert wait_until(lambda: len(cluster.cluster_status(0)) == len(cluster) - 1, 60)
        assert victim.node_name not in cluster.cluster_status(1)
    cluster.wait_formed(60)
    assert [(e.kind, e.target) for e in timeline.events] == [("crash", victim.fault_target)]


def stop_start_restart(cluster: BrokerCluster) -> None:
    """A stopped node drops out; `restart()` (a no-op stop, then `start()`) brings it back."""
    node = cluster.nodes[1]
    node.stop()
    assert not node.running
    assert wait_until(lambda: node.node_name not in cluster.cluster_status(0), 60)
    node.restart()  # one stop/start cycle for both: a clean stop of a cluster node takes seconds
    assert node.running and node.recovery_seconds is not None
    cluster.wait_formed(60)


def _publish(params: pika.ConnectionParameters, queue: str, body: bytes) -> None:
    with pika.BlockingConnection(params) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))


def partition_is_real(cluster: BrokerCluster) -> None:
    """Each side sees the other down, pause_minority pauses the cut node, traffic resumes."""
    minority = cluster.nodes[2]
    majority = sorted(cluster.node_names[:2])
    timeline = Timeline()
    with active(timeline), cluster.partitioned([2]):
        assert wait_until(lambda: cluster.cluster_status(0) == majority, 60)
        assert cluster.cluster_status(1) == majority
        assert wait_until(lambda: not cluster.view(2).app_running, 60), cluster.view(2)
        cut = cluster.view(2)
        # Erlang distribution itself is cut: node 3 reaches nobody, not even over RPC.
        assert cut.connected == [minority.node_name] and cut.running == []
        assert cut.views[cluster.node_names[0]] is None
        assert sum("DROP" in rule for rule in cluster.rules(2)) == 4
        # pause_minority: the cut node stops serving AMQP while its VM runs on.
        with pytest.raises((pika.exceptions.AMQPError, AMQPConnectorException)):
            pika.BlockingConnection(minority.connection_parameters()).close()
        assert minority.running
    assert timeline.events[0].kind == "partition"
    assert cluster.partitioned_pairs == set() and cluster.rules(2) == []
    assert wait_until(lambda: cluster.view(2).app_running, 60)
    queue = "after-heal"
    _publish(minority.connection_parameters(), queue, b"back")
    assert wait_until(lambda: cluster.nodes[0].queue_depth(queue) == 1, 30)
    cluster.nodes[0].delete_queues([queue])


def leader_moves(cluster: BrokerCluster) -> float:
    """Kill a quorum queue's leader: another node leads, the confirmed message is kept."""
    queue = "leader-moves"
    _publish(cluster.nodes[0].connection_parameters(), queue, b"kept")
    leader = cluster.leader(queue)
    survivors = [n for n in cluster.nodes if n is not leader]
    leader.kill()
    began = time.monotonic()
    assert wait_until(lambda: cluster.leader(queue, via=survivors[0]) in survivors, 60)
    elected = time.monotonic() - began
    assert survivors[0].queue_depth(queue) == 1
    leader.start()
    cluster.wait_formed(60)
    survivors[0].delete_queues([queue])
    return elected
