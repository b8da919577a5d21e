"""notifier-worker: consumes notification events and pushes them, behind a breaker and retries.

Run: ``python -m sample_system.notifier_worker`` (SIGTERM/SIGINT stop it cleanly). Environment:

- ``WORKER_HOST`` (default ``127.0.0.1``): /health and /metrics address
- ``WORKER_PORT`` (default ``8004``): /health and /metrics port
- ``AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``): broker
- ``WORKER_QUEUE`` (default ``notifications``): work queue (DLQ: <queue>.dlq)
- ``WORKER_PREFETCH`` (default ``10``): unacked messages in flight
- ``WORKER_AMQP_TIMEOUT_S`` (default ``2.0``): socket timeout of AMQP calls
- ``WORKER_AMQP_HEARTBEAT_S`` (default ``30``): AMQP heartbeat (0 = off)
- ``WORKER_RECONNECT_BACKOFF_S`` (default ``0.5``): first reconnect wait
- ``WORKER_RECONNECT_BACKOFF_MAX_S`` (default ``5.0``): longest reconnect wait
- ``PUSH_URL`` (default ``http://127.0.0.1:8003``): base URL of the push provider
- ``WORKER_PUSH_TIMEOUT_S`` (default ``2.0``): timeout of one push call
- ``WORKER_POOL_SIZE`` (default ``2``): max connections to the provider (pushes are sequential)
- ``WORKER_DB_PATH`` (default ``worker.sqlite3``): SQLite file of processed ids
- ``WORKER_BREAKER_FAIL_MAX`` (default ``5``): failures that open the breaker
- ``WORKER_BREAKER_RESET_S`` (default ``5.0``): open time before a trial call
- ``WORKER_RETRY_ATTEMPTS`` (default ``3``): push attempts per delivery
- ``WORKER_RETRY_MAX_S`` (default ``5.0``): retry budget per delivery
- ``WORKER_RETRY_BACKOFF_S`` (default ``0.1``): first retry wait (exponential)
- ``WORKER_RETRY_BACKOFF_MAX_S`` (default ``2.0``): longest retry wait
- ``WORKER_RETRY_JITTER_S`` (default ``0.1``): max random jitter per wait
- ``WORKER_OPEN_PAUSE_S`` (default ``1.0``): pause of consumption while the breaker is open
- ``LOG_LEVEL`` (default ``INFO``): logging level

Endpoints (HTTP thread): ``GET /health`` (always 200 while the process runs, with ``broker``
connected|disconnected and ``breaker`` closed|half-open|open) and ``GET /metrics``.

Per message: poison (not JSON, missing fields) -> reject without requeue (dead-letters to the
DLQ); an already processed message id -> ack without pushing; else push, record the id, ack.
When the breaker is open the message is requeued (not counted as processed) and consumption
pauses for WORKER_OPEN_PAUSE_S, then resumes; the next message is the breaker's trial call.
A delivery whose retries are exhausted with the breaker still closed is requeued too.
"""
