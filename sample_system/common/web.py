"""Starlette helpers: metrics, health and protections endpoints, JSON bodies, serving."""

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sample_system.common.logs import configure_logging
from sample_system.common.protections import ProtectionError, Protections
from sample_system.common.settings import SettingsError

log = logging.getLogger(__name__)


class BadRequest(Exception):
    """The request body is unusable; the message is sent back with a 400."""


def metrics_response(registry: CollectorRegistry) -> Response:
    """Render a registry in the Prometheus text format."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """Return a JSON error body ``{"error": message, ...}`` with the given status."""
    return JSONResponse({"error": message, **extra}, status_code=status)


async def json_object(request: Request) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise BadRequest saying what is wrong."""
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON ({exc}); send a JSON object") from exc
    if not isinstance(body, dict):
        raise BadRequest(f"body must be a JSON object, got {type(body).__name__}")
    return body


def require_str(body: dict[str, Any], field: str) -> str:
    """Return ``body[field]`` as a non-empty string, or raise BadRequest naming the field."""
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"field {field!r} must be a non-empty string, got {value!r}")
    return value


def protections_routes(
    protections: Protections, on_change: Callable[[set[str]], None] = lambda changed: None
) -> list[Route]:
    """``GET|PUT /admin/protections``: ``{"name": bool, ...}``; PUT is partial, all or nothing.

    ``on_change`` gets the names whose value changed, for switches that must rebuild something.
    """

    async def get(request: Request) -> Response:
        return JSONResponse(protections.as_dict())

    async def put(request: Request) -> Response:
        try:
            changed = protections.update(await json_object(request))
        except BadRequest as exc:
            return error(400, str(exc))
        except ProtectionError as exc:
            return error(
                exc.status, str(exc), startup_only=sorted(protections.switches.startup_only)
            )
        if changed:
            log.info("protections changed: %s", {n: protections[n] for n in sorted(changed)})
            on_change(changed)
        return JSONResponse(protections.as_dict())

    return [
        Route("/admin/protections", get, methods=["GET"]),
        Route("/admin/protections", put, methods=["PUT"]),
    ]


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Serve an ASGI app with uvicorn until SIGTERM/SIGINT."""
    uvicorn.run(app, host=host, port=port, log_level="warning")


class _ServiceSettings(Protocol):
    host: str
    port: int
    log_level: str


def run_service(
    name: str,
    from_env: Callable[[Mapping[str, str]], _ServiceSettings],
    create_app: Callable[[Any], ASGIApp],
) -> None:
    """A service's `main`: settings from the environment, logging, the app, uvicorn.

    Bad configuration, or an app that cannot be built (a database that cannot be opened),
    exits with a message naming the service instead of a traceback.
    """
    try:
        settings = from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"{name}: bad configuration: {exc}")
    configure_logging(name, settings.log_level)
    try:
        app = create_app(settings)
    except RuntimeError as exc:
        sys.exit(f"{name}: cannot start: {exc}")
    serve(app, settings.host, settings.port)
