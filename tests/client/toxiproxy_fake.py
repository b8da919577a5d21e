"""An in-memory Toxiproxy API for httpx.MockTransport, answering as toxiproxy-api.md shows.

`extended=False` behaves like a real Toxiproxy 2.12 (stray `Logger` key, toxics in a create body
ignored, no extension routes); `extended=True` like our server (proxies born with toxics,
`/proxies/{p}/connections`, `/openapi.json`). No sockets: listen addresses are bookkeeping.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx

from chaos.proxy.toxics import TOXICS

TOXIC_DEFAULTS: dict[str, dict[str, int]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slow_close": {"delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "limit_data": {"bytes": 0},
    "noop": {},
}
# Our server's own toxic types: the fake answers with their defaults when `extended`.
EXTENDED_DEFAULTS = {name: TOXICS[name]().attributes() for name in ("http_error", "http_latency")}
ERROR_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}


class Reply(Exception):
    """Raised inside a handler to answer at once."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response


def compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def error(status: int, message: str) -> Reply:
    body = compact({"error": message, "status": status}) + b"\n"
    return Reply(httpx.Response(status, content=body, headers=ERROR_HEADERS))


def ok(status: int, data: Any) -> httpx.Response:
    return httpx.Response(
        status, content=compact(data), headers={"Content-Type": "application/json"}
    )


def no_content() -> httpx.Response:
    return httpx.Response(204)


