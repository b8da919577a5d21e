"""The push-provider Starlette app: POST /push records deliveries unless a fault says otherwise."""

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sample_system.common.web import BadRequest, error, json_object, metrics_response, require_str
from sample_system.push_provider.faults import Faults
from sample_system.push_provider.ledger import Ledger
from sample_system.push_provider.settings import Settings

Sleep = Callable[[float], Awaitable[None]]


def create_app(
    settings: Settings,
    *,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the app; ``sleep`` and ``clock`` are injectable so tests need no real time."""
    ledger = Ledger()
    faults = Faults(settings.error_rate, settings.delay_ms, settings.error_status)
    # Pushes served at once; None: no limit. A new limit takes a new semaphore: pushes already
    # waiting keep their place under the old one.
    slots: asyncio.Semaphore | None = None
    rng = random.Random(settings.seed)
    registry = CollectorRegistry()
    requests = Counter(
        "push_requests", "POST /push calls by outcome", ["outcome"], registry=registry
    )
    deliveries = Counter("push_deliveries", "Deliveries recorded in the ledger", registry=registry)
    latency = Histogram("push_latency_seconds", "POST /push latency", registry=registry)

    async def push(request: Request) -> Response:
        started = time.perf_counter()
        try:
            try:
                body = await json_object(request)
                notification_id = require_str(body, "notification_id")
                reaction_id = require_str(body, "reaction_id")
                recipient = require_str(body, "recipient")
                via = body.get("via")
                if via not in ("sync", "async"):
                    raise BadRequest(f"field 'via' must be 'sync' or 'async', got {via!r}")
            except BadRequest as exc:
                requests.labels("bad_request").inc()
                return error(400, str(exc))
            async with slots or contextlib.nullcontext():
                return await serve(notification_id, reaction_id, recipient, via)
        finally:
            latency.observe(time.perf_counter() - started)

    async def serve(notification_id: str, reaction_id: str, recipient: str, via: str) -> Response:
        current = faults
        if current.delay_ms:
            await sleep(current.delay_ms / 1000)
        # Draw on every call, even at rate 0, so one seed gives one sequence of outcomes.
        if rng.random() < current.error_rate:
            requests.labels("injected_error").inc()
            return JSONResponse(
                {"delivered": False, "error": "injected fault"}, status_code=current.status
            )
        ledger.record(notification_id, reaction_id, recipient, via, clock())
        requests.labels("delivered").inc()
        deliveries.inc()
        return JSONResponse({"delivered": True})

    async def get_delivery(request: Request) -> Response:
        # A status read, as real providers offer: no injected delay, error or slot applies.
        notification_id = request.path_params["notification_id"]
        count = ledger.count(notification_id)
        if not count:
            return error(
                404,
                f"no delivery of {notification_id!r}",
                notification_id=notification_id,
                delivered=False,
            )
        return JSONResponse({"notification_id": notification_id, "delivered": True, "count": count})

    async def get_ledger(request: Request) -> Response:
        return JSONResponse(ledger.as_dict())

    async def clear_ledger(request: Request) -> Response:
        ledger.clear()
        return Response(status_code=204)

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.as_dict())

    async def put_faults(request: Request) -> Response:
        nonlocal faults, slots
        try:
            updated = faults.updated(await json_object(request))
        except BadRequest as exc:
            return error(400, str(exc))
        if updated.concurrency != faults.concurrency:
            slots = asyncio.Semaphore(updated.concurrency) if updated.concurrency else None
        faults = updated
        return JSONResponse(faults.as_dict())

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return metrics_response(registry)

    return Starlette(
        routes=[
            Route("/push", push, methods=["POST"]),
            Route("/deliveries/{notification_id}", get_delivery, methods=["GET"]),
            Route("/ledger", get_ledger, methods=["GET"]),
            Route("/ledger", clear_ledger, methods=["DELETE"]),
            Route("/admin/faults", get_faults, methods=["GET"]),
            Route("/admin/faults", put_faults, methods=["PUT"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
