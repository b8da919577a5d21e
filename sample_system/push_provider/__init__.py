"""push-provider: a stand-in third-party push service that records every delivery (the ledger).

Run: ``python -m sample_system.push_provider``. Environment:

==================  =========  =============================================================
variable            default    meaning
==================  =========  =============================================================
PUSH_HOST           127.0.0.1  listen address
PUSH_PORT           8003       listen port
PUSH_SEED           0          seed of the random.Random that decides injected errors
PUSH_ERROR_RATE     0.0        initial fraction (0..1) of /push calls answered with an error
PUSH_DELAY_MS       0          initial delay added to every /push call
PUSH_ERROR_STATUS   503        initial HTTP status (400..599) of an injected error
LOG_LEVEL           INFO       logging level (JSON lines on stderr)
==================  =========  =============================================================

Endpoints: ``POST /push``, ``GET /ledger``, ``DELETE /ledger``, ``GET|PUT /admin/faults``,
``GET /health``, ``GET /metrics``.
"""

from sample_system.push_provider.app import create_app
from sample_system.push_provider.settings import Settings

__all__ = ["Settings", "create_app"]
