"""The API operations, written once without I/O and driven by the sync and the async client.

Each operation is a generator: it yields `Request`s and is sent back `Response`s (2xx only);
a failure is thrown into it as the mapped `ToxiproxyError` (an `ApiError` for an error status),
so an operation can recover (retry with another method, roll back) or let it propagate.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypedDict, TypeVar
from urllib.parse import quote

from chaos.client._errors import ApiError, InvalidResponse, ToxiproxyError, api_error
from chaos.client._models import Connection, Proxy, Toxic

T = TypeVar("T")
M = TypeVar("M")


@dataclass(frozen=True)
class Request:
    """One HTTP request to the API; `extension` marks routes a real Toxiproxy lacks."""

    method: str
    path: str
    body: Any = None
    extension: bool = False


@dataclass(frozen=True)
class Response:
    """A successful (2xx) response."""

    request: Request
    status: int
    text: str

    def json(self) -> Any:
        """The decoded body; an unreadable body raises `InvalidResponse`."""
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise self.invalid(f"not JSON: {exc}") from exc

    def invalid(self, reason: str) -> InvalidResponse:
        """The error for a 2xx body of the wrong shape."""
        return InvalidResponse(
            self.request.method, self.request.path, self.status, reason, self.text
        )

    def parse(self, parser: Callable[..., M], data: Any, *args: Any) -> M:
        """Run a model parser on `data`, turning shape errors into `InvalidResponse`."""
        try:
            return parser(data, *args)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self.invalid(f"{type(exc).__name__}: {exc}") from exc


Op = Generator[Request, Response, T]


class HttpMatch(TypedDict, total=False):
    """Which requests an HTTP toxic acts on (each left out: the server's default, any)."""

    method: str
    """Methods, comma-separated (`GET,HEAD`)."""
    path: str
    """A path prefix (`/api`), or a glob if it has `*`, `?` or `[` (`/users/*/avatar`)."""
    match_headers: Mapping[str, str]
    """Header name to a glob its value must match (`*`: present); all must match."""
    percentage: float
    """Percent of the matching requests, rolled per request (times the toxicity)."""
    count: int
    """At most this many requests in all, the first ones selected (0: no limit)."""


class ServerIgnoredToxicsWarning(UserWarning):
    """The server dropped the toxics given to create_proxy (a real Toxiproxy); added one by one."""


def finish(request: Request, status: int, text: str) -> Response:
    """Turn a raw answer into a `Response`, or raise the mapped `ApiError`."""
    if 200 <= status < 300:
        return Response(request, status, text)
    raise api_error(status, text, request.method, request.path, extension=request.extension)


def name_of(proxy: str | Proxy) -> str:
    """Accept a proxy name or a `Proxy` wherever a proxy is named."""
    return proxy.name if isinstance(proxy, Proxy) else proxy


def _path(*segments: str) -> str:
    # safe="" so a space or a "/" inside a name stays one path segment.
    return "/" + "/".join(quote(s, safe="") for s in segments)


def _toxic_body(toxic: Mapping[str, Any] | Toxic) -> dict[str, Any]:
    return toxic.to_json() if isinstance(toxic, Toxic) else dict(toxic)


def _proxy_body(proxy: Mapping[str, Any] | Proxy) -> dict[str, Any]:
    if isinstance(proxy, Proxy):
        return {
            "name": proxy.name,
            "listen": proxy.listen,
            "upstream": proxy.upstream,
            "enabled": proxy.enabled,
        }
    return dict(proxy)


def _proxy_list(response: Response, data: Any, client: Any) -> list[Proxy]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise response.invalid(f"expected a list of proxies, got {type(data).__name__}")
    return [response.parse(Proxy.from_json, p, client) for p in data]


def version() -> Op[str]:
    """GET /version; Toxiproxy before 2.7 answered plain text instead of JSON."""
    response = yield Request("GET", "/version")
    try:
        data = json.loads(response.text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return response.text.strip()  # plain text, even one that parses as JSON ("2")
    version = data.get("version")
    if isinstance(version, str):
        return version
    raise response.invalid("expected {'version': str}")


def proxies(client: Any) -> Op[dict[str, Proxy]]:
    """GET /proxies."""
    response = yield Request("GET", "/proxies")
    data = response.json()
    if not isinstance(data, dict):
        raise response.invalid("expected an object of proxies by name")
    return {name: response.parse(Proxy.from_json, p, client) for name, p in data.items()}


def get_proxy(client: Any, proxy: str | Proxy) -> Op[Proxy]:
    """GET /proxies/{proxy}."""
    response = yield Request("GET", _path("proxies", name_of(proxy)))
    return response.parse(Proxy.from_json, response.json(), client)


def create_proxy(
    client: Any,
    name: str,
    upstream: str,
    listen: str,
    enabled: bool,
    toxics: Sequence[Mapping[str, Any] | Toxic] | None,
) -> Op[Proxy]:
    """POST /proxies; toxics a server ignores (a real Toxiproxy) are added one by one."""
    body: dict[str, Any] = {
        "name": name,
        "listen": listen,
        "upstream": upstream,
        "enabled": enabled,
    }
    toxic_bodies = [_toxic_body(t) for t in toxics or ()]
    if toxic_bodies:
        body["toxics"] = toxic_bodies
    response = yield Request("POST", "/proxies", body)
    created: Proxy = response.parse(Proxy.from_json, response.json(), client)
    if not toxic_bodies or created.toxics:
        return created
    warnings.warn(
        f"the server at this URL ignored the toxics in the create body of proxy {name!r}; "
        f"adding {len(toxic_bodies)} toxic(s) one by one (not atomic: a proxy is briefly "
        "without them)",
        ServerIgnoredToxicsWarning,
        # warn() <- this generator <- driver <- client method <- the caller
        stacklevel=4,
    )
    added: list[Toxic] = []
    try:
        for toxic_body in toxic_bodies:
            response = yield Request("POST", _path("proxies", name, "toxics"), toxic_body)
            added.append(response.parse(Toxic.from_json, response.json()))
    except ToxiproxyError as exc:
        # Keep the promise "born with its toxics or not born at all".
        try:
            yield Request("DELETE", _path("proxies", name))
        except ToxiproxyError as cleanup:
            exc.add_note(f"deleting the half-made proxy {name!r} failed too: {cleanup}")
        raise
    return replace(created, toxics=tuple(added))


def populate(client: Any, proxies: Iterable[Mapping[str, Any] | Proxy]) -> Op[list[Proxy]]:
    """POST /populate; on error, `ApiError.proxies` holds those created before it."""
    request = Request("POST", "/populate", [_proxy_body(p) for p in proxies])
    try:
        response = yield request
    except ApiError as exc:
        created = exc.body.get("proxies") if isinstance(exc.body, dict) else None
        if isinstance(created, list):
            # Best effort: the error is what matters, a malformed list must not mask it.
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                exc.proxies = tuple(Proxy.from_json(p, client) for p in created)
        raise
    data = response.json()
    if not isinstance(data, dict):
        raise response.invalid("expected {'proxies': [...]}")
    return _proxy_list(response, data.get("proxies"), client)


def _patch(path: str, body: dict[str, Any]) -> Op[Response]:
    """PATCH, falling back on POST for servers that predate PATCH (405)."""
    try:
        return (yield Request("PATCH", path, body))
    except ApiError as exc:
        if exc.status != 405:
            raise
    return (yield Request("POST", path, body))


def update_proxy(
    client: Any,
    proxy: str | Proxy,
    listen: str | None,
    upstream: str | None,
    enabled: bool | None,
) -> Op[Proxy]:
    """PATCH /proxies/{proxy} with only the fields given."""
    fields = {"listen": listen, "upstream": upstream, "enabled": enabled}
    body = {key: value for key, value in fields.items() if value is not None}
    response = yield from _patch(_path("proxies", name_of(proxy)), body)
    return response.parse(Proxy.from_json, response.json(), client)


def delete_proxy(proxy: str | Proxy) -> Op[None]:
    """DELETE /proxies/{proxy}."""
    yield Request("DELETE", _path("proxies", name_of(proxy)))


def toxics(proxy: str | Proxy) -> Op[list[Toxic]]:
    """GET /proxies/{proxy}/toxics."""
    response = yield Request("GET", _path("proxies", name_of(proxy), "toxics"))
    data = response.json()
    if not isinstance(data, list):
        raise response.invalid("expected a list of toxics")
    return [response.parse(Toxic.from_json, t) for t in data]


def get_toxic(proxy: str | Proxy, toxic: str) -> Op[Toxic]:
    """GET /proxies/{proxy}/toxics/{toxic}."""
    response = yield Request("GET", _path("proxies", name_of(proxy), "toxics", toxic))
    return response.parse(Toxic.from_json, response.json())


def add_toxic(
    proxy: str | Proxy,
    type: str,
    stream: str,
    toxicity: float,
    attributes: Mapping[str, Any] | None,
    name: str | None,
) -> Op[Toxic]:
    """POST /proxies/{proxy}/toxics; the server names it `<type>_<stream>` when name is None."""
    body: dict[str, Any] = {"type": type, "stream": stream, "toxicity": toxicity}
    body["attributes"] = dict(attributes or {})
    if name is not None:
        body["name"] = name
    response = yield Request("POST", _path("proxies", name_of(proxy), "toxics"), body)
    return response.parse(Toxic.from_json, response.json())


def add_http_toxic(
    proxy: str | Proxy,
    type: str,
    stream: str,
    toxicity: float,
    name: str | None,
    attributes: Mapping[str, Any],
) -> Op[Toxic]:
    """An HTTP toxic (pytest-chaos servers): attributes given as None are left to the server.

    A real Toxiproxy has no HTTP toxics and answers `invalid toxic type` (`InvalidToxic`).
    """
    given = {key: value for key, value in attributes.items() if value is not None}
    return add_toxic(proxy, type, stream, toxicity, given, name)


def update_toxic(
    proxy: str | Proxy,
    toxic: str,
    attributes: Mapping[str, Any] | None,
    toxicity: float | None,
) -> Op[Toxic]:
    """PATCH /proxies/{proxy}/toxics/{toxic}; the server merges attributes into the current ones."""
    body: dict[str, Any] = {}
    if attributes is not None:
        body["attributes"] = dict(attributes)
    if toxicity is not None:
        body["toxicity"] = toxicity
    response = yield from _patch(_path("proxies", name_of(proxy), "toxics", toxic), body)
    return response.parse(Toxic.from_json, response.json())


def remove_toxic(proxy: str | Proxy, toxic: str) -> Op[None]:
    """DELETE /proxies/{proxy}/toxics/{toxic}."""
    yield Request("DELETE", _path("proxies", name_of(proxy), "toxics", toxic))


def reset() -> Op[None]:
    """POST /reset: enable every proxy and remove every toxic."""
    yield Request("POST", "/reset")


def connections(proxy: str | Proxy) -> Op[list[Connection]]:
    """GET /proxies/{proxy}/connections (pytest-chaos extension)."""
    request = Request("GET", _path("proxies", name_of(proxy), "connections"), extension=True)
    response = yield request
    data = response.json()
    if not isinstance(data, list):
        raise response.invalid("expected a list of connections")
    return [response.parse(Connection.from_json, c) for c in data]


def cut_connections(proxy: str | Proxy) -> Op[None]:
    """DELETE /proxies/{proxy}/connections (pytest-chaos extension)."""
    yield Request("DELETE", _path("proxies", name_of(proxy), "connections"), extension=True)


def openapi() -> Op[dict[str, Any]]:
    """GET /openapi.json (pytest-chaos extension)."""
    response = yield Request("GET", "/openapi.json", extension=True)
    data = response.json()
    if not isinstance(data, dict):
        raise response.invalid("expected an OpenAPI document (a JSON object)")
    return data
