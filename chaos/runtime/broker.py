"""What every RabbitMQ handle shares (a local node, a container): lifecycle helpers and queues."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from typing import Self

import pika
import pika.exceptions
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from chaos.runtime.errors import RabbitMQError

__all__ = ["Broker"]


class Broker:
    """Base of broker handles: subclasses give the addresses, the lifecycle and ``rabbitmqctl``.

    Counts come from pika (a passive declare is exact right after a restart); what pika cannot
    see (unacknowledged messages, the list of queues) from ``rabbitmqctl``.
    """

    host: str
    port: int
    amqp_url: str
    node_name: str
    network_address: str
    boot_seconds: float | None
    recovery_seconds: float | None

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float | None = None) -> Self:
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        raise NotImplementedError

    def resume(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        raise NotImplementedError

    def restart(self, timeout: float | None = None) -> Self:
        """Graceful stop, then start and wait ready (sets ``recovery_seconds``)."""
        self.stop()
        return self.start(timeout)

    @contextlib.contextmanager
    def crashed(self, timeout: float | None = None) -> Iterator[Self]:
        """Kill the broker for the block; start it again (and wait ready) on the way out."""
        self.kill()
        try:
            yield self
        finally:
            self.start(timeout)

    @contextlib.contextmanager
    def paused(self) -> Iterator[Self]:
        """Freeze the broker for the block; resume it on the way out."""
        self.pause()
        try:
            yield self
        finally:
            self.resume()

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
        options: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "connection_attempts": 1,
            "socket_timeout": 5.0,
            "stack_timeout": 10.0,
            "blocked_connection_timeout": 10.0,
        }
        options.update(overrides)
        return pika.ConnectionParameters(**options)  # type: ignore[arg-type]

    def queue_depth(self, name: str) -> int:
        """Messages ready in queue ``name`` (a passive declare: exact right after a restart)."""
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

    def list_queues(self) -> list[str]:
        """Names of every queue in the default vhost (via ``rabbitmqctl``)."""
        out = self.rabbitmqctl("list_queues", "name", "-q", "--formatter", "json")
        return [row["name"] for row in json.loads(out or "[]")]

    def queue_stats(self, name: str) -> dict[str, int]:
        """Ready and unacknowledged message counts of a queue (via ``rabbitmqctl``, ~1 s).

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

    def purge_all(self) -> dict[str, int]:
        """Drop every message in every queue (declarations stay); return purged counts."""
        purged: dict[str, int] = {}
        names = self.list_queues()
        if names:
            with self._channel() as channel:
                for name in names:
                    purged[name] = int(channel.queue_purge(name).method.message_count)
        return purged

    def delete_all_queues(self) -> list[str]:
        """Delete every queue in the default vhost; return their names."""
        names = self.list_queues()
        self.delete_queues(names)
        return names

    def _amqp_handshake(self) -> bool:
        params = self.connection_parameters(socket_timeout=2.0, stack_timeout=5.0)
        connection = pika.BlockingConnection(params)
        connection.close()
        return True

    @contextlib.contextmanager
    def _channel(self) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
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
