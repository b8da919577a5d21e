"""push-provider: a stand-in third-party push service that records every delivery (the ledger).

Run: ``python -m sample_system.push_provider``. Environment:

- ``PUSH_HOST`` (default ``127.0.0.1``): listen address
- ``PUSH_PORT`` (default ``8003``): listen port
- ``PUSH_SEED`` (default ``0``): seed of the random.Random that decides injected errors
- ``PUSH_ERROR_RATE`` (default ``0.0``): initial fraction (0..1) of /push calls that fail
- ``PUSH_DELAY_MS`` (default ``0``): initial delay added to every /push call
- ``PUSH_ERROR_STATUS`` (default ``503``): initial HTTP status (400..599) of an injected error
- ``LOG_LEVEL`` (default ``INFO``): logging level (JSON lines on stderr)

Endpoints: ``POST /push``, ``GET /ledger`` (``deliveries``: one record per delivery; ``counts``:
deliveries per reaction id; ``delivered_at``: per reaction id, the wall-clock times (time.time(),
seconds) of its deliveries), ``DELETE /ledger``, ``GET /deliveries/{notification_id}`` (a
delivery-status read: 200 ``{"notification_id", "delivered": true, "count"}`` or 404 with
``"delivered": false``; no injected fault applies to it), ``GET|PUT /admin/faults``,
``GET /health``, ``GET /metrics``. The provider has no protection of its own to switch off.

``PUT /admin/faults`` takes ``error_rate``, ``delay_ms``, ``status`` and ``concurrency`` (pushes
served at once, 0 = no limit: the others wait their turn, the delay counted once served; a
bounded third party, the same for both paths), partial updates kept.
"""

from sample_system.push_provider.app import create_app
from sample_system.push_provider.settings import Settings

__all__ = ["Settings", "create_app"]
