"""The raw ASGI application: path cleaning, routing on the raw path, middleware, time limit.

No framework: Toxiproxy's clients see gorilla/mux and Go net/http behaviour (301 for `//x`,
bodiless 405s, request ids only on matched routes) and some depend on it byte for byte.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

import chaos
from chaos.proxy.api import _metrics, _responses as resp
from chaos.proxy.api._routes import ANY, ROUTES, Handler, Request, Route, match
from chaos.proxy.api._xid import new_xid
from chaos.proxy.errors import ApiError
from chaos.proxy.server import ProxyServer

__all__ = ["ApiApp", "clean_path"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

HANDLER_TIMEOUT = 25.0
MAX_BODY = 16 * 1024 * 1024
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def clean_path(path: str) -> str:
    """Go's path.Clean plus mux's rule of keeping a trailing slash."""
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    cleaned = "/" + "/".join(parts)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


class ApiApp:
    """The Toxiproxy HTTP API over a ProxyServer, as an ASGI 3 application."""

    def __init__(
        self,
        server: ProxyServer,
        *,
        proxy_metrics: bool = False,
        runtime_metrics: bool = False,
        handler_timeout: float = HANDLER_TIMEOUT,
        version: str = chaos.__version__,
    ) -> None:
        if not handler_timeout > 0:
            raise ValueError(f"handler_timeout must be > 0 seconds, got {handler_timeout!r}")
        self.server = server
        self.handler_timeout = handler_timeout
        self.version = version
        self.registry = _metrics.build_registry(
            server, proxy_metrics=proxy_metrics, runtime_metrics=runtime_metrics
        )
        self.routes: list[Route] = [*ROUTES, Route(("version",), {"GET": self._version})]
        if self.registry is not None:
            self.routes.append(Route(("metrics",), {ANY: self._metrics}))
        # Handlers that outlived the time limit keep running (as Go's TimeoutHandler lets
        # them): a half-applied change would be worse than a late one.
        self._late: set[asyncio.Task[resp.Response]] = set()

    async def _version(self, server: ProxyServer, req: Request) -> resp.Response:
        return resp.version(self.version)

    async def _metrics(self, server: ProxyServer, req: Request) -> resp.Response:
        assert self.registry is not None
        body = _metrics.render(self.registry)
        return resp.Response(200, [(b"content-type", _metrics.CONTENT_TYPE_LATEST.encode())], body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        response = await self.respond(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": response.raw_headers(),
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def respond(self, scope: Scope, receive: Receive) -> resp.Response:
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        if _BAD_ESCAPE.search(path):
            return resp.bad_request_line()
        cleaned = clean_path(path)
        if cleaned != path:
            return resp.redirect(cleaned + (f"?{query}" if query else ""))
        # Split the raw bytes before unescaping: `%2F` stays inside its segment.
        segments = [unquote_to_bytes(s).decode("utf-8", "replace") for s in raw[1:].split(b"/")]
        found = match(self.routes, segments)
        if found is None:
            return resp.not_found_page()
        route, params = found
        method = scope["method"]
        handler = route.handler(method)
        if handler is None:
            return resp.empty(405)
        request_id = (b"x-toxiproxy-request-id", new_xid().encode())
        if _user_agent(scope).startswith("Mozilla/"):
            # A CSRF guard: browsers must not drive the API from a malicious page.
            forbidden = resp.plain_error(403, "User agent not allowed")
            forbidden.headers.append(request_id)
            return forbidden
        task = asyncio.ensure_future(self._run(handler, method, params, receive))
        done, _ = await asyncio.wait({task}, timeout=self.handler_timeout)
        if not done:
            log.warning("%s %s: no answer within %.0f s, 503", method, path, self.handler_timeout)
            self._late.add(task)
            task.add_done_callback(self._late_done)
            return resp.empty(503)
        response = task.result()
        response.headers.append(request_id)
        return response

    def _late_done(self, task: asyncio.Task[resp.Response]) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("late handler failed", exc_info=task.exception())

    async def _run(
        self, handler: Handler, method: str, params: dict[str, str], receive: Receive
    ) -> resp.Response:
        try:
            body = await _read_body(receive)
            response: resp.Response = await handler(self.server, Request(method, params, body))
            return response
        except ApiError as exc:
            return resp.error(exc)
        except Exception as exc:
            # Toxiproxy answers any error without a status as a 500 with its text.
            log.exception("%s %s failed", method, params)
            return resp.error(ApiError(f"{type(exc).__name__}: {exc}", 500))


def _user_agent(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == b"user-agent":
            return bytes(value).decode("latin-1")
    return ""


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError("bad request body: http: request body too large", 413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
