"""A local RabbitMQ cluster: formation, each node fault, real partitions, leader moves, cleanup.

One cluster serves the module (a boot costs tens of seconds); each test leaves it restored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pika
import pika.exceptions
import pytest
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from chaos._timeline import Timeline, active
from chaos.runtime import _procfs, netns
from chaos.runtime.rabbitmq import rabbitmq_available
from chaos.runtime.rabbitmq_cluster import RabbitMQCluster
from tests.runtime._helpers import all_gone, wait_until

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed"),
    pytest.mark.skipif(
        netns.unavailable_reason() is not None, reason=str(netns.unavailable_reason())
    ),
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQCluster]:
    with RabbitMQCluster(3, tmp_path_factory.mktemp("cluster")) as running:
        yield running
    assert netns.leftovers(running.run) == []


@pytest.fixture(autouse=True)
def restored(cluster: RabbitMQCluster) -> Iterator[None]:
    yield
    cluster.restore()


def everyone(cluster: RabbitMQCluster) -> list[str]:
    return sorted(cluster.node_names)


def test_nodes_form_one_cluster_each_in_its_own_namespace(cluster: RabbitMQCluster) -> None:
    for i, node in enumerate(cluster.nodes):
        assert cluster.cluster_status(i) == everyone(cluster)
        assert node.host == cluster.lab.ip(i) and node.netns[-1] == cluster.lab.ns(i)
    assert len({n.port for n in cluster.nodes}) == 3
    assert len({n.base_dir for n in cluster.nodes}) == 3
    assert len({n.beam_pid for n in cluster.nodes}) == 3
    assert cluster.boot_seconds is not None
    # Each beam runs inside its node's namespace, not the host's.
    host_ns = os.readlink("/proc/self/ns/net")
    assert all(os.readlink(f"/proc/{n.beam_pid}/ns/net") != host_ns for n in cluster.nodes)


def test_a_killed_node_drops_out_and_rejoins(cluster: RabbitMQCluster) -> None:
    victim = cluster.nodes[2]
    timeline = Timeline()
    with active(timeline), victim.crashed():
        assert not victim.running
        assert wait_until(lambda: len(cluster.cluster_status(0)) == 2, 60)
        assert victim.node_name not in cluster.cluster_status(1)
    cluster.wait_formed(60)
    assert [(e.kind, e.target) for e in timeline.events] == [("crash", victim.node_name)]


def test_pause_freezes_a_node_and_resume_thaws_it(cluster: RabbitMQCluster) -> None:
    node = cluster.nodes[1]
    with node.paused():
        assert _procfs.process_state(node.beam_pid or 0) == "T"
    assert _procfs.process_state(node.beam_pid or 0) != "T"
    assert cluster.cluster_status(1) == everyone(cluster)


def test_stop_start_and_restart_keep_the_membership(cluster: RabbitMQCluster) -> None:
    node = cluster.nodes[1]
    node.stop()
    assert not node.running
    assert wait_until(lambda: node.node_name not in cluster.cluster_status(0), 60)
    node.start()
    cluster.wait_formed(60)
    node.restart()
    cluster.wait_formed(60)
    assert node.recovery_seconds is not None


def test_a_partition_is_real_and_pause_minority_pauses_the_cut_node(
    cluster: RabbitMQCluster,
) -> None:
    minority = cluster.nodes[2]
    majority = sorted(cluster.node_names[:2])
    timeline = Timeline()
    with active(timeline), cluster.partitioned([2]):
        # Distribution is cut: the majority sees node 3 down, node 3 reaches nobody.
        assert wait_until(lambda: cluster.cluster_status(0) == majority, 60)
        assert cluster.cluster_status(1) == majority
        assert wait_until(lambda: not cluster.view(2).app_running, 60), cluster.view(2)
        cut = cluster.view(2)
        assert cut.connected == [minority.node_name] and cut.running == []
        assert cut.views[cluster.node_names[0]] is None  # it cannot even ask them
        assert sum("DROP" in rule for rule in cluster.rules(2)) == 4
        # pause_minority: the cut node stops serving AMQP while its VM runs on.
        with pytest.raises((pika.exceptions.AMQPError, AMQPConnectorException)):
            pika.BlockingConnection(minority.connection_parameters()).close()
        assert minority.running
    assert timeline.events[0].kind == "partition"
    assert cluster.partitioned_pairs == set() and cluster.rules(2) == []
    # Healed: traffic through the formerly cut node works again.
    queue = "after-heal"
    with pika.BlockingConnection(minority.connection_parameters()) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.basic_publish("", queue, b"back", pika.BasicProperties(delivery_mode=2))
    assert wait_until(lambda: cluster.nodes[0].queue_depth(queue) == 1, 30)
    cluster.nodes[0].delete_queues([queue])


def test_a_quorum_queue_elects_a_new_leader_when_its_leader_dies(
    cluster: RabbitMQCluster,
) -> None:
    queue = "leader-moves"
    with pika.BlockingConnection(cluster.nodes[0].connection_parameters()) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
        channel.basic_publish("", queue, b"kept", pika.BasicProperties(delivery_mode=2))
    leader = cluster.leader(queue)
    survivors = [n for n in cluster.nodes if n is not leader]
    leader.kill()
    began = time.monotonic()
    assert wait_until(lambda: cluster.leader(queue, via=survivors[0]) in survivors, 60)
    elected = time.monotonic() - began
    assert survivors[0].queue_depth(queue) == 1  # the confirmed message survived the kill
    leader.start()
    cluster.wait_formed(60)
    survivors[0].delete_queues([queue])
    assert elected < 60


def test_cluster_teardown_after_sigkill_of_the_owner_leaves_nothing(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from chaos.runtime.rabbitmq_cluster import RabbitMQCluster\n"
        f"c = RabbitMQCluster(1, {str(tmp_path)!r}).start()\n"
        "print(c.run, *[p for n in c.nodes for p, _ in n.processes()], flush=True)\n"
        "sys.stdin.read()\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        run, *pids = owner.stdout.readline().split()
        assert pids and netns.leftovers(run) != []
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        assert all_gone([int(p) for p in pids], 30)
        assert wait_until(lambda: netns.leftovers(run) == [], 60), netns.leftovers(run)
    finally:
        owner.kill()
        owner.wait()
