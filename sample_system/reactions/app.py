"""The reactions Starlette app: store, then notify by HTTP (sync) or through the broker (async)."""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sample_system.common.failover import Failover
from sample_system.common.protections import Protections
from sample_system.common.web import (
    BadRequest,
    error,
    json_object,
    metrics_response,
    protections_routes,
    require_str,
)
from sample_system.reactions.drainer import Drainer
from sample_system.reactions.metrics import ReactionsMetrics
from sample_system.reactions.publisher import PikaLink, Publisher, PublishError, Publishing
from sample_system.reactions.settings import MODES, PROTECTIONS, Settings
from sample_system.reactions.store import Store

log = logging.getLogger(__name__)


def _reaction(body: dict[str, Any]) -> dict[str, str]:
    reaction = {f: require_str(body, f) for f in ("post_id", "user_id", "kind")}
    reaction_id = body.get("reaction_id")
    if reaction_id is None:
        reaction_id = str(uuid.uuid4())
    elif not isinstance(reaction_id, str) or not reaction_id or len(reaction_id) > 200:
        raise BadRequest(
            f"field 'reaction_id' must be a string of 1..200 chars, got {reaction_id!r}"
        )
    reaction["reaction_id"] = reaction_id
    return reaction


def default_publisher(
    settings: Settings, metrics: ReactionsMetrics, protections: Protections
) -> Publisher:
    """Build the real pika-backed publisher from the settings."""

    # Each new connection tries the node after the last one used (a cluster's nodes).
    failover = Failover(settings.amqp_urls)

    def connect(*, confirms: bool, timeouts: bool) -> PikaLink:
        return failover.connect(
            lambda url: PikaLink(
                url,
                settings.queue,
                settings.amqp_timeout_s,
                settings.amqp_heartbeat_s,
                confirms=confirms,
                durable=protections["durable_queue"],
                timeouts=timeouts,
                queue_type=settings.queue_type,
            )
        )

    return Publisher(
        connect,
        protections=protections,
        queue_size=settings.publish_queue_size,
        attempts=settings.publish_attempts,
        max_s=settings.publish_max_s,
        backoff_s=settings.publish_backoff_s,
        backoff_max_s=settings.publish_backoff_max_s,
        cooldown_s=settings.broker_cooldown_s,
        hooks=metrics,
    )


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    publisher: Publishing | None = None,
) -> Starlette:
    """Build the app; tests pass a fake ``transport`` and a publisher over a fake link.

    The publisher and drainer threads start and stop with the app's lifespan. A publisher passed
    in reads its own protections (pass it the same Protections to switch it from here).
    """
    store = Store(settings.db_path)
    metrics = ReactionsMetrics(store.outbox_size)
    protections = Protections(PROTECTIONS, settings.protections)
    publisher = publisher or default_publisher(settings, metrics, protections)
    drainer = Drainer(
        store,
        publisher,
        protections=protections,
        backoff_s=settings.drain_backoff_s,
        backoff_max_s=settings.drain_backoff_max_s,
        poll_s=settings.drain_poll_s,
        confirm_timeout_s=settings.publish_timeout_s,
    )
    client = httpx.AsyncClient(
        base_url=settings.notifications_url,
        timeout=httpx.Timeout(settings.notify_timeout_s, pool=settings.pool_timeout_s),
        limits=httpx.Limits(
            max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size
        ),
        transport=transport,
    )
    state: dict[str, Any] = {"mode": settings.mode}
    metrics.set_mode(settings.mode)

    async def notify_sync(reaction: dict[str, str]) -> tuple[Response, str]:
        rid = reaction["reaction_id"]
        # timeouts off: no limit on connecting, reading or waiting for a pooled connection.
        timeout = httpx.USE_CLIENT_DEFAULT if protections["timeouts"] else None
        try:
            upstream = await client.post("/notify", json=reaction, timeout=timeout)
        except httpx.TimeoutException as exc:
            message = f"notifications timed out ({type(exc).__name__})"
            return JSONResponse({"reaction_id": rid, "error": message}, 504), "timeout"
        except httpx.HTTPError as exc:
            message = f"notifications unreachable ({type(exc).__name__})"
            return JSONResponse({"reaction_id": rid, "error": message}, 502), "unreachable"
        if upstream.status_code != 200:
            message = f"notifications answered {upstream.status_code}: {upstream.text[:200]}"
            status = 504 if upstream.status_code == 504 else 502
            return JSONResponse({"reaction_id": rid, "error": message}, status), "upstream_error"
        return JSONResponse({"reaction_id": rid, "notified": True}, 201), "notified"

    async def notify_async(reaction: dict[str, str]) -> tuple[Response, str]:
        rid = reaction["reaction_id"]
        body = json.dumps({**reaction, "created_at": time.time()}).encode()
        # Behind a non-empty outbox, go to the outbox too: keeps order, and the drainer alone
        # probes a broker that was down instead of every request waiting on it.
        outbox_on = protections["outbox"]
        if store.outbox_size() == 0 or not outbox_on:
            wait_s = settings.publish_timeout_s if protections["timeouts"] else None
            try:
                future = publisher.submit(rid, body)
                await asyncio.wait_for(asyncio.wrap_future(future), wait_s)
            except (PublishError, TimeoutError) as exc:
                if not outbox_on:
                    message = f"broker unavailable ({exc!r}) and the outbox is off"
                    return JSONResponse({"reaction_id": rid, "error": message}, 503), "rejected"
                log.info("publish of %s failed (%r); storing in the outbox", rid, exc)
            else:
                return JSONResponse({"reaction_id": rid, "queued": "broker"}, 202), "broker"
        store.outbox_add(rid, body)
        drainer.wake()
        return JSONResponse({"reaction_id": rid, "queued": "outbox"}, 202), "outbox"

    async def post_reaction(request: Request) -> Response:
        started = time.perf_counter()
        mode = state["mode"]
        try:
            reaction = _reaction(await json_object(request))
        except BadRequest as exc:
            metrics.requests.labels(mode, "bad_request").inc()
            return error(400, str(exc))
        store.add_reaction(**reaction)
        notify = notify_sync if mode == "sync" else notify_async
        response, outcome = await notify(reaction)
        metrics.requests.labels(mode, outcome).inc()
        metrics.latency.labels(mode).observe(time.perf_counter() - started)
        return response

    async def get_mode(request: Request) -> Response:
        return JSONResponse({"mode": state["mode"]})

    async def put_mode(request: Request) -> Response:
        try:
            body = await json_object(request)
        except BadRequest as exc:
            return error(400, str(exc))
        mode = body.get("mode")
        if mode not in MODES:
            return error(400, f"field 'mode' must be 'sync' or 'async', got {mode!r}")
        state["mode"] = mode
        metrics.set_mode(mode)
        log.info("notify mode is now %s", mode)
        return JSONResponse({"mode": mode})

    async def outbox(request: Request) -> Response:
        return JSONResponse({"size": store.outbox_size(), "enabled": protections["outbox"]})

    async def put_outbox(request: Request) -> Response:
        try:
            body = await json_object(request)
        except BadRequest as exc:
            return error(400, str(exc))
        enabled = body.get("enabled")
        if not isinstance(enabled, bool):
            return error(400, f"field 'enabled' must be true or false, got {enabled!r}")
        protections.switch("outbox", enabled)
        log.info("outbox is now %s", "on" if enabled else "off")
        return await outbox(request)

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "mode": state["mode"],
                "broker": "connected" if publisher.connected else "disconnected",
                "outbox": store.outbox_size(),
            }
        )

    async def metrics_endpoint(request: Request) -> Response:
        return metrics_response(metrics.registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        publisher.start()
        drainer.start()
        try:
            yield
        finally:
            drainer.stop()
            publisher.stop()
            await client.aclose()
            store.close()

    return Starlette(
        routes=[
            Route("/reactions", post_reaction, methods=["POST"]),
            Route("/admin/mode", get_mode, methods=["GET"]),
            Route("/admin/mode", put_mode, methods=["PUT"]),
            Route("/admin/outbox", outbox, methods=["GET"]),
            Route("/admin/outbox", put_outbox, methods=["PUT"]),
            *protections_routes(protections),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
