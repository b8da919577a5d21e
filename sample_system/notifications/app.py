"""The notifications Starlette app: POST /notify calls the push provider with a timeout."""

import contextlib
import logging
import time
from collections.abc import AsyncIterator

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sample_system.common.ids import notification_id_for, recipient_for
from sample_system.common.protections import Protections
from sample_system.common.web import (
    BadRequest,
    error,
    json_object,
    metrics_response,
    protections_routes,
    require_str,
)
from sample_system.notifications.settings import PROTECTIONS, Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Build the app; ``transport`` replaces the network in tests."""
    protections = Protections(PROTECTIONS, settings.protections)
    client = httpx.AsyncClient(
        base_url=settings.push_url,
        timeout=httpx.Timeout(settings.push_timeout_s, pool=settings.pool_timeout_s),
        limits=httpx.Limits(
            max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size
        ),
        transport=transport,
    )
    registry = CollectorRegistry()
    requests = Counter(
        "notify_requests", "POST /notify calls by outcome", ["outcome"], registry=registry
    )
    latency = Histogram("notify_latency_seconds", "POST /notify latency", registry=registry)

    async def notify(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response, outcome = await _notify(request)
            requests.labels(outcome).inc()
            return response
        finally:
            latency.observe(time.perf_counter() - started)

    async def _notify(request: Request) -> tuple[Response, str]:
        try:
            body = await json_object(request)
            reaction_id = require_str(body, "reaction_id")
            post_id = require_str(body, "post_id")
            require_str(body, "user_id")
            require_str(body, "kind")
        except BadRequest as exc:
            return error(400, str(exc)), "bad_request"
        notification_id = notification_id_for(reaction_id)
        push = {
            "notification_id": notification_id,
            "reaction_id": reaction_id,
            "recipient": recipient_for(post_id),
            "via": "sync",
        }
        timeout = httpx.USE_CLIENT_DEFAULT if protections["timeouts"] else None
        try:
            upstream = await client.post("/push", json=push, timeout=timeout)
        except httpx.TimeoutException as exc:
            log.warning("push timed out for reaction %s: %r", reaction_id, exc)
            return error(504, f"push provider timed out ({type(exc).__name__})"), "timeout"
        except httpx.HTTPError as exc:
            log.warning("push failed for reaction %s: %r", reaction_id, exc)
            return error(502, f"push provider unreachable ({type(exc).__name__})"), "unreachable"
        if upstream.status_code != 200:
            return (
                error(
                    502, f"push provider answered {upstream.status_code}", upstream=upstream.text
                ),
                "provider_error",
            )
        return JSONResponse({"notified": True, "notification_id": notification_id}), "delivered"

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return metrics_response(registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(
        routes=[
            Route("/notify", notify, methods=["POST"]),
            *protections_routes(protections),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
