"""Exceptions raised by the Toxiproxy client, and the one table that maps server errors to them."""

from __future__ import annotations

import json
from enum import Enum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaos.client._models import Proxy


class ToxiproxyError(Exception):
    """Base of every error the client raises."""


class TransportError(ToxiproxyError):
    """The server could not be reached or did not answer in time."""

    def __init__(self, method: str, url: str, base_url: str, reason: str) -> None:
        self.method = method
        self.url = url
        self.base_url = base_url
        super().__init__(
            f"{method} {url} failed: {reason}; is the server running at {base_url}? "
            "set TOXIPROXY_URL or pass url= to point the client elsewhere"
        )


class InvalidResponse(ToxiproxyError):
    """The server answered 2xx with a body the client cannot read (is it a Toxiproxy at all?)."""

    def __init__(self, method: str, path: str, status: int, reason: str, text: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.text = text
        super().__init__(
            f"{method} {path}: HTTP {status} with an unreadable body ({reason}): {text[:200]!r}; "
            "hint: check that the URL points at a Toxiproxy-compatible API"
        )


class ApiError(ToxiproxyError):
    """The server answered with an error status."""

    hint: str = ""

    def __init__(self, status: int, message: str, method: str, path: str, body: Any = None) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        self.body = body
        # Filled by populate(): the proxies the server created before it hit the error.
        self.proxies: tuple[Proxy, ...] = ()
        text = f"{method} {path}: HTTP {status}: {message}"
        super().__init__(f"{text}; hint: {self.hint}" if self.hint else text)


class NotFound(ApiError):
    """404: the proxy, toxic or route does not exist."""


class ProxyNotFound(NotFound):
    """404 `proxy not found`."""

    hint = "list the existing names with proxies()"


class ToxicNotFound(NotFound):
    """404 `toxic not found`."""

    hint = "list the proxy's toxics with toxics(proxy)"


class Conflict(ApiError):
    """409: the name is already taken."""


class ProxyExists(Conflict):
    """409 `proxy already exists`."""

    hint = "delete it first, or use populate() which keeps an identical existing proxy"


class ToxicExists(Conflict):
    """409 `toxic already exists` (names are unique across both streams of a proxy)."""

    hint = "pick another name, or update_toxic() the existing one"


class BadRequest(ApiError):
    """400: the request body was rejected."""


class InvalidToxic(BadRequest):
    """400 `invalid toxic type`."""

    hint = (
        "Toxiproxy types are latency, bandwidth, slow_close, timeout, reset_peer, slicer, "
        "limit_data, noop"
    )


class InvalidStream(BadRequest):
    """400 `stream was invalid, can be either upstream or downstream`."""


class MissingField(BadRequest):
    """400 `missing required field: <field>` (populate adds ` at proxy N`)."""


class Forbidden(ApiError):
    """403: the server refuses browser user agents (a CSRF guard)."""

    hint = "a User-Agent starting with 'Mozilla/' is refused; do not override the client's"


class ServerError(ApiError):
    """5xx: the server failed, e.g. it could not bind the listen address."""


class AddressInUse(ServerError):
    """500 `listen tcp <addr>: bind: address already in use`."""

    hint = "pick another listen port, or port 0 for an ephemeral one"


class UnsupportedByServer(ApiError):
    """The server lacks this endpoint (a pytest-chaos extension that a real Toxiproxy has not)."""

    hint = "this is a pytest-chaos server extension; a real Toxiproxy does not offer it"


class _Match(Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"


# (status, how to match, server's `error` text, only on extension routes?, exception class).
# First matching row wins; statuses with no matching row fall back on _BY_STATUS. Toxic errors
# match by prefix: for toxics given at create or populate, our server adds " at toxic N".
_RULES: tuple[tuple[int, _Match, str, bool, type[ApiError]], ...] = (
    (404, _Match.EXACT, "proxy not found", False, ProxyNotFound),
    (404, _Match.EXACT, "toxic not found", False, ToxicNotFound),
    (404, _Match.EXACT, "404 page not found", True, UnsupportedByServer),
    (409, _Match.EXACT, "proxy already exists", False, ProxyExists),
    (409, _Match.PREFIX, "toxic already exists", False, ToxicExists),
    (400, _Match.PREFIX, "invalid toxic type", False, InvalidToxic),
    (400, _Match.PREFIX, "stream was invalid", False, InvalidStream),
    (400, _Match.PREFIX, "missing required field:", False, MissingField),
    (500, _Match.SUFFIX, "bind: address already in use", False, AddressInUse),
)
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def _matches(kind: _Match, pattern: str, message: str) -> bool:
    if kind is _Match.EXACT:
        return message == pattern
    if kind is _Match.PREFIX:
        return message.startswith(pattern)
    return message.endswith(pattern)


def _classify(status: int, message: str, extension: bool) -> type[ApiError]:
    for rule_status, kind, pattern, extension_only, cls in _RULES:
        if (
            rule_status == status
            and (extension or not extension_only)
            and _matches(kind, pattern, message)
        ):
            return cls
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


def _decode(status: int, text: str) -> tuple[str, Any]:
    """Return (message, decoded body) from an error body in any of the server's shapes."""
    # Error bodies are JSON served as text/plain, so ignore the content type and just try.
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], body
    message = text.strip()
    if not message:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "(empty body)"
    return message, body


def api_error(status: int, text: str, method: str, path: str, *, extension: bool) -> ApiError:
    """Build the exception for an error response, by status and the server's error text."""
    message, body = _decode(status, text)
    return _classify(status, message, extension)(status, message, method, path, body)
