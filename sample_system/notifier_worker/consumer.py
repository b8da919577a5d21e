"""The pika consumer loop: reconnect with backoff, settle messages, pause while breaker is open."""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pika
import pika.channel
import pika.spec

from sample_system.common.amqp import connection_parameters, declare_topology
from sample_system.notifier_worker.handler import Decision, Handler
from sample_system.notifier_worker.metrics import WorkerMetrics
from sample_system.notifier_worker.settings import Settings

log = logging.getLogger(__name__)

_POLL_S = 0.2  # how often the loop re-checks stop and pause while waiting for messages


class Consumer:
    """Consume the work queue until ``stop`` is set, reconnecting after any broker failure."""

    def __init__(
        self,
        settings: Settings,
        handler: Handler,
        metrics: WorkerMetrics,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        self._settings = settings
        self._connect = connect or self._pika_connect
        self._handler = handler
        self._metrics = metrics
        self._stop = stop
        self._clock = clock
        self._paused_until = float("-inf")
        self.connected = False

    def run(self) -> None:
        """Loop: connect, consume until the connection fails, wait a backoff, repeat."""
        backoff = self._settings.reconnect_backoff_s
        while not self._stop.is_set():
            connection = None
            try:
                connection = self._connect()
                channel = connection.channel()
                declare_topology(channel, self._settings.queue)
                channel.basic_qos(prefetch_count=self._settings.prefetch)
                self._set_connected(True)
                backoff = self._settings.reconnect_backoff_s
                log.info("consuming from %s", self._settings.queue)
                self._consume(connection, channel)
            except Exception as exc:
                # pika raises several unrelated types on a dead socket; all mean "reconnect".
                log.warning("broker connection failed: %r; reconnecting in %.2fs", exc, backoff)
            finally:
                self._set_connected(False)
                if connection is not None:
                    _close_quietly(connection)
            if not self._stop.is_set():
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._settings.reconnect_backoff_max_s)

    def _pika_connect(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(
            connection_parameters(
                self._settings.amqp_url,
                self._settings.amqp_timeout_s,
                self._settings.amqp_heartbeat_s,
            )
        )

    def _consume(self, connection: Any, channel: Any) -> None:
        tag: str | None = None

        def on_message(
            ch: pika.channel.Channel,
            method: pika.spec.Basic.Deliver,
            props: pika.spec.BasicProperties,
            body: bytes,
        ) -> None:
            nonlocal tag
            self._metrics.consumed.inc()
            if self._clock() < self._paused_until:
                ch.basic_nack(method.delivery_tag, requeue=True)
                self._metrics.requeued.labels("paused").inc()
                return
            outcome = self._handler.handle(body, props.message_id)
            if outcome.decision is Decision.ACK:
                ch.basic_ack(method.delivery_tag)
                self._metrics.acked.labels(outcome.reason).inc()
            elif outcome.decision is Decision.DEAD_LETTER:
                ch.basic_reject(method.delivery_tag, requeue=False)
                self._metrics.dead_lettered.inc()
            else:
                ch.basic_nack(method.delivery_tag, requeue=True)
                self._metrics.requeued.labels(outcome.reason).inc()
            if outcome.pause:
                self._paused_until = self._clock() + self._settings.open_pause_s
                if tag is not None:
                    # Cancel now, not after this poll: a live consumer would get the requeued
                    # messages straight back and spin. pika nacks undispatched prefetched ones.
                    channel.basic_cancel(tag)
                    tag = None
                    self._metrics.paused.set(1)
                    log.info(
                        "breaker open: paused consuming for %.2fs", self._settings.open_pause_s
                    )

        try:
            while not self._stop.is_set():
                if tag is None and self._clock() >= self._paused_until:
                    tag = channel.basic_consume(self._settings.queue, on_message)
                    self._metrics.paused.set(0)
                connection.process_data_events(time_limit=_POLL_S)
            if tag is not None:
                channel.basic_cancel(tag)
        finally:
            self._metrics.paused.set(0)

    def _set_connected(self, up: bool) -> None:
        self.connected = up
        self._metrics.connected.set(1 if up else 0)


def _close_quietly(connection: Any) -> None:
    try:
        if connection.is_open:
            connection.close()
    except Exception as exc:
        log.debug("closing a broken AMQP connection: %r", exc)
