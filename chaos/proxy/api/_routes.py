"""The route table and its handlers: each turns a request into a server call and a response."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable

from chaos.proxy.api import _responses as resp
from chaos.proxy.api._openapi import build_openapi
from chaos.proxy.bodies import (
    decode_populate,
    decode_proxy,
    decode_proxy_update,
    decode_toxic,
    decode_toxic_update,
)
from chaos.proxy.errors import ApiError
from chaos.proxy.server import ProxyServer

__all__ = ["ANY", "ROUTES", "Handler", "Request", "Route", "match"]

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Request:
    method: str
    params: dict[str, str]
    body: bytes


Handler = Callable[[ProxyServer, Request], Awaitable[resp.Response]]
ANY = "*"
"""A method key that matches every method (Toxiproxy routes /metrics without a method)."""


@dataclasses.dataclass(frozen=True)
class Route:
    pattern: tuple[str, ...]
    """Path segments; `{name}` captures one non-empty segment."""
    handlers: dict[str, Handler]

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(self.pattern, segments, strict=True):
            if part.startswith("{"):
                if not segment or "/" in segment:
                    return None
                params[part[1:-1]] = segment
            elif part != segment:
                return None
        return params

    def handler(self, method: str) -> Handler | None:
        return self.handlers.get(method) or self.handlers.get(ANY)

    @property
    def path(self) -> str:
        return "/" + "/".join(self.pattern)


def match(routes: list[Route], segments: list[str]) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        params = route.match(segments)
        if params is not None:
            return route, params
    return None


# -- handlers --------------------------------------------------------------------------------


async def proxy_index(server: ProxyServer, req: Request) -> resp.Response:
    return resp.json({proxy.name: proxy.to_json() for proxy in server.sorted()})


async def proxy_create(server: ProxyServer, req: Request) -> resp.Response:
    proxy = await server.create(decode_proxy(req.body))
    return resp.json(proxy.to_json(), 201)


async def populate(server: ProxyServer, req: Request) -> resp.Response:
    try:
        proxies, failure = await server.populate_partial(decode_populate(req.body))
    except ApiError as exc:
        return resp.populate(None, exc)
    if failure is not None:
        log.warning("populate failed after %d proxies: %s", len(proxies), failure.message)
    return resp.populate([proxy.to_json() for proxy in proxies], failure)


async def proxy_show(server: ProxyServer, req: Request) -> resp.Response:
    return resp.json(server.get(req.params["proxy"]).to_json())


async def proxy_update(server: ProxyServer, req: Request) -> resp.Response:
    name = req.params["proxy"]
    server.get(name)  # a missing proxy is reported before a bad body
    if req.method == "POST":
        log.warning("ProxyUpdate: HTTP method POST is deprecated. Use HTTP PATCH instead.")
    proxy = await server.update(name, **decode_proxy_update(req.body))
    return resp.json(proxy.to_json())


async def proxy_delete(server: ProxyServer, req: Request) -> resp.Response:
    await server.delete(req.params["proxy"])
    return resp.empty(204)


async def toxic_index(server: ProxyServer, req: Request) -> resp.Response:
    return resp.json([spec.to_json() for spec in server.toxics(req.params["proxy"])])


async def toxic_create(server: ProxyServer, req: Request) -> resp.Response:
    name = req.params["proxy"]
    server.get(name)
    spec = await server.add_toxic(name, decode_toxic(req.body))
    return resp.json(spec.to_json())  # 200, not 201: Toxiproxy's quirk that clients expect


async def toxic_show(server: ProxyServer, req: Request) -> resp.Response:
    return resp.json(server.get_toxic(req.params["proxy"], req.params["toxic"]).to_json())


async def toxic_update(server: ProxyServer, req: Request) -> resp.Response:
    proxy, toxic = req.params["proxy"], req.params["toxic"]
    current = server.get_toxic(proxy, toxic)  # 404s come before body errors
    attributes, toxicity = decode_toxic_update(req.body, current.toxic.go_struct)
    spec = await server.update_toxic(proxy, toxic, attributes, toxicity)
    return resp.json(spec.to_json())


async def toxic_delete(server: ProxyServer, req: Request) -> resp.Response:
    await server.remove_toxic(req.params["proxy"], req.params["toxic"])
    return resp.empty(204)


async def connection_index(server: ProxyServer, req: Request) -> resp.Response:
    return resp.json(server.connections(req.params["proxy"]))


async def connection_cut(server: ProxyServer, req: Request) -> resp.Response:
    await server.cut(req.params["proxy"])
    return resp.empty(204)


async def reset(server: ProxyServer, req: Request) -> resp.Response:
    await server.reset()
    return resp.empty(204)


async def openapi(server: ProxyServer, req: Request) -> resp.Response:
    return resp.json(build_openapi())


ROUTES = [
    Route(("reset",), {"POST": reset}),
    Route(("proxies",), {"GET": proxy_index, "POST": proxy_create}),
    Route(("populate",), {"POST": populate}),
    Route(
        ("proxies", "{proxy}"),
        {"GET": proxy_show, "POST": proxy_update, "PATCH": proxy_update, "DELETE": proxy_delete},
    ),
    Route(("proxies", "{proxy}", "toxics"), {"GET": toxic_index, "POST": toxic_create}),
    Route(
        ("proxies", "{proxy}", "toxics", "{toxic}"),
        {"GET": toxic_show, "POST": toxic_update, "PATCH": toxic_update, "DELETE": toxic_delete},
    ),
    Route(
        ("proxies", "{proxy}", "connections"),
        {"GET": connection_index, "DELETE": connection_cut},
    ),
    Route(("openapi.json",), {"GET": openapi}),
]
"""Every route but /version (answered by the app: it knows the version) and /metrics."""
