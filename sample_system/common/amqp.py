"""AMQP topology and connection parameters shared by the publisher and the consumer."""

from typing import Any

import pika


def dead_letter_names(queue: str) -> tuple[str, str]:
    """Return (dead-letter exchange, dead-letter queue) for a work queue."""
    return f"{queue}.dlx", f"{queue}.dlq"


def declare_topology(channel: Any, queue: str) -> None:
    """Declare the durable work queue and its dead-letter exchange and queue (idempotent).

    Both services declare it with identical arguments; different arguments would make the broker
    refuse the second declaration with PRECONDITION_FAILED.
    """
    dlx, dlq = dead_letter_names(queue)
    channel.exchange_declare(exchange=dlx, exchange_type="direct", durable=True)
    channel.queue_declare(queue=dlq, durable=True)
    channel.queue_bind(queue=dlq, exchange=dlx, routing_key=dlq)
    channel.queue_declare(
        queue=queue,
        durable=True,
        arguments={"x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": dlq},
    )


def connection_parameters(url: str, timeout_s: float, heartbeat_s: int) -> pika.URLParameters:
    """Build parameters whose every network wait is bounded by ``timeout_s``."""
    params = pika.URLParameters(url)
    params.socket_timeout = timeout_s
    params.stack_timeout = timeout_s * 2
    params.blocked_connection_timeout = timeout_s * 5
    params.connection_attempts = 1  # callers own the retry policy
    params.retry_delay = 0
    params.heartbeat = heartbeat_s
    return params
