"""reactions: stores a reaction in SQLite, then notifies synchronously (HTTP) or asynchronously (AMQP).

Run: ``python -m sample_system.reactions``. Environment:

===============================  ====================================  ==================================
variable                         default                               meaning
===============================  ====================================  ==================================
REACTIONS_HOST                   127.0.0.1                             listen address
REACTIONS_PORT                   8001                                  listen port
REACTIONS_DB_PATH                reactions.sqlite3                     SQLite file: reactions and outbox
REACTIONS_MODE                   sync                                  sync or async (PUT /admin/mode)
NOTIFICATIONS_URL                http://127.0.0.1:8002                 base URL of notifications (sync)
REACTIONS_NOTIFY_TIMEOUT_S       2.0                                   timeout of one POST /notify
REACTIONS_POOL_SIZE              20                                    max connections to notifications
REACTIONS_POOL_TIMEOUT_S         1.0                                   max wait for a pooled connection
AMQP_URL                         amqp://guest:guest@127.0.0.1:5672/%2F broker (async)
REACTIONS_QUEUE                  notifications                         work queue (DLQ: <queue>.dlq)
REACTIONS_AMQP_TIMEOUT_S         1.0                                   socket timeout of AMQP calls
REACTIONS_AMQP_HEARTBEAT_S       30                                    AMQP heartbeat (0 = off)
REACTIONS_PUBLISH_QUEUE_SIZE     1000                                  bound of the publisher's queue
REACTIONS_PUBLISH_TIMEOUT_S      3.0                                   max wait of a request for a confirm
REACTIONS_PUBLISH_ATTEMPTS       3                                     publish attempts (tenacity stop)
REACTIONS_PUBLISH_MAX_S          2.0                                   publish retry budget (tenacity stop)
REACTIONS_PUBLISH_BACKOFF_S      0.05                                  first retry wait (exponential)
REACTIONS_PUBLISH_BACKOFF_MAX_S  0.5                                   longest retry wait
REACTIONS_BROKER_COOLDOWN_S      1.0                                   after a failed publish, requests
                                                                       skip the broker for this long
REACTIONS_DRAIN_BACKOFF_S        0.2                                   outbox drainer's first backoff
REACTIONS_DRAIN_BACKOFF_MAX_S    5.0                                   outbox drainer's longest backoff
REACTIONS_DRAIN_POLL_S           1.0                                   drainer's idle re-check period
LOG_LEVEL                        INFO                                  logging level
===============================  ====================================  ==================================

Endpoints: ``POST /reactions`` (sync: 201, 502, 504; async: 202 with ``queued`` broker|outbox;
400 on a bad body), ``GET|PUT /admin/mode``, ``GET /admin/outbox``, ``GET /health``,
``GET /metrics``.

Async delivery guarantee: a 202 means the event is confirmed by the broker or stored in the
SQLite outbox, which a background thread drains in order (deleting a row only after its confirm).
Publishing is at-least-once; the worker deduplicates by ``message_id`` (= reaction_id).
"""

from sample_system.reactions.app import create_app
from sample_system.reactions.settings import Settings

__all__ = ["Settings", "create_app"]
