"""gateway: the public API; forwards reactions and serves an unrelated, local feed.

Run: ``python -m sample_system.gateway``. Environment:

- ``GATEWAY_HOST`` (default ``127.0.0.1``): listen address
- ``GATEWAY_PORT`` (default ``8000``): listen port
- ``REACTIONS_URL`` (default ``http://127.0.0.1:8001``): base URL of the reactions service
- ``GATEWAY_TIMEOUT_S`` (default ``5.0``): timeout of one call to reactions
- ``GATEWAY_POOL_SIZE`` (default ``10``): max connections to reactions
- ``GATEWAY_POOL_TIMEOUT_S`` (default ``5.0``): max wait for a pooled connection
- ``GATEWAY_MAX_CONCURRENCY`` (default ``20``): requests served at once (both endpoints)
- ``GATEWAY_QUEUE_TIMEOUT_MS`` (default ``1000``): max wait for a slot, then 503
- ``GATEWAY_BREAKER_FAIL_MAX`` (default ``5``): consecutive failures that open it
- ``GATEWAY_BREAKER_RESET_S`` (default ``5.0``): open time before one trial call
- ``LOG_LEVEL`` (default ``INFO``): logging level

Protections, each on unless its variable says ``off`` (``GET|PUT /admin/protections`` reads and
switches them at run time with ``{"name": bool, ...}``):

- ``GATEWAY_BREAKER`` (``breaker``, also ``PUT /admin/breaker``): the circuit breaker around calls
  to reactions. Off: every call goes through. Switching it on starts a new, closed breaker.
- ``GATEWAY_BOUNDED_CONCURRENCY`` (``bounded_concurrency``): at most GATEWAY_MAX_CONCURRENCY
  requests at once, a 503 after GATEWAY_QUEUE_TIMEOUT_MS. Off: every request is served at once
  (the pool to reactions still holds GATEWAY_POOL_SIZE connections; the rest wait for one).
- ``GATEWAY_TIMEOUTS`` (``timeouts``): the timeouts of a call to reactions (GATEWAY_TIMEOUT_S,
  GATEWAY_POOL_TIMEOUT_S). Off: a call waits as long as reactions takes.

Endpoints: ``POST /reactions`` (reactions' status and body; 504 on a timeout, including the wait
for a pooled connection; 502 on a connection error; 503 when no slot frees up in time, or when
the breaker is open, with ``{"error": "breaker open", "fallback": true}``),
``GET /feed?user_id=...``, ``GET|PUT /admin/breaker`` (``{"enabled": bool, "fail_max": int,
"reset_timeout_s": float}``, partial updates; a new configuration starts closed),
``GET|PUT /admin/protections``, ``GET /health``, ``GET /metrics``.
"""

from sample_system.gateway.app import create_app
from sample_system.gateway.settings import Settings

__all__ = ["Settings", "create_app"]
