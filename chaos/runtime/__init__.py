"""Process runtime: free ports, supervised processes, and a private RabbitMQ node.

port = allocate_port()
with ManagedProcess("api", [sys.executable, "-m", "myapi", str(port)],
                    readiness=HttpReady(f"http://127.0.0.1:{port}/health")) as api:
    ...                                    # api.kill() / api.pause() / api.restart()
with RabbitMQNode(tmp_dir) as broker:      # broker.amqp_url, broker.queue_depth("q")
    with broker.crashed(): ...             # kill -9, then start again and wait ready
with RabbitMQCluster(3) as cluster:        # each node in its own network namespace
    with cluster.partitioned([0]): ...     # iptables DROP between node 0 and the others
    cluster.leader("orders")               # the node leading a quorum queue
"""

from chaos.runtime.broker import Broker
from chaos.runtime.cluster import BrokerCluster, NodeView
from chaos.runtime.errors import ServiceError, ServiceExited, ServiceNotReady
from chaos.runtime.netns import NetnsUnavailable
from chaos.runtime.ports import (
    PortAllocator,
    PortExhausted,
    allocate_port,
    parse_port_range,
    services_port_range,
    wait_for_port,
)
from chaos.runtime.process import ManagedProcess, ProcessInfo
from chaos.runtime.rabbitmq import (
    DEFAULT_RABBITMQ_SERVER,
    RabbitMQError,
    RabbitMQNode,
    RabbitMQNotInstalled,
    rabbitmq_available,
)
from chaos.runtime.rabbitmq_cluster import RabbitMQCluster
from chaos.runtime.readiness import (
    CallableReady,
    HttpReady,
    NotReady,
    QueueConsumerReady,
    Readiness,
    TcpReady,
)

__all__ = [
    "DEFAULT_RABBITMQ_SERVER",
    "Broker",
    "BrokerCluster",
    "CallableReady",
    "HttpReady",
    "ManagedProcess",
    "NetnsUnavailable",
    "NodeView",
    "NotReady",
    "PortAllocator",
    "PortExhausted",
    "ProcessInfo",
    "QueueConsumerReady",
    "RabbitMQCluster",
    "RabbitMQError",
    "RabbitMQNode",
    "RabbitMQNotInstalled",
    "Readiness",
    "ServiceError",
    "ServiceExited",
    "ServiceNotReady",
    "TcpReady",
    "allocate_port",
    "parse_port_range",
    "rabbitmq_available",
    "services_port_range",
    "wait_for_port",
]
