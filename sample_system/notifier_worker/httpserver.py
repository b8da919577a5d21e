"""A tiny threaded HTTP server for the worker's /health, /metrics and /admin/protections."""

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from sample_system.common.protections import ProtectionError, Protections

log = logging.getLogger(__name__)

_MAX_BODY = 64 * 1024


def start_http(
    host: str,
    port: int,
    registry: CollectorRegistry,
    health: Callable[[], dict[str, Any]],
    protections: Protections,
    on_change: Callable[[set[str]], None] = lambda changed: None,
) -> ThreadingHTTPServer:
    """Serve in a daemon thread; return the server.

    ``GET /health`` (JSON from ``health``), ``GET /metrics``, ``GET|PUT /admin/protections``
    (the same shape as the Starlette services': ``{"name": bool, ...}``, PUT partial).
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                self._json(200, health())
            elif self.path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif self.path == "/admin/protections":
                self._json(200, protections.as_dict())
            else:
                self._json(404, {"error": f"no GET {self.path}"})

        def do_PUT(self) -> None:
            if self.path != "/admin/protections":
                self._json(404, {"error": f"no PUT {self.path}"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= _MAX_BODY:
                self._json(400, {"error": f"send a JSON object of 1..{_MAX_BODY} bytes"})
                return
            try:
                body = json.loads(self.rfile.read(length))
            except (ValueError, UnicodeDecodeError) as exc:
                self._json(400, {"error": f"body is not valid JSON ({exc}); send a JSON object"})
                return
            try:
                changed = protections.update(body)
            except ProtectionError as exc:
                startup_only = sorted(protections.switches.startup_only)
                self._json(exc.status, {"error": str(exc), "startup_only": startup_only})
                return
            if changed:
                log.info("protections changed: %s", {n: protections[n] for n in sorted(changed)})
                on_change(changed)
            self._json(200, protections.as_dict())

        def _json(self, status: int, data: dict[str, Any]) -> None:
            self._send(status, "application/json", json.dumps(data).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every second would flood stderr

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    return server