class FakeToxiproxy:
    """A Toxiproxy API in a dict; `requests` records what the client sent."""

    def __init__(self, *, extended: bool) -> None:
        self.extended = extended
        self.proxies: dict[str, dict[str, Any]] = {}
        self.live: dict[str, list[dict[str, Any]]] = {}  # canned connections per proxy
        self.occupied: set[str] = set()  # addresses some other program holds
        self.requests: list[httpx.Request] = []
        self._next_port = 26000
        self.transport = httpx.MockTransport(self.handle)

    # -- plumbing ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [unquote(s) for s in raw.split("/")[1:]]
        route = self._route(segments)
        if route is None or "" in segments:
            return httpx.Response(404, content=b"404 page not found\n", headers=ERROR_HEADERS)
        methods, args = route
        handler = methods.get(request.method)
        if handler is None:
            return httpx.Response(405)
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            return httpx.Response(403, content=b"User agent not allowed\n", headers=ERROR_HEADERS)
        try:
            response = handler(request, *args)
        except Reply as reply:
            response = reply.response
        response.headers["X-Toxiproxy-Request-Id"] = "cs0fake0request0id00"
        return response

    def _route(self, s: list[str]) -> tuple[dict[str, Any], list[str]] | None:
        n = len(s)
        if s == ["version"]:
            return {"GET": self.version}, []
        if s == ["reset"]:
            return {"POST": self.reset}, []
        if s == ["populate"]:
            return {"POST": self.populate}, []
        if s == ["proxies"]:
            return {"GET": self.list_proxies, "POST": self.create_proxy}, []
        if n == 2 and s[0] == "proxies":
            return {
                "GET": self.get_proxy,
                "POST": self.update_proxy,
                "PATCH": self.update_proxy,
                "DELETE": self.delete_proxy,
            }, [s[1]]
        if n == 3 and s[0] == "proxies" and s[2] == "toxics":
            return {"GET": self.list_toxics, "POST": self.add_toxic}, [s[1]]
        if n == 4 and s[0] == "proxies" and s[2] == "toxics":
            return {
                "GET": self.get_toxic,
                "POST": self.update_toxic,
                "PATCH": self.update_toxic,
                "DELETE": self.remove_toxic,
            }, [s[1], s[3]]
        if self.extended and n == 3 and s[0] == "proxies" and s[2] == "connections":
            return {"GET": self.connections, "DELETE": self.cut}, [s[1]]
        if self.extended and s == ["openapi.json"]:
            return {"GET": self.openapi}, []
        return None

    @staticmethod
    def _body(request: httpx.Request, kind: type, go_type: str) -> Any:
        if not request.content:
            raise error(400, "bad request body: EOF")
        try:
            data = json.loads(request.content)
        except ValueError as exc:
            raise error(400, "bad request body: invalid character") from exc
        if not isinstance(data, kind):
            raise error(
                400,
                f"bad request body: json: cannot unmarshal {type(data).__name__} "
                f"into Go value of type {go_type}",
            )
        return data

    def _proxy(self, name: str) -> dict[str, Any]:
        if name not in self.proxies:
            raise error(404, "proxy not found")
        return self.proxies[name]

    def _toxic(self, proxy: dict[str, Any], name: str) -> dict[str, Any]:
        for toxic in proxy["toxics"]:
            if toxic["name"] == name:
                return toxic
        raise error(404, "toxic not found")

    def _render(self, proxy: dict[str, Any]) -> dict[str, Any]:
        out = {k: proxy[k] for k in ("name", "listen", "upstream", "enabled")}
        if not self.extended:
            out["Logger"] = {}  # the real Toxiproxy's stray field
        out["toxics"] = self._ordered(proxy)
        return out

    @staticmethod
    def _ordered(proxy: dict[str, Any]) -> list[dict[str, Any]]:
        toxics = proxy["toxics"]
        ups = [t for t in toxics if t["stream"].lower() == "upstream"]
        return ups + [t for t in toxics if t["stream"].lower() == "downstream"]

    def _bind(self, listen: str, owner: str) -> str:
        host, sep, port = listen.rpartition(":")
        if not sep:
            raise error(500, f"listen tcp: address {listen}: missing port in address")
        host = {"localhost": "127.0.0.1", "": "[::]"}.get(host, host)
        if port == "0":
            self._next_port += 1
            port = str(self._next_port)
        address = f"{host}:{port}"
        taken = {p["listen"] for n, p in self.proxies.items() if p["enabled"] and n != owner}
        if address in taken | self.occupied:
            raise error(500, f"listen tcp {address}: bind: address already in use")
        return address

    def _new_toxic(self, proxy: dict[str, Any], body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise error(400, "bad request body: json: cannot unmarshal into ToxicWrapper")
        stream = body.get("stream", "downstream")
        if not isinstance(stream, str) or stream.lower() not in ("upstream", "downstream"):
            raise error(400, "stream was invalid, can be either upstream or downstream")
        kind = body.get("type")
        name = body.get("name") or f"{kind}_{stream}"
        defaults = {**TOXIC_DEFAULTS, **(EXTENDED_DEFAULTS if self.extended else {})}
        if kind not in defaults:
            raise error(400, "invalid toxic type")
        if any(t["name"] == name for t in proxy["toxics"]):
            raise error(409, "toxic already exists")
        attributes = {**defaults[kind], **(body.get("attributes") or {})}
        toxicity = body.get("toxicity", 1.0)
        return {
            "attributes": attributes,
            "name": name,
            "type": kind,
            "stream": stream,
            "toxicity": toxicity,
        }

    def _make_proxy(self, body: dict[str, Any], where: str = "") -> dict[str, Any]:
        for field in ("name", "upstream"):
            if not body.get(field):
                raise error(400, f"missing required field: {field}{where}")
        enabled = body.get("enabled", True)
        listen = body.get("listen") or ""
        proxy = {
            "name": body["name"],
            "listen": listen,
            "upstream": body["upstream"],
            "enabled": enabled,
            "toxics": [],
        }
        if enabled:
            proxy["listen"] = self._bind(listen, body["name"])
        return proxy

    # -- routes --------------------------------------------------------------------------------

    def version(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=b'{"version": "git"}\n',
            headers={"Content-Type": "application/json;charset=utf-8"},
        )

    def list_proxies(self, request: httpx.Request) -> httpx.Response:
        return ok(200, {n: self._render(p) for n, p in sorted(self.proxies.items())})

    def create_proxy(self, request: httpx.Request) -> httpx.Response:
        body = self._body(request, dict, "toxiproxy.Proxy")
        if body.get("name") in self.proxies:
            self._make_proxy({**body, "enabled": False})  # missing-field checks come first
            raise error(409, "proxy already exists")
        proxy = self._make_proxy(body)
        if self.extended:
            for toxic in body.get("toxics") or ():
                proxy["toxics"].append(self._new_toxic(proxy, toxic))
        self.proxies[proxy["name"]] = proxy
        return ok(201, self._render(proxy))

    def get_proxy(self, request: httpx.Request, name: str) -> httpx.Response:
        return ok(200, self._render(self._proxy(name)))

    def update_proxy(self, request: httpx.Request, name: str) -> httpx.Response:
        proxy = self._proxy(name)
        body = self._body(request, dict, "toxiproxy.Proxy")
        upstream = body.get("upstream", proxy["upstream"])
        enabled = body.get("enabled", proxy["enabled"])
        listen = body.get("listen", proxy["listen"])
        if enabled:
            listen = self._bind(listen, name)
        proxy.update(listen=listen, upstream=upstream, enabled=enabled)
        return ok(200, self._render(proxy))

    def delete_proxy(self, request: httpx.Request, name: str) -> httpx.Response:
        self._proxy(name)
        del self.proxies[name]
        return no_content()

    def list_toxics(self, request: httpx.Request, name: str) -> httpx.Response:
        return ok(200, self._ordered(self._proxy(name)))

    def add_toxic(self, request: httpx.Request, name: str) -> httpx.Response:
        proxy = self._proxy(name)
        toxic = self._new_toxic(proxy, self._body(request, dict, "toxics.ToxicWrapper"))
        proxy["toxics"].append(toxic)
        return ok(200, toxic)

    def get_toxic(self, request: httpx.Request, name: str, toxic: str) -> httpx.Response:
        return ok(200, self._toxic(self._proxy(name), toxic))

    def update_toxic(self, request: httpx.Request, name: str, toxic: str) -> httpx.Response:
        found = self._toxic(self._proxy(name), toxic)
        body = self._body(request, dict, "toxics.ToxicWrapper")
        found["attributes"].update(body.get("attributes") or {})
        found["toxicity"] = body.get("toxicity", found["toxicity"])
        return ok(200, found)

    def remove_toxic(self, request: httpx.Request, name: str, toxic: str) -> httpx.Response:
        proxy = self._proxy(name)
        proxy["toxics"].remove(self._toxic(proxy, toxic))
        return no_content()

    def reset(self, request: httpx.Request) -> httpx.Response:
        for name, proxy in self.proxies.items():
            if not proxy["enabled"]:
                proxy["listen"] = self._bind(proxy["listen"], name)
                proxy["enabled"] = True
            proxy["toxics"].clear()
        return no_content()

    def populate(self, request: httpx.Request) -> httpx.Response:
        def fail(status: int, message: str, done: list[dict[str, Any]] | None) -> httpx.Response:
            body = {"error": message, "status": status, "proxies": done}
            return httpx.Response(
                status, content=compact(body), headers={"Content-Type": "application/json"}
            )

        try:
            entries = self._body(request, list, "[]struct { toxiproxy.Proxy }")
        except Reply as reply:
            return reply.response
        for n, entry in enumerate(entries, start=1):
            for field in ("name", "upstream"):
                if not entry.get(field):
                    return fail(400, f"missing required field: {field} at proxy {n}", None)
        done: list[dict[str, Any]] = []
        for entry in entries:
            existing = self.proxies.get(entry["name"])
            if existing and existing["upstream"] == entry["upstream"]:
                done.append(self._render(existing))
                continue
            try:
                proxy = self._make_proxy(entry)
            except Reply as reply:
                message = json.loads(reply.response.content)["error"]
                return fail(reply.response.status_code, message, done or None)
            self.proxies[proxy["name"]] = proxy
            done.append(self._render(proxy))
        return ok(201, {"proxies": done or None})

    def connections(self, request: httpx.Request, name: str) -> httpx.Response:
        self._proxy(name)
        return ok(200, self.live.get(name, []))

    def cut(self, request: httpx.Request, name: str) -> httpx.Response:
        self._proxy(name)
        self.live[name] = []
        return no_content()

    def openapi(self, request: httpx.Request) -> httpx.Response:
        return ok(200, {"openapi": "3.1.0", "info": {"title": "pytest-chaos proxy"}, "paths": {}})
