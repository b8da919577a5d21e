"""AMQP topology and connection parameters shared by the publisher and the consumer."""

from typing import Any

import pika
import pika.exceptions

PRECONDITION_FAILED = 406


def dead_letter_names(queue: str) -> tuple[str, str]:
    """Return (dead-letter exchange, dead-letter queue) for a work queue."""
    return f"{queue}.dlx", f"{queue}.dlq"


def declare_topology(channel: Any, queue: str, *, durable: bool = True) -> None:
    """Declare the work queue and its durable dead-letter exchange and queue (idempotent).

    Both services declare it with identical arguments; different arguments (a durability switched
    on one side only, or a queue left over from a run with the other setting) make the broker
    refuse the declaration with PRECONDITION_FAILED, raised here as a RuntimeError with a hint.
    """
    dlx, dlq = dead_letter_names(queue)
    channel.exchange_declare(exchange=dlx, exchange_type="direct", durable=True)
    channel.queue_declare(queue=dlq, durable=True)
    channel.queue_bind(queue=dlq, exchange=dlx, routing_key=dlq)
    try:
        channel.queue_declare(
            queue=queue,
            durable=durable,
            arguments={"x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": dlq},
        )
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != PRECONDITION_FAILED:
            raise
        raise RuntimeError(
            f"queue {queue!r} exists with other arguments than durable={durable} "
            f"({exc.reply_text}); delete it (rabbitmqctl delete_queue {queue}) or start "
            "reactions and notifier_worker with the same *_DURABLE_QUEUE"
        ) from exc


def connection_parameters(
    url: str, timeout_s: float, heartbeat_s: int, *, timeouts: bool = True
) -> pika.URLParameters:
    """Build parameters whose every network wait is bounded by ``timeout_s``.

    ``timeouts=False`` is the regression of a team that never set them: pika's defaults for the
    socket, stack and blocked-connection timeouts (the last one: wait forever) and the heartbeat
    the broker proposes (60 s).
    """
    params = pika.URLParameters(url)
    params.connection_attempts = 1  # callers own the retry policy
    params.retry_delay = 0
    if timeouts:
        params.socket_timeout = timeout_s
        params.stack_timeout = timeout_s * 2
        params.blocked_connection_timeout = timeout_s * 5
        params.heartbeat = heartbeat_s
    return params
