"""What to do with one message: dead-letter, skip as duplicate, push, or requeue."""

import enum
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pybreaker
import tenacity

from sample_system.common.protections import Protections
from sample_system.common.retry import bounded_retrying, immediate_retrying
from sample_system.notifier_worker.dedupe import ProcessedIds
from sample_system.notifier_worker.metrics import WorkerMetrics
from sample_system.notifier_worker.pusher import PushFailed, PushRejected
from sample_system.notifier_worker.settings import PROTECTIONS

log = logging.getLogger(__name__)

REQUIRED_FIELDS = ("reaction_id", "post_id", "user_id", "kind")


class Decision(enum.Enum):
    """How the consumer settles a message."""

    ACK = "ack"
    DEAD_LETTER = "dead_letter"
    REQUEUE = "requeue"


@dataclass(frozen=True)
class Outcome:
    """A decision, why, and whether consumption should pause (breaker open)."""

    decision: Decision
    reason: str
    pause: bool = False


def parse_event(body: bytes) -> dict[str, Any] | None:
    """Return the event, or None when the message is poison (not JSON, fields missing)."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict):
        return None
    if not all(isinstance(event.get(f), str) and event[f] for f in REQUIRED_FIELDS):
        return None
    return event


def make_retrying(
    attempts: int,
    max_s: float,
    backoff_s: float,
    backoff_max_s: float,
    jitter_s: float,
    on_retry: Callable[[], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    protections: Protections | None = None,
) -> Callable[[], tenacity.Retrying]:
    """Return a factory of per-message Retrying: PushFailed only (never an open breaker).

    With the ``retry_backoff`` protection off, the attempts follow each other at once with no
    jitter and no time budget (a naive retry loop); still at most ``attempts``.
    """
    switches = protections or Protections(PROTECTIONS)
    # Spelled as a sum: wait_exponential_jitter renamed its arguments between tenacity 8 and 9.
    wait = tenacity.wait_exponential(
        multiplier=backoff_s, max=backoff_max_s
    ) + tenacity.wait_random(0, jitter_s)

    retry = tenacity.retry_if_exception_type(PushFailed)

    def factory() -> tenacity.Retrying:
        if not switches["retry_backoff"]:
            return immediate_retrying(
                attempts=attempts, retry=retry, sleep=sleep, on_retry=lambda state: on_retry()
            )
        return bounded_retrying(
            attempts=attempts,
            max_s=max_s,
            wait=wait,
            retry=retry,
            sleep=sleep,
            clock=clock,
            on_retry=lambda state: on_retry(),
        )

    return factory


class Handler:
    """Decide the fate of each message; the push goes through breaker then retries.

    The breaker is inside the retry loop, so every attempt counts towards opening it and an open
    breaker (CircuitBreakerError, not retried) ends the loop at once.

    Protections read: ``dedupe`` (an id is recorded pending before its push and done after; a
    done id is acked as a duplicate, and a pending one, whose push was in doubt when the worker
    died, is pushed only if ``delivered`` says the provider does not hold it. Off: ids are
    neither checked nor recorded nor looked up, so a redelivery is pushed again), ``breaker``
    (off: the push is called directly) and ``requeue_transient`` (off: a transient failure,
    retries exhausted or breaker open, is dead-lettered like poison).

    The lookup is part of the attempt the breaker and the retries guard: a provider that cannot
    answer it fails the attempt like a push would, so an outage still opens the breaker and
    pauses consumption instead of spinning through requeued pending messages.
    """

    def __init__(
        self,
        processed: ProcessedIds,
        push: Callable[[dict[str, Any]], None],
        delivered: Callable[[dict[str, Any]], bool],
        breaker: pybreaker.CircuitBreaker,
        retrying: Callable[[], tenacity.Retrying],
        metrics: WorkerMetrics,
        protections: Protections | None = None,
    ) -> None:
        self._protections = protections or Protections(PROTECTIONS)
        self._processed = processed
        self._push = push
        self._delivered = delivered
        self._breaker = breaker
        self._retrying = retrying
        self._metrics = metrics

    def handle(self, body: bytes, message_id: str | None) -> Outcome:
        """Push the event unless it was delivered; return how to settle the message."""
        event = parse_event(body)
        if event is None:
            log.warning("poison message %r: %r", message_id, body[:200])
            return Outcome(Decision.DEAD_LETTER, "poison")
        key = message_id or event["reaction_id"]
        dedupe = self._protections["dedupe"]
        in_doubt = False
        if dedupe:
            state = self._processed.state(key)
            if state == "done":
                return Outcome(Decision.ACK, "duplicate")
            in_doubt = state == "pending"
            if not in_doubt:
                # Durable before the push: a worker killed mid-push leaves it in doubt.
                self._processed.begin(key)
        try:
            if self._protections["breaker"]:
                found = self._retrying()(self._breaker.call, self._deliver, event, in_doubt)
            else:
                found = self._retrying()(self._deliver, event, in_doubt)
        except pybreaker.CircuitBreakerError:
            self._metrics.breaker.rejected.inc()
            return self._transient(key, "breaker_open", pause=True)
        except PushRejected as exc:
            log.warning("dead-lettering %s: %s", key, exc)
            return Outcome(Decision.DEAD_LETTER, "rejected")
        except PushFailed as exc:
            log.warning("push of %s failed after retries: %s", key, exc)
            return self._transient(key, "retries_exhausted")
        if dedupe:
            self._processed.mark(key)
        return Outcome(Decision.ACK, "duplicate_in_doubt" if found else "pushed")

    def _deliver(self, event: dict[str, Any], in_doubt: bool) -> bool:
        """One attempt: push, unless in doubt and the provider has it; True if it had."""
        if in_doubt and self._delivered(event):
            return True
        self._push(event)
        return False

    def _transient(self, key: str, reason: str, pause: bool = False) -> Outcome:
        if self._protections["requeue_transient"]:
            return Outcome(Decision.REQUEUE, reason, pause)
        log.warning("dead-lettering %s after a transient failure (%s)", key, reason)
        return Outcome(Decision.DEAD_LETTER, reason, pause)
