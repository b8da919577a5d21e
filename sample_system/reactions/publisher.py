"""The AMQP publisher: one thread owns the pika connection (pika is not thread safe).

Request handlers and the outbox drainer hand it jobs through a bounded queue and wait on a
``concurrent.futures.Future`` that resolves once the broker has confirmed the message.

The protections read here, each switchable at run time (see ``reactions.settings.PROTECTIONS``):
``confirms`` (off: a channel without confirm mode, so a publish returns once written to the
socket; a change reopens the channel), ``persistent`` (off: delivery_mode 1), ``reconnect`` (off:
once a connection is lost or fails to open, no other is opened), ``retry_backoff`` (off: the
attempts follow each other at once, with no time budget), ``timeouts`` (off: pika's defaults on
the next connection).
"""

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import pika
import tenacity

from sample_system.common.amqp import connection_parameters, declare_topology
from sample_system.common.protections import Protections
from sample_system.common.retry import bounded_retrying, immediate_retrying
from sample_system.reactions.settings import PROTECTIONS

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The broker did not confirm a message (unreachable, refused, or retries exhausted)."""


class PublisherBusy(PublishError):
    """The publisher's bounded queue is full."""


class Link(Protocol):
    """An open channel, in confirm mode unless opened with confirms off."""

    def publish(self, message_id: str, body: bytes, *, persistent: bool) -> None:
        """Publish; return once the broker confirmed it (without confirm mode: once written)."""

    def idle(self) -> None:
        """Service heartbeats while no message is being published."""

    def close(self) -> None:
        """Close the connection, ignoring errors."""


class Connect(Protocol):
    """Open a Link with the protections that apply to a whole connection."""

    def __call__(self, *, confirms: bool, timeouts: bool) -> Link:
        """Connect; raise on failure."""


class PikaLink:
    """A pika BlockingConnection + channel (confirm mode unless ``confirms`` is off)."""

    def __init__(
        self,
        url: str,
        queue_name: str,
        timeout_s: float,
        heartbeat_s: int,
        *,
        confirms: bool = True,
        durable: bool = True,
        timeouts: bool = True,
        queue_type: str = "classic",
    ) -> None:
        self._queue = queue_name
        self._connection = pika.BlockingConnection(
            connection_parameters(url, timeout_s, heartbeat_s, timeouts=timeouts)
        )
        try:
            self._channel = self._connection.channel()
            if confirms:
                self._channel.confirm_delivery()
            declare_topology(self._channel, queue_name, durable=durable, queue_type=queue_type)
        except Exception:
            self.close()
            raise

    def publish(self, message_id: str, body: bytes, *, persistent: bool) -> None:
        """Publish; in confirm mode pika raises NackError/UnroutableError when not confirmed."""
        mode = pika.DeliveryMode.Persistent if persistent else pika.DeliveryMode.Transient
        self._channel.basic_publish(
            exchange="",
            routing_key=self._queue,
            body=body,
            properties=pika.BasicProperties(
                delivery_mode=mode,
                message_id=message_id,
                content_type="application/json",
            ),
            mandatory=True,
        )

    def idle(self) -> None:
        """Let pika answer heartbeats and notice a dead socket."""
        self._connection.process_data_events(time_limit=0)

    def close(self) -> None:
        """Close the connection; it may already be dead."""
        try:
            if self._connection.is_open:
                self._connection.close()
        except Exception as exc:
            log.debug("closing a broken AMQP connection: %r", exc)


@dataclass
class _Job:
    message_id: str
    body: bytes
    probe: bool
    future: "Future[None]"


