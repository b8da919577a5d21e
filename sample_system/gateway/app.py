"""The gateway Starlette app: bounded inbound concurrency, bounded pool, a breaker (switchable)."""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sample_system.common.breaker_metrics import STATE_VALUES, BreakerMetrics
from sample_system.common.protections import Protections
from sample_system.common.web import (
    BadRequest,
    error,
    json_object,
    metrics_response,
    protections_routes,
)
from sample_system.gateway.breaker import AsyncBreaker, BreakerOpen
from sample_system.gateway.feed import build_feed
from sample_system.gateway.settings import PROTECTIONS, Settings

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


class _Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests",
            "Requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "gateway_latency_seconds", "Latency incl. queueing", ["endpoint"], registry=r
        )
        self.inflight = Gauge("gateway_inflight", "Requests holding a slot", registry=r)
        self.overloaded = Counter(
            "gateway_overloaded",
            "Requests refused after the queue timeout",
            ["endpoint"],
            registry=r,
        )
        self.breaker = BreakerMetrics(r)
        self.breaker_enabled = Gauge("breaker_enabled", "1 when the breaker is on", registry=r)


def _breaker_config(
    body: dict[str, Any], current: AsyncBreaker, enabled: bool
) -> tuple[bool, int, float]:
    unknown = set(body) - {"enabled", "fail_max", "reset_timeout_s"}
    if unknown:
        raise BadRequest(
            f"unknown fields {sorted(unknown)}; allowed: enabled, fail_max, reset_timeout_s"
        )
    enabled = body.get("enabled", enabled)
    if not isinstance(enabled, bool):
        raise BadRequest(f"enabled must be true or false, got {enabled!r}")
    fail_max = body.get("fail_max", current.fail_max)
    if isinstance(fail_max, bool) or not isinstance(fail_max, int) or fail_max < 1:
        raise BadRequest(f"fail_max must be an integer >= 1, got {fail_max!r}")
    reset = body.get("reset_timeout_s", current.reset_timeout_s)
    if isinstance(reset, bool) or not isinstance(reset, int | float) or not 0 <= reset <= 3600:
        raise BadRequest(f"reset_timeout_s must be a number in 0..3600, got {reset!r}")
    return enabled, fail_max, float(reset)


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """Build the app; tests pass a fake ``transport`` and a fake ``clock`` for the breaker."""
    metrics = _Metrics()
    protections = Protections(PROTECTIONS, settings.protections)
    client = httpx.AsyncClient(
        base_url=settings.reactions_url,
        timeout=httpx.Timeout(settings.timeout_s, pool=settings.pool_timeout_s),
        limits=httpx.Limits(
            max_connections=settings.pool_size, max_keepalive_connections=settings.pool_size
        ),
        transport=transport,
    )
    slots = asyncio.Semaphore(settings.max_concurrency)
    queue_timeout_s = settings.queue_timeout_ms / 1000

    def new_breaker(fail_max: int, reset_timeout_s: float) -> AsyncBreaker:
        metrics.breaker.state.set(STATE_VALUES["closed"])
        return AsyncBreaker(
            fail_max, reset_timeout_s, on_transition=metrics.breaker.transition, clock=clock
        )

    state: dict[str, Any] = {
        "breaker": new_breaker(settings.breaker_fail_max, settings.breaker_reset_s),
    }
    metrics.breaker_enabled.set(1 if protections["breaker"] else 0)

    def on_change(changed: set[str]) -> None:
        if "breaker" in changed:
            breaker: AsyncBreaker = state["breaker"]
            state["breaker"] = new_breaker(breaker.fail_max, breaker.reset_timeout_s)
            metrics.breaker_enabled.set(1 if protections["breaker"] else 0)

    def limited(name: str, endpoint: Endpoint) -> Endpoint:
        """Hold one of GATEWAY_MAX_CONCURRENCY slots for the whole request, or answer 503.

        With bounded_concurrency off the request runs at once (still counted in flight).
        """

        async def wrapper(request: Request) -> Response:
            started = time.perf_counter()
            bounded = protections["bounded_concurrency"]
            try:
                if bounded:
                    async with asyncio.timeout(queue_timeout_s):
                        await slots.acquire()
            except TimeoutError:
                metrics.overloaded.labels(name).inc()
                response: Response = error(
                    503, f"gateway overloaded: no free slot within {settings.queue_timeout_ms} ms"
                )
            else:
                metrics.inflight.inc()
                try:
                    response = await endpoint(request)
                finally:
                    metrics.inflight.dec()
                    if bounded:
                        slots.release()
            metrics.requests.labels(name, str(response.status_code)).inc()
            metrics.latency.labels(name).observe(time.perf_counter() - started)
            return response

        return wrapper

    async def forward(body: bytes, content_type: str) -> Response:
        timeout = httpx.USE_CLIENT_DEFAULT if protections["timeouts"] else None
        try:
            upstream = await client.post(
                "/reactions",
                content=body,
                headers={"content-type": content_type},
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            return error(504, f"reactions timed out ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return error(502, f"reactions unreachable ({type(exc).__name__}: {exc})")
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type", "application/json"),
        )

    async def post_reaction(request: Request) -> Response:
        body = await request.body()
        content_type = request.headers.get("content-type", "application/json")
        if not protections["breaker"]:
            return await forward(body, content_type)
        breaker: AsyncBreaker = state["breaker"]
        try:
            breaker.before_call()
        except BreakerOpen:
            metrics.breaker.rejected.inc()
            return error(503, "breaker open", fallback=True)
        ok = False
        try:
            response = await forward(body, content_type)
            ok = response.status_code < 500
            return response
        finally:
            # Also on cancellation: a trial call that never reports would wedge half-open.
            if breaker is not state["breaker"]:
                pass  # reconfigured meanwhile: this result belongs to a discarded breaker
            elif ok:
                breaker.success()
            else:
                breaker.failure()

    # A regression to plant (fixtures/plant.py): no edge carries /feed, it is computed here.
    feed_delay: dict[str, float] = {"ms": 0, "percentage": 0.0}
    rng = random.Random()

    async def feed(request: Request) -> Response:
        user_id = request.query_params.get("user_id", "")
        if not user_id:
            return error(400, "query parameter user_id is required, e.g. /feed?user_id=u1")
        if feed_delay["ms"] and rng.random() * 100 < feed_delay["percentage"]:
            await asyncio.sleep(feed_delay["ms"] / 1000)
        return JSONResponse({"user_id": user_id, "items": build_feed(user_id)})

    async def get_feed_delay(request: Request) -> Response:
        return JSONResponse(feed_delay)

    async def put_feed_delay(request: Request) -> Response:
        try:
            feed_delay.update(_feed_delay(await json_object(request)))
        except BadRequest as exc:
            return error(400, str(exc))
        log.info("feed delay: %s", feed_delay)
        return JSONResponse(feed_delay)

    def breaker_view() -> dict[str, Any]:
        breaker: AsyncBreaker = state["breaker"]
        return {
            "enabled": protections["breaker"],
            "fail_max": breaker.fail_max,
            "reset_timeout_s": breaker.reset_timeout_s,
            "state": breaker.state,
        }

    async def get_breaker(request: Request) -> Response:
        return JSONResponse(breaker_view())

    async def put_breaker(request: Request) -> Response:
        try:
            enabled, fail_max, reset = _breaker_config(
                await json_object(request), state["breaker"], protections["breaker"]
            )
        except BadRequest as exc:
            return error(400, str(exc))
        protections.switch("breaker", enabled)
        state["breaker"] = new_breaker(fail_max, reset)
        metrics.breaker_enabled.set(1 if enabled else 0)
        log.info("breaker configured: %s", breaker_view())
        return JSONResponse(breaker_view())

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return metrics_response(metrics.registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(
        routes=[
            Route("/reactions", limited("reactions", post_reaction), methods=["POST"]),
            Route("/feed", limited("feed", feed), methods=["GET"]),
            Route("/admin/feed-delay", get_feed_delay, methods=["GET"]),
            Route("/admin/feed-delay", put_feed_delay, methods=["PUT"]),
            Route("/admin/breaker", get_breaker, methods=["GET"]),
            Route("/admin/breaker", put_breaker, methods=["PUT"]),
            *protections_routes(protections, on_change),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _feed_delay(body: dict[str, Any]) -> dict[str, float]:
    """`{"ms": 300, "percentage": 20}`: that share of feed reads answered that much later."""
    ms, percentage = body.get("ms"), body.get("percentage")
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        raise BadRequest(f"field 'ms' must be an integer >= 0, got {ms!r}")
    if isinstance(percentage, bool) or not isinstance(percentage, int | float):
        raise BadRequest(f"field 'percentage' must be a number within 0..100, got {percentage!r}")
    if not 0 <= percentage <= 100:
        raise BadRequest(f"field 'percentage' must be a number within 0..100, got {percentage!r}")
    return {"ms": ms, "percentage": float(percentage)}
