"""notifier-worker: consumes notification events and pushes them, behind a breaker and retries.

Run: ``python -m sample_system.notifier_worker`` (SIGTERM/SIGINT stop it cleanly). Environment:

- ``WORKER_HOST`` (default ``127.0.0.1``): /health and /metrics address
- ``WORKER_PORT`` (default ``8004``): /health and /metrics port
- ``AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``): broker; a comma-separated
  list names a cluster's nodes: each reconnect tries the node after the one last used (failover);
  a consumer the broker cancels (its queue's node died) reconnects too
- ``WORKER_QUEUE`` (default ``notifications``): work queue (DLQ: <queue>.dlq)
- ``WORKER_QUEUE_TYPE`` (default ``classic``): classic or quorum; must match
  ``REACTIONS_QUEUE_TYPE``
- ``WORKER_PREFETCH`` (default ``10``): unacked messages in flight
- ``WORKER_AMQP_TIMEOUT_S`` (default ``2.0``): socket timeout of AMQP calls
- ``WORKER_AMQP_HEARTBEAT_S`` (default ``30``): AMQP heartbeat (0 = off)
- ``WORKER_RECONNECT_BACKOFF_S`` (default ``0.5``): first reconnect wait
- ``WORKER_RECONNECT_BACKOFF_MAX_S`` (default ``5.0``): longest reconnect wait
- ``PUSH_URL`` (default ``http://127.0.0.1:8003``): base URL of the push provider
- ``WORKER_PUSH_TIMEOUT_S`` (default ``2.0``): timeout of one push call
- ``WORKER_POOL_SIZE`` (default ``2``): max connections to the provider (pushes are sequential)
- ``WORKER_DB_PATH`` (default ``worker.sqlite3``): SQLite file of message ids, pending or done
- ``WORKER_BREAKER_FAIL_MAX`` (default ``5``): failures that open the breaker
- ``WORKER_BREAKER_RESET_S`` (default ``5.0``): open time before a trial call
- ``WORKER_RETRY_ATTEMPTS`` (default ``3``): push attempts per delivery
- ``WORKER_RETRY_MAX_S`` (default ``5.0``): retry budget per delivery
- ``WORKER_RETRY_BACKOFF_S`` (default ``0.1``): first retry wait (exponential)
- ``WORKER_RETRY_BACKOFF_MAX_S`` (default ``2.0``): longest retry wait
- ``WORKER_RETRY_JITTER_S`` (default ``0.1``): max random jitter per wait
- ``WORKER_OPEN_PAUSE_S`` (default ``1.0``): pause of consumption while the breaker is open
- ``LOG_LEVEL`` (default ``INFO``): logging level

Protections, each on unless its variable says ``off`` (``GET|PUT /admin/protections`` reads and
switches them at run time with ``{"name": bool, ...}``; what "off" ships is the regression a team
that removed the protection by mistake would ship):

- ``WORKER_ACK_AFTER_PUSH`` (``ack_after_push``): manual acks, sent once the push succeeded. Off:
  auto_ack, so the broker forgets a message as it sends it, prefetch no longer bounds what is in
  flight, and a message not pushed (failure, open breaker, crash) is lost (``worker_lost``).
- ``WORKER_DEDUPE`` (``dedupe``): skip message ids already pushed. An id is recorded pending
  before its push and done after; a redelivered pending one (the worker died mid-push) is looked
  up at the provider (``GET /deliveries/{id}``) and pushed only if it is not there. Off: ids are
  neither checked nor recorded, nothing is looked up; a redelivered message is pushed again.
- ``WORKER_BREAKER`` (``breaker``): the circuit breaker around the push. Off: every push is tried.
  Switching it back on closes it.
- ``WORKER_RETRY_BACKOFF`` (``retry_backoff``): retries wait an exponential backoff plus jitter
  inside WORKER_RETRY_MAX_S. Off: the WORKER_RETRY_ATTEMPTS attempts follow each other at once,
  with no jitter and no time budget (each still bounded by the push timeout).
- ``WORKER_REQUEUE_TRANSIENT`` (``requeue_transient``): only poison and refused (4xx) messages are
  dead-lettered; transient failures are requeued. Off: a message whose retries are exhausted, or
  that meets an open breaker, goes to the DLQ too.
- ``WORKER_RECONNECT`` (``reconnect``): the consumer reconnects with backoff. Off: after its first
  connection ends (or fails) it opens no other; the process lives on, consuming nothing.
- ``WORKER_TIMEOUTS`` (``timeouts``): the push timeout (WORKER_PUSH_TIMEOUT_S) and the AMQP
  connection timeouts. Off: a push waits as long as the provider takes; pika's defaults (and the
  broker's 60 s heartbeat) from the next connection.
- ``WORKER_DURABLE_QUEUE`` (``durable_queue``, start-up only: a 409 at run time): declare the work
  queue durable. Must match ``REACTIONS_DURABLE_QUEUE`` (see reactions).

Endpoints (HTTP thread): ``GET /health`` (always 200 while the process runs, with ``broker``
connected|disconnected and ``breaker`` closed|half-open|open), ``GET|PUT /admin/protections``
and ``GET /metrics``.

Per message: poison (not JSON, missing fields) -> reject without requeue (dead-letters to the
DLQ); an already processed message id -> ack without pushing; else push, record the id, ack.
When the breaker is open the message is requeued (not counted as processed) and consumption
pauses for WORKER_OPEN_PAUSE_S, then resumes; the next message is the breaker's trial call.
A delivery whose retries are exhausted with the breaker still closed is requeued too.
"""
