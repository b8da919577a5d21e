"""A local RabbitMQ cluster: formation, each node fault, real partitions, leader moves.

One cluster serves the module (a boot costs tens of seconds); each test leaves it restored.
Cleanup after a SIGKILL of pytest: tests/plugin/test_cluster_fixture.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chaos.runtime import _procfs, netns
from chaos.runtime.rabbitmq import rabbitmq_available
from chaos.runtime.rabbitmq_cluster import RabbitMQCluster
from tests.runtime import _cluster_checks as checks

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


def test_nodes_form_one_cluster_each_in_its_own_namespace(cluster: RabbitMQCluster) -> None:
    checks.formed(cluster)
    for i, node in enumerate(cluster.nodes):
        assert node.host == cluster.lab.ip(i) and node.netns[-1] == cluster.lab.ns(i)
    assert len({n.base_dir for n in cluster.nodes}) == len({n.beam_pid for n in cluster.nodes}) == 3
    # Each beam runs inside its node's namespace, not the host's.
    host_ns = os.readlink("/proc/self/ns/net")
    assert all(os.readlink(f"/proc/{n.beam_pid}/ns/net") != host_ns for n in cluster.nodes)


def test_a_killed_node_drops_out_and_rejoins(cluster: RabbitMQCluster) -> None:
    checks.kill_and_rejoin(cluster)


def test_pause_freezes_a_node_and_resume_thaws_it(cluster: RabbitMQCluster) -> None:
    node = cluster.nodes[1]
    with node.paused():
        assert _procfs.process_state(node.beam_pid or 0) == "T"
    assert _procfs.process_state(node.beam_pid or 0) != "T"
    assert cluster.cluster_status(1) == checks.everyone(cluster)


def test_stop_start_and_restart_keep_the_membership(cluster: RabbitMQCluster) -> None:
    checks.stop_start_restart(cluster)


def test_a_partition_is_real_and_pause_minority_pauses_the_cut_node(
    cluster: RabbitMQCluster,
) -> None:
    checks.partition_is_real(cluster)


def test_a_quorum_queue_elects_a_new_leader_when_its_leader_dies(
    cluster: RabbitMQCluster,
) -> None:
    assert checks.leader_moves(cluster) < 60
