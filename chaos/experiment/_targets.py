"""Load targets: async callables that send one request and raise RequestFailed on failure.

`classify` maps any exception a target raises to an error kind of `ERROR_KINDS`.
"""

from __future__ import annotations

import asyncio
import json as _json
from typing import Any

import httpx

__all__ = [
    "ERROR_KINDS",
    "HttpTarget",
    "RawHttpTarget",
    "RequestFailed",
    "check_status",
    "classify",
    "http_target",
    "raw_http_target",
]

#: Failure kinds. `overload`: shed by the generator because `max_in_flight` requests were
#: outstanding; `abandoned`: still in flight when `stop()` gave up waiting.
ERROR_KINDS = ("timeout", "refused", "reset", "5xx", "4xx", "other", "overload", "abandoned")
_RESET_ERRORS = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    asyncio.IncompleteReadError,
)


class RequestFailed(Exception):
    """A request failed in a known way; `kind` is one of ERROR_KINDS."""

    def __init__(self, kind: str, detail: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {kind!r}; expected one of {ERROR_KINDS}")
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def classify(exc: BaseException) -> str:
    """Map an exception raised by a target to an error kind."""
    if isinstance(exc, RequestFailed):
        return exc.kind
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout"
    cause: BaseException | None = exc
    for _ in range(10):  # bounded: exception chains can be cyclic
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "refused"
        if isinstance(cause, _RESET_ERRORS):
            return "reset"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return "refused" if "refused" in str(exc).lower() else "other"
    # The peer broke an established exchange: closed early, reset, or sent garbage.
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return "reset"
    return "other"


def check_status(method: str, url: str, status: int) -> None:
    """Raise RequestFailed of kind 5xx or 4xx for an HTTP error status."""
    if status >= 500:
        raise RequestFailed("5xx", f"{method} {url} -> {status}")
    if status >= 400:
        raise RequestFailed("4xx", f"{method} {url} -> {status}")


class HttpTarget:
    """An httpx request as a load target: raises RequestFailed on transport errors and 4xx/5xx.

    With `client=None` it creates its own AsyncClient on first use, on the loop that runs the
    load (an AsyncClient must not outlive or change its loop), and the generator closes it.
    httpx costs ~3 ms of CPU per request: above ~50 requests/s on a small machine prefer
    `raw_http_target`, or watch `max_lag_s` (the generator falling behind inflates latency).
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        if client is not None and not isinstance(client, httpx.AsyncClient):
            raise TypeError(f"client must be an httpx.AsyncClient or None, got {client!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        self.method = method.upper()
        self.url = url
        self.json = json
        self.headers = headers
        self.timeout = timeout
        self._client = client
        self._owned: httpx.AsyncClient | None = None

    async def __call__(self) -> None:
        """Send one request."""
        client = self._client or self._own_client()
        try:
            response = await client.request(
                self.method, self.url, json=self.json, headers=self.headers
            )
        except httpx.HTTPError as exc:
            raise RequestFailed(classify(exc), f"{self.method} {self.url}: {exc!r}") from exc
        check_status(self.method, self.url, response.status_code)

    def _own_client(self) -> httpx.AsyncClient:
        if self._owned is None:
            # No connection cap here: the generator's max_in_flight is the bound.
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
            self._owned = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        return self._owned

    async def aclose(self) -> None:
        """Close the client this target created (a caller's client is left alone)."""
        if self._owned is not None:
            owned, self._owned = self._owned, None
            await owned.aclose()


http_target = HttpTarget
"""Build an HttpTarget (see there): the lower-case name, like `recording_target`."""


class RawHttpTarget:
    """A minimal HTTP/1.1 keep-alive client as a load target, ~30x cheaper in CPU than httpx.

    On a small shared machine the generator's own CPU use turns into schedule lag, which then
    shows up as latency; measured here httpx costs ~2.8 ms of CPU per request, raw streams ~0.1.
    Plain http only; understands Content-Length, chunked and read-to-close bodies. A connection
    whose request failed or was cancelled (timeout) is closed, never reused. Nothing is retried
    (a retried POST could deliver twice and corrupt a message ledger), so a server closing an
    idle connection at the very instant it is reused shows up as one `reset`.
    """

    def __init__(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        max_idle: int = 64,
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme != "http" or not parsed.host:
            raise ValueError(f"RawHttpTarget needs an http://host[:port]/ URL, got {url!r}")
        self.method = method.upper()
        self.url = url
        self._host = parsed.host
        self._port = parsed.port or 80
        body = b"" if json is None else _json.dumps(json).encode()
        lines = [f"{self.method} {parsed.raw_path.decode('ascii')} HTTP/1.1"]
        lines.append(f"Host: {self._host}:{self._port}")
        lines.append(f"Content-Length: {len(body)}")
        if json is not None:
            lines.append("Content-Type: application/json")
        lines.extend(f"{k}: {v}" for k, v in (headers or {}).items())
        self._request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._max_idle = max_idle

    async def __call__(self) -> None:
        """Send one request and read the whole response."""
        reader, writer = await self._connection()
        reusable = False
        try:
            writer.write(self._request)
            await writer.drain()
            status, reusable = await self._read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise RequestFailed(classify(exc), f"{self.method} {self.url}: {exc!r}") from exc
        finally:
            if reusable and len(self._idle) < self._max_idle:
                self._idle.append((reader, writer))
            else:
                writer.close()
        check_status(self.method, self.url, status)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()  # the server closed it while idle
        try:
            return await asyncio.open_connection(self._host, self._port)
        except OSError as exc:
            raise RequestFailed(classify(exc), f"{self.method} {self.url}: {exc!r}") from exc

    async def _read_response(self, reader: asyncio.StreamReader) -> tuple[int, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {status_line!r}")
        status = int(parts[1])
        fields = {}
        for line in header_lines:
            if line:
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip().lower()
        keep_alive = fields.get("connection") != "close" and parts[0] == "HTTP/1.1"
        if "chunked" in fields.get("transfer-encoding", ""):
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
        elif "content-length" in fields:
            await reader.readexactly(int(fields["content-length"]))
        elif status >= 200 and status not in (204, 304) and self.method != "HEAD":
            await reader.read()  # body delimited by the server closing the connection
            keep_alive = False
        return status, keep_alive

    async def aclose(self) -> None:
        """Close idle connections."""
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()


def raw_http_target(
    method: str, url: str, *, json: Any = None, headers: dict[str, str] | None = None
) -> RawHttpTarget:
    """Build a RawHttpTarget (see there): the cheap alternative to http_target for high rates."""
    return RawHttpTarget(method, url, json=json, headers=headers)
