"""Entry point: ``python -m sample_system.notifier_worker``."""

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

import httpx
import pybreaker

from sample_system.common.logs import configure_logging
from sample_system.common.protections import Protections
from sample_system.common.settings import SettingsError
from sample_system.notifier_worker.consumer import Consumer
from sample_system.notifier_worker.dedupe import ProcessedIds
from sample_system.notifier_worker.handler import Handler, make_retrying
from sample_system.notifier_worker.httpserver import start_http
from sample_system.notifier_worker.metrics import BreakerListener, WorkerMetrics
from sample_system.notifier_worker.pusher import Pusher, PushRejected
from sample_system.notifier_worker.settings import PROTECTIONS, Settings

log = logging.getLogger("sample_system.notifier_worker")


def main() -> None:
    """Read the environment, consume until SIGTERM/SIGINT, then close everything."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"notifier-worker: bad configuration: {exc}")
    configure_logging("notifier-worker", settings.log_level)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    metrics = WorkerMetrics()
    protections = Protections(PROTECTIONS, settings.protections)
    breaker = pybreaker.CircuitBreaker(
        fail_max=settings.breaker_fail_max,
        reset_timeout=settings.breaker_reset_s,
        exclude=[PushRejected],
        listeners=[BreakerListener(metrics.breaker)],
        name="push-provider",
    )
    try:
        processed = ProcessedIds(settings.db_path)
    except RuntimeError as exc:
        sys.exit(f"notifier-worker: cannot start: {exc}")
    client = httpx.Client(
        base_url=settings.push_url,
        timeout=settings.push_timeout_s,
        limits=httpx.Limits(
            max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size
        ),
    )
    retrying = make_retrying(
        settings.retry_attempts,
        settings.retry_max_s,
        settings.retry_backoff_s,
        settings.retry_backoff_max_s,
        settings.retry_jitter_s,
        metrics.retries.inc,
        time.sleep,
        protections=protections,
    )
    pusher = Pusher(client, protections, metrics.push_calls.inc)
    handler = Handler(
        processed,
        pusher,
        pusher.delivered,
        breaker,
        retrying,
        metrics,
        protections,
    )
    consumer = Consumer(settings, handler, metrics, stop, protections=protections)

    def on_change(changed: set[str]) -> None:
        if "breaker" in changed and protections["breaker"]:
            breaker.close()  # switched back on: start closed, not in the state it was left in

    server = start_http(
        settings.host,
        settings.port,
        metrics.registry,
        lambda: {
            "status": "ok",
            "broker": "connected" if consumer.connected else "disconnected",
            "breaker": breaker.current_state,
        },
        protections,
        on_change,
    )
    try:
        consumer.run()
    finally:
        server.shutdown()
        client.close()
        processed.close()
        log.info("stopped")


if __name__ == "__main__":
    main()