class Publishing(Protocol):
    """What the app and the drainer need from a publisher (tests substitute a fake)."""

    @property
    def connected(self) -> bool:
        """Whether a broker connection is open."""

    def start(self) -> None:
        """Start publishing."""

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop publishing."""

    def submit(self, message_id: str, body: bytes, *, probe: bool = False) -> "Future[None]":
        """Queue a message; the future resolves on confirm or fails with PublishError."""


class PublisherHooks(Protocol):
    """Callbacks the publisher reports to (metrics)."""

    def connected(self, up: bool) -> None:
        """The broker connection went up or down."""

    def retried(self) -> None:
        """A publish attempt failed and will be retried."""

    def confirmed(self) -> None:
        """The broker confirmed a message."""

    def failed(self) -> None:
        """A message was given up on after retries."""


class NoHooks:
    """Hooks that record nothing."""

    def connected(self, up: bool) -> None:
        """Ignore."""

    def retried(self) -> None:
        """Ignore."""

    def confirmed(self) -> None:
        """Ignore."""

    def failed(self) -> None:
        """Ignore."""


class Publisher:
    """Publish with tenacity retries from one dedicated thread; see the module docstring."""

    def __init__(
        self,
        connect: Connect,
        *,
        protections: Protections | None = None,
        queue_size: int = 1000,
        attempts: int = 3,
        max_s: float = 2.0,
        backoff_s: float = 0.05,
        backoff_max_s: float = 0.5,
        cooldown_s: float = 1.0,
        idle_s: float = 0.5,
        hooks: PublisherHooks | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size={queue_size} must be >= 1")
        if attempts < 1:
            raise ValueError(f"attempts={attempts} must be >= 1 (1 = no retry)")
        self._connect = connect
        self._protections = protections or Protections(PROTECTIONS)
        self._jobs: queue.Queue[_Job] = queue.Queue(maxsize=queue_size)
        self._attempts = attempts
        self._max_s = max_s
        self._wait = tenacity.wait_exponential(multiplier=backoff_s, max=backoff_max_s)
        self._sleep = sleep
        self._cooldown_s = cooldown_s
        self._idle_s = idle_s
        self._hooks = hooks or NoHooks()
        self._clock = clock
        self._link: Link | None = None
        self._link_confirms = True
        self._lost = False  # the last connection was lost or failed to open
        self._unavailable_until = float("-inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="amqp-publisher", daemon=True)

    @property
    def connected(self) -> bool:
        """Whether the publisher thread currently holds an open broker connection."""
        return self._link is not None

    def start(self) -> None:
        """Start the publisher thread."""
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread, fail queued jobs, close the connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        while True:
            try:
                self._jobs.get_nowait().future.cancel()
            except queue.Empty:
                break
        if not self._thread.is_alive():
            self._drop_link()

    def submit(self, message_id: str, body: bytes, *, probe: bool = False) -> "Future[None]":
        """Queue a message; the future resolves on confirm or fails with PublishError.

        A non-probe job fails fast while the broker is cooling down after a failure, so requests
        do not each wait out a dead broker; the outbox drainer submits probes, which always try.
        """
        job = _Job(message_id, body, probe, Future())
        if self._stop.is_set():
            raise PublishError("publisher is stopped")
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise PublisherBusy(
                f"publisher queue is full ({self._jobs.maxsize} jobs); "
                "raise REACTIONS_PUBLISH_QUEUE_SIZE or check the broker"
            ) from None
        return job.future

    def run_once(self, timeout_s: float) -> bool:
        """Process one queued job, or service the idle connection; return False when idle.

        The thread loops on this; tests call it directly instead of starting the thread.
        """
        try:
            job = self._jobs.get(timeout=timeout_s)
        except queue.Empty:
            self._keepalive()
            return False
        if not job.future.set_running_or_notify_cancel():
            return True  # the waiter gave up before we started: do not publish it
        try:
            self._publish(job)
        except PublishError as exc:
            job.future.set_exception(exc)
        else:
            job.future.set_result(None)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once(self._idle_s)
            except Exception:
                log.exception("publisher loop error; continuing")
        self._drop_link()

    def _publish(self, job: _Job) -> None:
        if not job.probe and self._clock() < self._unavailable_until:
            self._hooks.failed()
            raise PublishError("broker unavailable (recent publish failed; cooling down)")
        if self._protections["retry_backoff"]:
            retrying = bounded_retrying(
                attempts=self._attempts,
                max_s=self._max_s,
                wait=self._wait,
                retry=tenacity.retry_if_exception_type(Exception),
                sleep=self._sleep,
                clock=self._clock,
                on_retry=self._before_retry,
            )
        else:
            retrying = immediate_retrying(
                attempts=self._attempts,
                retry=tenacity.retry_if_exception_type(Exception),
                sleep=self._sleep,
                on_retry=self._before_retry,
            )
        try:
            retrying(self._publish_once, job)
        except Exception as exc:
            self._unavailable_until = self._clock() + self._cooldown_s
            self._hooks.failed()
            raise PublishError(
                f"publish of {job.message_id} failed after retries: {exc!r}"
            ) from exc
        self._unavailable_until = float("-inf")
        self._hooks.confirmed()

    def _publish_once(self, job: _Job) -> None:
        confirms = self._protections["confirms"]
        if self._link is not None and self._link_confirms != confirms:
            log.info("confirms switched %s: reopening the channel", "on" if confirms else "off")
            self._drop_link()
        if self._link is None:
            if self._lost and not self._protections["reconnect"]:
                raise PublishError("the broker connection was lost and reconnect is off")
            try:
                self._link = self._connect(
                    confirms=confirms, timeouts=self._protections["timeouts"]
                )
            except Exception:
                self._lost = True
                raise
            self._link_confirms, self._lost = confirms, False
            self._hooks.connected(True)
            log.info("connected to the broker")
        try:
            self._link.publish(job.message_id, job.body, persistent=self._protections["persistent"])
        except Exception:
            self._drop_link(lost=True)
            raise

    def _before_retry(self, state: tenacity.RetryCallState) -> None:
        self._hooks.retried()
        exc = state.outcome.exception() if state.outcome else None
        log.warning("publish attempt %d failed: %r; retrying", state.attempt_number, exc)

    def _keepalive(self) -> None:
        if self._link is None:
            return
        try:
            self._link.idle()
        except Exception as exc:
            log.warning("broker connection lost while idle: %r", exc)
            self._drop_link(lost=True)

    def _drop_link(self, lost: bool = False) -> None:
        self._lost = self._lost or lost
        if self._link is not None:
            self._link.close()
            self._link = None
            self._hooks.connected(False)
