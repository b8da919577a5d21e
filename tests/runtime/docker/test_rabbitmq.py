"""DockerRabbitMQ: crash keeps durable data, pause freezes, queues inspected by docker exec."""

from __future__ import annotations

from collections.abc import Iterator

import pika
import pytest
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from chaos.runtime import RabbitMQError
from chaos.runtime.docker import DockerRabbitMQ, DockerSession


@pytest.fixture
def broker(session: DockerSession, rabbitmq_image: str) -> Iterator[DockerRabbitMQ]:
    with DockerRabbitMQ(session, rabbitmq_image) as b:
        yield b


def publish(broker: DockerRabbitMQ, queue: str, count: int) -> None:
    connection = pika.BlockingConnection(broker.connection_parameters())
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    channel.confirm_delivery()
    for i in range(count):
        channel.basic_publish(
            "", queue, str(i).encode(), pika.BasicProperties(delivery_mode=2), mandatory=True
        )
    connection.close()


@pytest.mark.timeout(240)
def test_kill_and_start_keep_persistent_messages(broker: DockerRabbitMQ) -> None:
    assert broker.boot_seconds is not None
    assert broker.network_address == "rabbitmq:5672"
    publish(broker, "durable-q", 5)
    assert broker.queue_stats("durable-q") == {"ready": 5, "unacked": 0}
    # A queue declared just before a crash may not be on disk yet (RabbitMQ 3.10 writes the
    # declaration through Mnesia's delayed-write log): flush it, as the local tests do.
    broker.rabbitmqctl("eval", "mnesia:sync_log().")
    with broker.crashed():
        assert not broker.running
        assert broker.container.sdk.attrs["State"]["ExitCode"] == 137
    assert broker.recovery_seconds is not None
    assert broker.queue_depth("durable-q") == 5
    assert "durable-q" in broker.list_queues()
    assert broker.delete_all_queues() == ["durable-q"]


@pytest.mark.timeout(240)
def test_pause_freezes_the_broker_until_resumed(broker: DockerRabbitMQ) -> None:
    with broker.paused():
        # pika reports a handshake timeout outside its AMQPError tree.
        with pytest.raises((pika.exceptions.AMQPError, AMQPConnectorException)):
            pika.BlockingConnection(broker.connection_parameters(socket_timeout=1, stack_timeout=2))
        with pytest.raises(RabbitMQError, match="paused"):
            broker.rabbitmqctl("list_queues")
    assert broker._amqp_handshake()
