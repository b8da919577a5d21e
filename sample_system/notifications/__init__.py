"""notifications: the sync-chain HTTP service that forwards a reaction to the push provider.

Run: ``python -m sample_system.notifications``. Environment:

- ``NOTIFICATIONS_HOST`` (default ``127.0.0.1``): listen address
- ``NOTIFICATIONS_PORT`` (default ``8002``): listen port
- ``PUSH_URL`` (default ``http://127.0.0.1:8003``): base URL of the push provider
- ``NOTIFICATIONS_PUSH_TIMEOUT_S`` (default ``2.0``): timeout of one call to the provider
- ``NOTIFICATIONS_POOL_SIZE`` (default ``20``): max connections to the provider
- ``NOTIFICATIONS_POOL_TIMEOUT_S`` (default ``1.0``): max wait for a free pooled connection
- ``LOG_LEVEL`` (default ``INFO``): logging level

Protections, each on unless its variable says ``off`` (``GET|PUT /admin/protections`` reads and
switches them at run time with ``{"name": bool, ...}``):

- ``NOTIFICATIONS_TIMEOUTS`` (``timeouts``): the timeouts of a push (NOTIFICATIONS_PUSH_TIMEOUT_S,
  NOTIFICATIONS_POOL_TIMEOUT_S). Off: a push waits as long as the provider takes.

Endpoints: ``POST /notify`` (200 delivered, 502 provider failed, 504 provider timed out, 400 bad
body), ``GET|PUT /admin/protections``, ``GET /health``, ``GET /metrics``.
"""

from sample_system.notifications.app import create_app
from sample_system.notifications.settings import Settings

__all__ = ["Settings", "create_app"]
