"""AMQP topology and connection parameters shared by the publisher and the consumer."""

from typing import Any

import pika
import pika.exceptions

from sample_system.common.settings import Env, SettingsError

PRECONDITION_FAILED = 406
QUEUE_TYPES = ("classic", "quorum")
"""classic: the queue lives on one node (the default); quorum: replicated on every node (Raft)."""


def dead_letter_names(queue: str) -> tuple[str, str]:
    """Return (dead-letter exchange, dead-letter queue) for a work queue."""
    return f"{queue}.dlx", f"{queue}.dlq"


def read_queue_type(env: Env, prefix: str, *, durable: bool) -> str:
    """``<prefix>QUEUE_TYPE`` (default classic); quorum refuses ``<prefix>DURABLE_QUEUE`` off."""
    name = prefix + "QUEUE_TYPE"
    queue_type = env.choice(name, "classic", QUEUE_TYPES)
    if queue_type == "quorum" and not durable:
        raise SettingsError(
            f"{name}=quorum needs {prefix}DURABLE_QUEUE=on: a quorum queue is always durable; "
            "use the classic queue type to run without a durable queue"
        )
    return queue_type


def queue_arguments(queue: str, queue_type: str = "classic") -> dict[str, str]:
    """The work queue's arguments: its dead-letter route, and ``x-queue-type`` unless classic.

    A classic queue is declared without ``x-queue-type``, exactly as before queue types were a
    setting, so a queue left by an older run still matches.
    """
    if queue_type not in QUEUE_TYPES:
        raise ValueError(f"queue_type={queue_type!r} is not one of {', '.join(QUEUE_TYPES)}")
    dlx, dlq = dead_letter_names(queue)
    arguments = {"x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": dlq}
    if queue_type != "classic":
        arguments["x-queue-type"] = queue_type
    return arguments


def declare_topology(
    channel: Any, queue: str, *, durable: bool = True, queue_type: str = "classic"
) -> None:
    """Declare the work queue and its durable dead-letter exchange and queue (idempotent).

    Both services declare it with identical arguments; different arguments (a durability switched
    on one side only, or a queue left over from a run with the other setting) make the broker
    refuse the declaration with PRECONDITION_FAILED, raised here as a RuntimeError with a hint.
    """
    if queue_type == "quorum" and not durable:
        raise ValueError(
            f"queue {queue!r}: a quorum queue is always durable; turn *_DURABLE_QUEUE on "
            "or use the classic queue type"
        )
    arguments = queue_arguments(queue, queue_type)
    dlx, dlq = dead_letter_names(queue)
    channel.exchange_declare(exchange=dlx, exchange_type="direct", durable=True)
    # A classic DLQ lives on one node: on a cluster whose work queue is quorum, that node's
    # death would fail every declaration elsewhere, so the DLQ is quorum too.
    dlq_arguments = {"x-queue-type": queue_type} if queue_type != "classic" else None
    channel.queue_declare(queue=dlq, durable=True, arguments=dlq_arguments)
    channel.queue_bind(queue=dlq, exchange=dlx, routing_key=dlq)
    try:
        channel.queue_declare(queue=queue, durable=durable, arguments=arguments)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != PRECONDITION_FAILED:
            raise
        raise RuntimeError(
            f"queue {queue!r} exists with other arguments than durable={durable} "
            f"and type {queue_type} ({exc.reply_text}); delete it (rabbitmqctl delete_queue "
            f"{queue}) or start reactions and notifier_worker with the same *_DURABLE_QUEUE "
            "and *_QUEUE_TYPE"
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
