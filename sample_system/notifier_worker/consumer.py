"""The pika consumer loop: reconnect with backoff, settle messages, pause while breaker is open.

Protections read: ``ack_after_push`` (off: consume with auto_ack, so the broker forgets a message
as it sends it, prefetch no longer bounds what is in flight, and a message that is not pushed is
lost; a run-time change re-subscribes), ``reconnect`` (off: after the first connection ends or
fails, the loop opens no other while the process lives on), ``timeouts`` (off: pika's defaults
from the next connection) and ``durable_queue`` (start-up only).
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pika
import pika.channel
import pika.spec

from sample_system.common.amqp import connection_parameters, declare_topology
from sample_system.common.failover import Failover
from sample_system.common.protections import Protections
from sample_system.notifier_worker.handler import Decision, Handler, Outcome
from sample_system.notifier_worker.metrics import WorkerMetrics
from sample_system.notifier_worker.settings import PROTECTIONS, Settings

log = logging.getLogger(__name__)

_POLL_S = 0.2  # how often the loop re-checks stop and pause while waiting for messages


class ConsumerCancelled(Exception):
    """The broker ended our subscription while the connection stayed open."""


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
        protections: Protections | None = None,
    ) -> None:
        self._settings = settings
        self._protections = protections or Protections(PROTECTIONS)
        self._connect = connect or self._pika_connect
        self._handler = handler
        self._metrics = metrics
        self._stop = stop
        self._clock = clock
        self._paused_until = float("-inf")
        # Each new connection tries the node after the last one used (a cluster's nodes).
        self._failover = Failover(settings.amqp_urls)
        self.connected = False

    def run(self) -> None:
        """Loop: connect, consume until the connection fails, wait a backoff, repeat."""
        backoff = self._settings.reconnect_backoff_s
        attempted = False
        while not self._stop.is_set():
            if attempted and not self._protections["reconnect"]:
                self._stop.wait(_POLL_S)  # switched back on at run time, the loop goes on
                continue
            attempted = True
            connection = None
            try:
                connection = self._connect()
                channel = connection.channel()
                declare_topology(
                    channel,
                    self._settings.queue,
                    durable=self._protections["durable_queue"],
                    queue_type=self._settings.queue_type,
                )
                channel.basic_qos(prefetch_count=self._settings.prefetch)
                self._set_connected(True)
                backoff = self._settings.reconnect_backoff_s
                log.info("consuming from %s", self._settings.queue)
                self._consume(connection, channel)
            except Exception as exc:
                # pika raises several unrelated types on a dead socket; all mean "reconnect".
                log.warning("broker connection failed: %r", exc)
            finally:
                self._set_connected(False)
                if connection is not None:
                    _close_quietly(connection)
            if self._stop.is_set():
                break
            if not self._protections["reconnect"]:
                log.warning("reconnect is off: no new broker connection")
            else:
                log.info("reconnecting in %.2fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._settings.reconnect_backoff_max_s)

    def _pika_connect(self) -> pika.BlockingConnection:
        return self._failover.connect(
            lambda url: pika.BlockingConnection(
                connection_parameters(
                    url,
                    self._settings.amqp_timeout_s,
                    self._settings.amqp_heartbeat_s,
                    timeouts=self._protections["timeouts"],
                )
            )
        )

    def _consume(self, connection: Any, channel: Any) -> None:
        tag: str | None = None
        auto_ack = False  # how the current subscription was made

        def on_message(
            ch: pika.channel.Channel,
            method: pika.spec.Basic.Deliver,
            props: pika.spec.BasicProperties,
            body: bytes,
        ) -> None:
            nonlocal tag
            self._metrics.consumed.inc()
            if self._clock() < self._paused_until:
                outcome = Outcome(Decision.REQUEUE, "paused")
            else:
                outcome = self._handler.handle(body, props.message_id)
            self._settle(ch, method.delivery_tag, outcome, auto_ack, props.message_id)
            if outcome.pause:
                self._paused_until = self._clock() + self._settings.open_pause_s
                if tag is not None:
                    # Cancel now, not after this poll: a live consumer would get the requeued
                    # messages straight back and spin. pika nacks undispatched prefetched ones.
                    self._cancel(channel, tag, auto_ack)
                    tag = None
                    self._metrics.paused.set(1)
                    log.info(
                        "breaker open: paused consuming for %.2fs", self._settings.open_pause_s
                    )

        try:
            while not self._stop.is_set():
                wanted = not self._protections["ack_after_push"]
                if tag is not None and auto_ack != wanted:
                    self._cancel(channel, tag, auto_ack)
                    tag = None
                if tag is None and self._clock() >= self._paused_until:
                    auto_ack = wanted
                    tag = channel.basic_consume(self._settings.queue, on_message, auto_ack=auto_ack)
                    self._metrics.paused.set(0)
                connection.process_data_events(time_limit=_POLL_S)
                if tag is not None and tag not in channel.consumer_tags:
                    # The broker cancelled us (the queue's node died, or the queue was
                    # deleted): this connection will deliver nothing more, so open another.
                    raise ConsumerCancelled(
                        f"the broker cancelled the consumer of {self._settings.queue!r}"
                    )
            if tag is not None:
                self._cancel(channel, tag, auto_ack)
        finally:
            self._metrics.paused.set(0)

    def _settle(
        self, ch: Any, delivery_tag: int, outcome: Outcome, auto_acked: bool, mid: str | None
    ) -> None:
        if auto_acked:
            # The broker forgot the message when it sent it: it can be neither requeued nor
            # dead-lettered.
            if outcome.decision is Decision.ACK:
                self._metrics.acked.labels(outcome.reason).inc()
            else:
                self._metrics.lost.labels(outcome.reason).inc()
                log.warning("message %s was auto-acked but not pushed (%s): lost", mid, outcome)
        elif outcome.decision is Decision.ACK:
            ch.basic_ack(delivery_tag)
            self._metrics.acked.labels(outcome.reason).inc()
        elif outcome.decision is Decision.DEAD_LETTER:
            ch.basic_reject(delivery_tag, requeue=False)
            self._metrics.dead_lettered.inc()
        else:
            ch.basic_nack(delivery_tag, requeue=True)
            self._metrics.requeued.labels(outcome.reason).inc()

    def _cancel(self, channel: Any, tag: str, auto_acked: bool) -> None:
        # pika hands back the messages an auto_ack consumer had received but not dispatched.
        pending = channel.basic_cancel(tag) or []
        if auto_acked and pending:
            self._metrics.lost.labels("cancelled").inc(len(pending))
            log.warning("%d auto-acked messages dropped on cancel: lost", len(pending))

    def _set_connected(self, up: bool) -> None:
        self.connected = up
        self._metrics.connected.set(1 if up else 0)


def _close_quietly(connection: Any) -> None:
    try:
        if connection.is_open:
            connection.close()
    except Exception as exc:
        log.debug("closing a broken AMQP connection: %r", exc)
