"""The synchronous client, and the settings and I/O glue it shares with the async one."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from chaos import __version__
from chaos.client import _ops
from chaos.client._errors import ToxiproxyError, TransportError
from chaos.client._models import Connection, Proxy, Toxic
from chaos.client._ops import HttpMatch, Op, Request

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8474"
# Anything but "Mozilla/...": Toxiproxy answers 403 to browser user agents.
USER_AGENT = f"pytest-chaos/{__version__} python-httpx/{httpx.__version__}"


class Settings:
    """Validated URL, timeout and headers, shared by both clients."""

    def __init__(self, url: str | None, timeout: float) -> None:
        raw = url if url is not None else os.environ.get("TOXIPROXY_URL") or DEFAULT_URL
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"url={raw!r} is not a URL; expected e.g. {DEFAULT_URL!r}")
        # toxiproxy-cli takes a bare "host:port"; accept that too.
        text = raw.strip() if "://" in raw else f"http://{raw.strip()}"
        try:
            parsed = httpx.URL(text)
        except httpx.InvalidURL as exc:
            raise ValueError(
                f"url={raw!r} is not a valid URL ({exc}); expected e.g. {DEFAULT_URL!r}"
            ) from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(
                f"url={raw!r} needs an http(s) scheme and a host; expected e.g. {DEFAULT_URL!r}"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"timeout={timeout!r} must be a positive number of seconds")
        self.url = text.rstrip("/")
        self.timeout = float(timeout)
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}

    def transport_error(self, request: Request, exc: httpx.RequestError) -> TransportError:
        """Translate an httpx failure into our `TransportError`."""
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no answer within timeout={self.timeout}s ({type(exc).__name__})"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        return TransportError(request.method, self.url + request.path, self.url, reason)


class Toxiproxy:
    """Blocking client of a Toxiproxy-compatible API (ours or a real Toxiproxy 2.x).

    `url` defaults to `$TOXIPROXY_URL`, then to http://127.0.0.1:8474; `timeout` (seconds)
    bounds every call; `transport` replaces the network (e.g. `httpx.MockTransport` in tests).
    """

    def __init__(
        self,
        url: str | None = None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = Settings(url, timeout)
        self._http = httpx.Client(
            base_url=self._settings.url,
            timeout=self._settings.timeout,
            headers=self._settings.headers,
            transport=transport,
        )

    @property
    def url(self) -> str:
        """The API base URL this client talks to."""
        return self._settings.url

    def __repr__(self) -> str:
        return f"Toxiproxy(url={self.url!r})"

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()

    def __enter__(self) -> Toxiproxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _exchange(self, request: Request) -> _ops.Response:
        try:
            response = self._http.request(request.method, request.path, json=request.body)
        except httpx.RequestError as exc:
            raise self._settings.transport_error(request, exc) from exc
        return _ops.finish(request, response.status_code, response.text)

    def _run(self, op: Op[T]) -> T:
        try:
            request = next(op)
            while True:
                try:
                    response = self._exchange(request)
                except ToxiproxyError as exc:
                    request = op.throw(exc)
                else:
                    request = op.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            op.close()

    def version(self) -> str:
        """The server's version string (`git` for a development build)."""
        return self._run(_ops.version())

    def proxies(self) -> dict[str, Proxy]:
        """All proxies by name."""
        return self._run(_ops.proxies(self))

    def get_proxy(self, name: str | Proxy) -> Proxy:
        """One proxy; raises `ProxyNotFound`."""
        return self._run(_ops.get_proxy(self, name))

    def create_proxy(
        self,
        name: str,
        upstream: str,
        listen: str = "127.0.0.1:0",
        enabled: bool = True,
        toxics: Sequence[Mapping[str, Any] | Toxic] | None = None,
    ) -> Proxy:
        """Create a proxy, born with `toxics` (one by one, with a warning, on a real Toxiproxy)."""
        return self._run(_ops.create_proxy(self, name, upstream, listen, enabled, toxics))

    def populate(self, proxies: Iterable[Mapping[str, Any] | Proxy]) -> list[Proxy]:
        """Create or replace many proxies; identical existing ones are kept with their toxics."""
        return self._run(_ops.populate(self, proxies))

    def update_proxy(
        self,
        name: str | Proxy,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        """Change the given fields; a new listen or upstream drops live connections."""
        return self._run(_ops.update_proxy(self, name, listen, upstream, enabled))

    def enable(self, name: str | Proxy) -> Proxy:
        """Start listening again."""
        return self.update_proxy(name, enabled=True)

    def disable(self, name: str | Proxy) -> Proxy:
        """Stop listening and close live connections; toxics are kept."""
        return self.update_proxy(name, enabled=False)

    def delete_proxy(self, name: str | Proxy) -> None:
        """Delete a proxy; raises `ProxyNotFound`."""
        self._run(_ops.delete_proxy(name))

    def toxics(self, proxy: str | Proxy) -> list[Toxic]:
        """A proxy's toxics: upstream ones then downstream ones, each in insertion order."""
        return self._run(_ops.toxics(proxy))

    def get_toxic(self, proxy: str | Proxy, toxic: str) -> Toxic:
        """One toxic; raises `ProxyNotFound` or `ToxicNotFound`."""
        return self._run(_ops.get_toxic(proxy, toxic))

    def add_toxic(
        self,
        proxy: str | Proxy,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> Toxic:
        """Add a toxic (named `<type>_<stream>` unless `name` is given); applies to live links."""
        return self._run(_ops.add_toxic(proxy, type, stream, toxicity, attributes, name))

    def add_http_error(
        self,
        proxy: str | Proxy,
        status: int = 503,
        *,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        toxicity: float = 1.0,
        stream: str = "downstream",
        name: str | None = None,
        **match: Unpack[HttpMatch],
    ) -> Toxic:
        """Answer matching requests with `status` instead of forwarding them (our server only).

        `match`: which requests (`method`, `path`, `match_headers`) and how many (`percentage`
        rolled per request, at most `count` in all); see `HttpMatch`.
        """
        attributes = {"status": status, "body": body, "headers": headers, **match}
        return self._run(
            _ops.add_http_toxic(proxy, "http_error", stream, toxicity, name, attributes)
        )

    def add_http_latency(
        self,
        proxy: str | Proxy,
        latency: int,
        *,
        jitter: int | None = None,
        first_byte: bool | None = None,
        toxicity: float = 1.0,
        stream: str = "downstream",
        name: str | None = None,
        **match: Unpack[HttpMatch],
    ) -> Toxic:
        """Delay the responses of matching requests by `latency` ms (our server only).

        With `first_byte`, only the start of each response waits; `match` as for add_http_error.
        """
        attributes = {"latency": latency, "jitter": jitter, "first_byte": first_byte, **match}
        return self._run(
            _ops.add_http_toxic(proxy, "http_latency", stream, toxicity, name, attributes)
        )

    def update_toxic(
        self,
        proxy: str | Proxy,
        toxic: str,
        attributes: Mapping[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> Toxic:
        """Merge `attributes` into the toxic's and set `toxicity` if given."""
        return self._run(_ops.update_toxic(proxy, toxic, attributes, toxicity))

    def remove_toxic(self, proxy: str | Proxy, toxic: str) -> None:
        """Remove a toxic (a `timeout` toxic's connections are closed)."""
        self._run(_ops.remove_toxic(proxy, toxic))

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._run(_ops.reset())

    def connections(self, proxy: str | Proxy) -> list[Connection]:
        """Live connections through a proxy; `UnsupportedByServer` on a real Toxiproxy."""
        return self._run(_ops.connections(proxy))

    def cut_connections(self, proxy: str | Proxy) -> None:
        """Close every live connection of a proxy; `UnsupportedByServer` on a real Toxiproxy."""
        self._run(_ops.cut_connections(proxy))

    def openapi(self) -> dict[str, Any]:
        """The server's OpenAPI document; `UnsupportedByServer` on a real Toxiproxy."""
        return self._run(_ops.openapi())
