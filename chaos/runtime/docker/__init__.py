"""Docker backend: the same handles as the local runtime, on containers of one network.

with DockerSession() as session:                       # network chaos-<run>, removed at close
    broker = DockerRabbitMQ(session, "chaos-rabbitmq:local").start()
    with broker.crashed(): ...                          # docker kill, then docker start
    api = Container(session, "api", "my-image", aliases=["api"], ports={8000: 18000}).start()
    api.isolate(); api.rejoin()                         # docker network disconnect / connect
    cluster = DockerRabbitMQCluster(session, "chaos-rabbitmq:local", 3).start()
    with cluster.partitioned([0]): ...                  # iptables in node 0's container
"""

from chaos.runtime.docker.cluster import DockerRabbitMQCluster
from chaos.runtime.docker.container import Container
from chaos.runtime.docker.errors import DockerError, DockerUnavailable, ImageMissing
from chaos.runtime.docker.rabbitmq import DockerRabbitMQ
from chaos.runtime.docker.session import (
    MANAGED,
    RUN,
    DockerSession,
    cleanup,
    connect,
    leftovers,
    unavailable_reason,
)

__all__ = [
    "MANAGED",
    "RUN",
    "Container",
    "DockerError",
    "DockerRabbitMQ",
    "DockerRabbitMQCluster",
    "DockerSession",
    "DockerUnavailable",
    "ImageMissing",
    "cleanup",
    "connect",
    "leftovers",
    "unavailable_reason",
]
