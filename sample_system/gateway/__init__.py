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
- ``GATEWAY_BREAKER`` (default ``off``): on/off, circuit breaker around calls to reactions
- ``GATEWAY_BREAKER_FAIL_MAX`` (default ``5``): consecutive failures that open it
- ``GATEWAY_BREAKER_RESET_S`` (default ``5.0``): open time before one trial call
- ``LOG_LEVEL`` (default ``INFO``): logging level

Endpoints: ``POST /reactions`` (reactions' status and body; 504 on a timeout, including the wait
for a pooled connection; 502 on a connection error; 503 when no slot frees up in time, or when
the breaker is open, with ``{"error": "breaker open", "fallback": true}``),
``GET /feed?user_id=...``, ``GET|PUT /admin/breaker`` (``{"enabled": bool, "fail_max": int,
"reset_timeout_s": float}``, partial updates; a new configuration starts closed),
``GET /health``, ``GET /metrics``.
"""

from sample_system.gateway.app import create_app
from sample_system.gateway.settings import Settings

__all__ = ["Settings", "create_app"]
