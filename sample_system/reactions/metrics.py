"""Prometheus series of the reactions service."""

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from sample_system.reactions.settings import MODES


class ReactionsMetrics:
    """All series of one reactions process, in its own registry; also the publisher's hooks."""

    def __init__(self, outbox_size: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "reactions_requests",
            "POST /reactions by mode and outcome",
            ["mode", "outcome"],
            registry=r,
        )
        self.latency = Histogram(
            "reactions_latency_seconds", "POST /reactions latency", ["mode"], registry=r
        )
        self.mode = Gauge("reactions_mode", "1 for the active notify mode", ["mode"], registry=r)
        outbox = Gauge("reactions_outbox_size", "Events waiting in the outbox", registry=r)
        outbox.set_function(outbox_size)
        self.retries = Counter("publish_retries", "Publish attempts retried", registry=r)
        self.confirms = Counter("publish_confirms", "Messages confirmed by the broker", registry=r)
        self.failures = Counter("publish_failures", "Messages given up on (outboxed)", registry=r)
        self.broker = Gauge("broker_connected", "1 while the publisher is connected", registry=r)

    def set_mode(self, mode: str) -> None:
        """Mark ``mode`` as the active one."""
        for name in MODES:
            self.mode.labels(name).set(1 if name == mode else 0)

    def connected(self, up: bool) -> None:
        """Publisher hook: connection state."""
        self.broker.set(1 if up else 0)

    def retried(self) -> None:
        """Publisher hook: a retry."""
        self.retries.inc()

    def confirmed(self) -> None:
        """Publisher hook: a confirm."""
        self.confirms.inc()

    def failed(self) -> None:
        """Publisher hook: a failure after retries."""
        self.failures.inc()
