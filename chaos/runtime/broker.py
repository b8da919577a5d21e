"""What every RabbitMQ handle shares (a local node, a container): lifecycle helpers and queues."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Self

from chaos.runtime._blocks import FaultBlocks
from chaos.runtime.errors import RabbitMQError

if TYPE_CHECKING:  # pika loads when a broker is first used, not when the plugin loads
    import pika
    import pika.adapters.blocking_connection

__all__ = ["Broker"]


class Broker(FaultBlocks):
    """Base of broker handles: subclasses give the addresses, the lifecycle and ``rabbitmqctl``.

    Counts come from pika (a passive declare is exact right after a restart); what pika cannot
    see (unacknowledged messages, the list of queues) from ``rabbitmqctl``.
    """

    host: str
    port: int
    node_name: str
    boot_seconds: float | None
    recovery_seconds: float | None

    @property
    def amqp_url(self) -> str:
        raise NotImplementedError

    @property
    def network_address(self) -> str:
        """host:port where other containers or processes reach the broker's AMQP port."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float | None = None) -> Self:
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        raise NotImplementedError

    def restart(self, timeout: float | None = None) -> Self:
        """Graceful stop, then start and wait ready (sets ``recovery_seconds``)."""
        self.stop()
        return self.start(timeout)

    @property
    def fault_target(self) -> str:
        return self.node_name

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connection_parameters(self, **overrides: object) -> pika.ConnectionParameters:
        """pika parameters for this broker; keyword arguments override the defaults."""
        import pika

        options: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "connection_attempts": 1,
            "socket_timeout": 5.0,
            "stack_timeout": 10.0,
            "blocked_connection_timeout": 10.0,
        }
        options.update(overrides)
        return pika.ConnectionParameters(**options)

    def queue_depth(self, name: str) -> int:
        """Messages ready in queue ``name`` (a passive declare: exact right after a restart)."""
        import pika.exceptions

        with self._channel() as channel:
            try:
                frame = channel.queue_declare(name, passive=True)
            except pika.exceptions.ChannelClosedByBroker as exc:
                raise LookupError(
                    f"queue {name!r} does not exist on {self.amqp_url} ({exc.reply_text})"
                ) from exc
        return int(frame.method.message_count)

    def delete_queues(self, names: Iterable[str]) -> None:
        """Delete the named queues (missing ones are fine)."""
        with self._channel() as channel:
            for name in names:
                channel.queue_delete(name)

    def list_queues(self, exclusive: bool | None = None) -> list[str]:
        """Names of the queues in the default vhost (via ``rabbitmqctl``); `exclusive` filters.

        An exclusive queue belongs to one open connection: only it may delete the queue, and
        the broker drops it when that connection closes.
        """
        out = self.rabbitmqctl("list_queues", "name", "exclusive", "-q", "--formatter", "json")
        rows = json.loads(out or "[]")
        return [
            row["name"]
            for row in rows
            if exclusive is None or bool(row.get("exclusive")) == exclusive
        ]

    def queue_stats(self, name: str) -> dict[str, int]:
        """Ready and unacknowledged message counts of a queue (via ``rabbitmqctl``, ~1 s;
        a local node asks ``erl_call``, in milliseconds).

        A passive declare counts only ready messages; the ones a consumer holds unacked are
        only visible here. Raises LookupError if the queue does not exist.
        """
        out = self.rabbitmqctl(
            "list_queues",
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "-q",
            "--formatter",
            "json",
        )
        for row in json.loads(out or "[]"):
            if row["name"] == name:
                return {
                    "ready": int(row["messages_ready"]),
                    "unacked": int(row["messages_unacknowledged"]),
                }
        raise LookupError(f"no queue {name!r} on node {self.node_name}")

    def consumers(self, name: str) -> int:
        """Consumers attached to queue ``name`` (via ``rabbitmqctl``); LookupError if missing."""
        out = self.rabbitmqctl("list_queues", "name", "consumers", "-q", "--formatter", "json")
        for row in json.loads(out or "[]"):
            if row["name"] == name:
                return int(row["consumers"])
        raise LookupError(f"no queue {name!r} on node {self.node_name}")

    def purge_all(self) -> dict[str, int]:
        """Drop every message in every shared queue (declarations stay); return purged counts."""
        purged: dict[str, int] = {}
        names = self.list_queues(exclusive=False)
        if names:
            with self._channel() as channel:
                for name in names:
                    purged[name] = int(channel.queue_purge(name).method.message_count)
        return purged

    def delete_all_queues(self) -> list[str]:
        """Delete every shared queue in the default vhost; return their names.

        Exclusive queues are left alone: deleting another connection's exclusive queue fails
        with 405 RESOURCE_LOCKED, and they go when their connection closes.
        """
        names = self.list_queues(exclusive=False)
        self.delete_queues(names)
        return names

    def _amqp_handshake(self) -> bool:
        import pika

        params = self.connection_parameters(socket_timeout=2.0, stack_timeout=5.0)
        connection = pika.BlockingConnection(params)
        connection.close()
        return True

    @contextlib.contextmanager
    def _channel(self) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
        import pika
        import pika.exceptions
        from pika.adapters.utils.connection_workflow import AMQPConnectorException

        try:
            connection = pika.BlockingConnection(self.connection_parameters())
        # pika lets a handshake timeout escape as AMQPConnectorStackTimeout, not an AMQPError.
        except (pika.exceptions.AMQPError, AMQPConnectorException) as exc:
            raise RabbitMQError(
                f"cannot connect to {self.amqp_url} ({exc!r}); hint: is the node running "
                "and not paused?"
            ) from exc
        try:
            yield connection.channel()
        finally:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.close()
