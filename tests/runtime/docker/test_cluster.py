"""DockerRabbitMQCluster: one container per node, the same checks as the local cluster.

One cluster serves the module (a boot costs tens of seconds); each test leaves it restored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import docker
from chaos.runtime.docker import DockerRabbitMQCluster, DockerSession
from tests.runtime import _cluster_checks as checks

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cluster(
    docker_client: docker.DockerClient, rabbitmq_image: str
) -> Iterator[DockerRabbitMQCluster]:
    with DockerSession(docker_client) as session:
        with DockerRabbitMQCluster(session, rabbitmq_image, 3) as running:
            yield running
        assert session.leftovers()["containers"] == []  # the cluster removed its containers
    assert session.leftovers() == {"containers": [], "networks": [], "volumes": []}


@pytest.fixture(autouse=True)
def restored(cluster: DockerRabbitMQCluster) -> Iterator[None]:
    yield
    cluster.restore()


def test_containers_form_one_cluster(cluster: DockerRabbitMQCluster) -> None:
    checks.formed(cluster)
    assert cluster.node_names == ["rabbit@rabbit-1", "rabbit@rabbit-2", "rabbit@rabbit-3"]


def test_a_killed_node_drops_out_and_rejoins(cluster: DockerRabbitMQCluster) -> None:
    checks.kill_and_rejoin(cluster)


def test_pause_freezes_a_container_and_resume_thaws_it(cluster: DockerRabbitMQCluster) -> None:
    node = cluster.nodes[1]
    with node.paused():
        assert node.container.status() == "paused"
    assert node.container.status() == "running"
    assert cluster.cluster_status(1) == checks.everyone(cluster)


def test_stop_start_and_restart_keep_the_membership(cluster: DockerRabbitMQCluster) -> None:
    checks.stop_start_restart(cluster)


def test_a_partition_is_real_and_pause_minority_pauses_the_cut_node(
    cluster: DockerRabbitMQCluster,
) -> None:
    checks.partition_is_real(cluster)


def test_a_quorum_queue_elects_a_new_leader_when_its_leader_dies(
    cluster: DockerRabbitMQCluster,
) -> None:
    assert checks.leader_moves(cluster) < 60
