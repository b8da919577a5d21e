"""reactions: stores a reaction in SQLite, then notifies by HTTP (sync) or via RabbitMQ (async).

Run: ``python -m sample_system.reactions``. Environment:

- ``REACTIONS_HOST`` (default ``127.0.0.1``): listen address
- ``REACTIONS_PORT`` (default ``8001``): listen port
- ``REACTIONS_DB_PATH`` (default ``reactions.sqlite3``): SQLite file: reactions and outbox
- ``REACTIONS_MODE`` (default ``sync``): sync or async (PUT /admin/mode)
- ``NOTIFICATIONS_URL`` (default ``http://127.0.0.1:8002``): base URL of notifications (sync)
- ``REACTIONS_NOTIFY_TIMEOUT_S`` (default ``2.0``): timeout of one POST /notify
- ``REACTIONS_POOL_SIZE`` (default ``20``): max connections to notifications
- ``REACTIONS_POOL_TIMEOUT_S`` (default ``1.0``): max wait for a pooled connection
- ``AMQP_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``): broker (async); a
  comma-separated list names a cluster's nodes: each new connection tries the node after the
  one the last connection used, round the list once (failover; confirms stay on)
- ``REACTIONS_QUEUE`` (default ``notifications``): work queue (DLQ: <queue>.dlq)
- ``REACTIONS_QUEUE_TYPE`` (default ``classic``): classic (on one node) or quorum (replicated
  with Raft; always durable); must match ``WORKER_QUEUE_TYPE``; the DLQ is of the same type
- ``REACTIONS_AMQP_TIMEOUT_S`` (default ``1.0``): socket timeout of AMQP calls
- ``REACTIONS_AMQP_HEARTBEAT_S`` (default ``10``): AMQP heartbeat (0 = off); a confirm lost
  on a black-holed link is given up on after about this long
- ``REACTIONS_PUBLISH_QUEUE_SIZE`` (default ``1000``): bound of the publisher's queue
- ``REACTIONS_PUBLISH_TIMEOUT_S`` (default ``3.0``): max wait of a request for a confirm
- ``REACTIONS_PUBLISH_ATTEMPTS`` (default ``3``): publish attempts (tenacity stop)
- ``REACTIONS_PUBLISH_MAX_S`` (default ``2.0``): publish retry budget (tenacity stop)
- ``REACTIONS_PUBLISH_BACKOFF_S`` (default ``0.05``): first retry wait (exponential)
- ``REACTIONS_PUBLISH_BACKOFF_MAX_S`` (default ``0.5``): longest retry wait
- ``REACTIONS_BROKER_COOLDOWN_S`` (default ``1.0``): requests skip the broker
  for this long after a failed publish
- ``REACTIONS_DRAIN_BACKOFF_S`` (default ``0.2``): outbox drainer's first backoff
- ``REACTIONS_DRAIN_BACKOFF_MAX_S`` (default ``5.0``): outbox drainer's longest backoff
- ``REACTIONS_DRAIN_POLL_S`` (default ``1.0``): drainer's idle re-check period
- ``LOG_LEVEL`` (default ``INFO``): logging level

Protections, each on unless its variable says ``off`` (``GET|PUT /admin/protections`` reads and
switches them at run time with ``{"name": bool, ...}``; what "off" ships is the regression a team
that removed the protection by mistake would ship):

- ``REACTIONS_CONFIRMS`` (``confirms``): publisher confirms. Off: the channel is not in confirm
  mode; a publish counts as done once written to the socket. A run-time change reopens the channel.
- ``REACTIONS_PERSISTENT`` (``persistent``): delivery_mode 2. Off: transient messages (mode 1),
  lost when the broker restarts.
- ``REACTIONS_DURABLE_QUEUE`` (``durable_queue``, start-up only: a 409 at run time): declare the
  work queue durable. Off: a non-durable queue, gone after a broker restart. The broker refuses a
  queue that exists with the other durability: start notifier_worker with the same setting
  (``WORKER_DURABLE_QUEUE``) on a broker without the queue.
- ``REACTIONS_OUTBOX`` (``outbox``, also ``PUT /admin/outbox``): the outbox fallback. Off: a broker
  failure is a 503.
- ``REACTIONS_DELETE_AFTER_CONFIRM`` (``delete_after_confirm``): the drainer deletes an outbox row
  only after its confirm. Off: it deletes the row first, so a failed publish loses the event.
- ``REACTIONS_RECONNECT`` (``reconnect``): the publisher reconnects. Off: once a connection is lost
  (or fails to open) it never opens another; every publish fails (to the outbox, which never
  drains) until switched back on.
- ``REACTIONS_RETRY_BACKOFF`` (``retry_backoff``): publish retries wait an exponential backoff
  inside REACTIONS_PUBLISH_MAX_S. Off: the REACTIONS_PUBLISH_ATTEMPTS attempts follow each other at
  once with no time budget (each still bounded by the AMQP timeouts).
- ``REACTIONS_TIMEOUTS`` (``timeouts``): timeouts on POST /notify (connect, read, pool), on a
  request's and the drainer's wait for a confirm, and on AMQP connections. Off: no limit on the
  HTTP call or the confirm waits; pika's defaults (and the broker's 60 s heartbeat) from the next
  AMQP connection.

Endpoints: ``POST /reactions`` (sync: 201, 502, 504; async: 202 with ``queued`` broker|outbox;
400 on a bad body), ``GET|PUT /admin/mode``, ``GET|PUT /admin/outbox`` (``{"enabled": bool}``;
off, a broker failure is a 503: the negative control of the broker experiments),
``GET|PUT /admin/protections``, ``GET /health``, ``GET /metrics``.

Async delivery guarantee: a 202 means the event is confirmed by the broker or stored in the
SQLite outbox, which a background thread drains in order (deleting a row only after its confirm).
Publishing is at-least-once; the worker deduplicates by ``message_id`` (= reaction_id). The body
is the reaction (with its ``reaction_id``) plus ``created_at`` (time.time() when published).
"""

from sample_system.reactions.app import create_app
from sample_system.reactions.settings import Settings

__all__ = ["Settings", "create_app"]
