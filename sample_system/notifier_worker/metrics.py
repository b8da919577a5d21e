"""Prometheus series of the notifier-worker, and the breaker listener that feeds them."""

import pybreaker
from prometheus_client import CollectorRegistry, Counter, Gauge

from sample_system.common.breaker_metrics import STATE_VALUES, BreakerMetrics


class WorkerMetrics:
    """All series of one worker process, in its own registry."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.breaker = BreakerMetrics(r)
        self.consumed = Counter("worker_consumed", "Messages received", registry=r)
        self.acked = Counter("worker_acked", "Messages acked", ["reason"], registry=r)
        self.requeued = Counter(
            "worker_requeued", "Messages nacked with requeue", ["reason"], registry=r
        )
        self.dead_lettered = Counter(
            "worker_dead_lettered", "Messages rejected to the DLQ", registry=r
        )
        self.lost = Counter(
            "worker_lost",
            "Messages auto-acked (ack_after_push off) and then not pushed",
            ["reason"],
            registry=r,
        )
        self.retries = Counter("worker_push_retries", "Push attempts retried", registry=r)
        self.push_calls = Counter(
            "worker_push_calls", "Pushes (POST /push) sent to the push provider", registry=r
        )
        self.connected = Gauge(
            "consumer_connected", "1 while consuming from the broker", registry=r
        )
        self.paused = Gauge("consumer_paused", "1 while paused by an open breaker", registry=r)


class BreakerListener(pybreaker.CircuitBreakerListener):
    """Forward pybreaker state changes to the metrics."""

    def __init__(self, metrics: BreakerMetrics) -> None:
        self._metrics = metrics

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        """Record the transition (pybreaker names the states like STATE_VALUES)."""
        new = new_state.name
        if old_state is None or old_state.name not in STATE_VALUES:
            self._metrics.state.set(STATE_VALUES[new])
        else:
            self._metrics.transition(old_state.name, new)
