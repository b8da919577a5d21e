"""Responses byte for byte as Toxiproxy (Go net/http + gorilla/mux) writes them."""

from __future__ import annotations

import dataclasses
from typing import Any

from chaos.proxy._gojson import dumps
from chaos.proxy.errors import ApiError

__all__ = [
    "Response",
    "bad_request_line",
    "empty",
    "error",
    "json",
    "not_found_page",
    "plain_error",
    "populate",
    "redirect",
    "version",
]

TEXT = b"text/plain; charset=utf-8"
NOSNIFF = (b"x-content-type-options", b"nosniff")


@dataclasses.dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    content_length: bool = True
    """False for 204, where HTTP forbids a Content-Length."""

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        headers = list(self.headers)
        if self.content_length:
            headers.append((b"content-length", str(len(self.body)).encode()))
        return headers


def json(value: Any, status: int = 200) -> Response:
    """A success body: compact Go-style JSON, no trailing newline."""
    return Response(status, [(b"content-type", b"application/json")], dumps(value))


def plain_error(status: int, text: str) -> Response:
    """Go's http.Error: text/plain, nosniff, the text and a newline."""
    return Response(status, [(b"content-type", TEXT), NOSNIFF], text.encode() + b"\n")


def error(exc: ApiError) -> Response:
    """An API error: `{"error":...,"status":...}` sent through http.Error (so text/plain)."""
    return plain_error(exc.status, dumps({"error": exc.message, "status": exc.status}).decode())


def not_found_page() -> Response:
    return plain_error(404, "404 page not found")


def empty(status: int) -> Response:
    """No body: 204 without Content-Length, anything else (405, 503, 301) with `0`."""
    return Response(status, [], b"", content_length=status != 204)


def redirect(location: str) -> Response:
    return Response(301, [(b"location", location.encode("latin-1"))], b"")


def version(text: str) -> Response:
    """GET /version: its own content type and a hand-written body (with a space and newline)."""
    body = b'{"version": ' + dumps(text) + b"}\n"
    return Response(200, [(b"content-type", b"application/json;charset=utf-8")], body)


def populate(proxies: list[dict[str, Any]] | None, exc: ApiError | None) -> Response:
    """POST /populate answers JSON even for errors, with the proxies created before a failure."""
    body: dict[str, Any] = {}
    if exc is not None:
        body = {"error": exc.message, "status": exc.status}
    body["proxies"] = proxies or None  # Go marshals an empty slice built by append as null
    return Response(
        201 if exc is None else exc.status,
        [(b"content-type", b"application/json")],
        dumps(body),
    )


def bad_request_line() -> Response:
    """What Go's server answers to a request it cannot parse (e.g. a bad %-escape)."""
    return Response(400, [(b"content-type", TEXT), (b"connection", b"close")], b"400 Bad Request")
