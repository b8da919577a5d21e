"""The Toxiproxy-compatible HTTP API of the proxy server, as a raw ASGI application."""

from __future__ import annotations

from chaos.proxy.api._app import HANDLER_TIMEOUT, ApiApp
from chaos.proxy.server import ProxyServer

__all__ = ["HANDLER_TIMEOUT", "ApiApp", "create_app"]


def create_app(
    server: ProxyServer,
    *,
    proxy_metrics: bool = False,
    runtime_metrics: bool = False,
    handler_timeout: float = HANDLER_TIMEOUT,
) -> ApiApp:
    """The ASGI app serving `server`; /metrics exists only if some metrics are enabled."""
    return ApiApp(
        server,
        proxy_metrics=proxy_metrics,
        runtime_metrics=runtime_metrics,
        handler_timeout=handler_timeout,
    )
