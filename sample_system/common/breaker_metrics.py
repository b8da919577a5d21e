"""Prometheus series for a circuit breaker: a state gauge and a transitions counter."""

from prometheus_client import CollectorRegistry, Counter, Gauge

STATE_VALUES = {"closed": 0, "half-open": 1, "open": 2}


class BreakerMetrics:
    """Record breaker state (0=closed, 1=half-open, 2=open) and transitions labelled from/to."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.state = Gauge(
            "breaker_state", "Circuit breaker state: 0=closed 1=half-open 2=open", registry=registry
        )
        self.transitions = Counter(
            "breaker_transitions", "Breaker state transitions", ["from", "to"], registry=registry
        )
        self.rejected = Counter(
            "breaker_rejected", "Calls refused by an open breaker", registry=registry
        )

    def transition(self, old: str, new: str) -> None:
        """Record a transition between two state names from STATE_VALUES."""
        self.state.set(STATE_VALUES[new])
        self.transitions.labels(old, new).inc()
