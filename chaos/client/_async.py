"""The asyncio client: the same operations as the sync one, driven with `await`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx

from chaos.client import _ops
from chaos.client._client import Settings
from chaos.client._errors import ToxiproxyError
from chaos.client._models import Connection, Proxy, Toxic
from chaos.client._ops import HttpMatch, Op, Request

T = TypeVar("T")


class AsyncToxiproxy:
    """Asyncio client of a Toxiproxy-compatible API; the same methods as `Toxiproxy`, awaited.

    `url` defaults to `$TOXIPROXY_URL`, then to http://127.0.0.1:8474; `timeout` (seconds)
    bounds every call; `transport` replaces the network (e.g. `httpx.MockTransport` in tests).
    """

    def __init__(
        self,
        url: str | None = None,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = Settings(url, timeout)
        self._http = httpx.AsyncClient(
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
        return f"AsyncToxiproxy(url={self.url!r})"

    async def aclose(self) -> None:
        """Close the underlying HTTP connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncToxiproxy:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _exchange(self, request: Request) -> _ops.Response:
        try:
            response = await self._http.request(request.method, request.path, json=request.body)
        except httpx.RequestError as exc:
            raise self._settings.transport_error(request, exc) from exc
        return _ops.finish(request, response.status_code, response.text)

    async def _run(self, op: Op[T]) -> T:
        try:
            request = next(op)
            while True:
                try:
                    response = await self._exchange(request)
                except ToxiproxyError as exc:
                    request = op.throw(exc)
                else:
                    request = op.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            op.close()

    async def version(self) -> str:
        """The server's version string (`git` for a development build)."""
        return await self._run(_ops.version())

    async def proxies(self) -> dict[str, Proxy]:
        """All proxies by name."""
        return await self._run(_ops.proxies(self))

    async def get_proxy(self, name: str | Proxy) -> Proxy:
        """One proxy; raises `ProxyNotFound`."""
        return await self._run(_ops.get_proxy(self, name))

    async def create_proxy(
        self,
        name: str,
        upstream: str,
        listen: str = "127.0.0.1:0",
        enabled: bool = True,
        toxics: Sequence[Mapping[str, Any] | Toxic] | None = None,
    ) -> Proxy:
        """Create a proxy, born with `toxics` (one by one, with a warning, on a real Toxiproxy)."""
        return await self._run(_ops.create_proxy(self, name, upstream, listen, enabled, toxics))

    async def populate(self, proxies: Iterable[Mapping[str, Any] | Proxy]) -> list[Proxy]:
        """Create or replace many proxies; identical existing ones are kept with their toxics."""
        return await self._run(_ops.populate(self, proxies))

    async def update_proxy(
        self,
        name: str | Proxy,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        """Change the given fields; a new listen or upstream drops live connections."""
        return await self._run(_ops.update_proxy(self, name, listen, upstream, enabled))

    async def enable(self, name: str | Proxy) -> Proxy:
        """Start listening again."""
        return await self.update_proxy(name, enabled=True)

    async def disable(self, name: str | Proxy) -> Proxy:
        """Stop listening and close live connections; toxics are kept."""
        return await self.update_proxy(name, enabled=False)

    async def delete_proxy(self, name: str | Proxy) -> None:
        """Delete a proxy; raises `ProxyNotFound`."""
        await self._run(_ops.delete_proxy(name))

    async def toxics(self, proxy: str | Proxy) -> list[Toxic]:
        """A proxy's toxics: upstream ones then downstream ones, each in insertion order."""
        return await self._run(_ops.toxics(proxy))

    async def get_toxic(self, proxy: str | Proxy, toxic: str) -> Toxic:
        """One toxic; raises `ProxyNotFound` or `ToxicNotFound`."""
        return await self._run(_ops.get_toxic(proxy, toxic))

    async def add_toxic(
        self,
        proxy: str | Proxy,
        type: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> Toxic:
        """Add a toxic (named `<type>_<stream>` unless `name` is given); applies to live links."""
        return await self._run(_ops.add_toxic(proxy, type, stream, toxicity, attributes, name))

    async def add_http_error(
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
        return await self._run(
            _ops.add_http_toxic(proxy, "http_error", stream, toxicity, name, attributes)
        )

    async def add_http_latency(
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
        return await self._run(
            _ops.add_http_toxic(proxy, "http_latency", stream, toxicity, name, attributes)
        )

    async def update_toxic(
        self,
        proxy: str | Proxy,
        toxic: str,
        attributes: Mapping[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> Toxic:
        """Merge `attributes` into the toxic's and set `toxicity` if given."""
        return await self._run(_ops.update_toxic(proxy, toxic, attributes, toxicity))

    async def remove_toxic(self, proxy: str | Proxy, toxic: str) -> None:
        """Remove a toxic (a `timeout` toxic's connections are closed)."""
        await self._run(_ops.remove_toxic(proxy, toxic))

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        await self._run(_ops.reset())

    async def connections(self, proxy: str | Proxy) -> list[Connection]:
        """Live connections through a proxy; `UnsupportedByServer` on a real Toxiproxy."""
        return await self._run(_ops.connections(proxy))

    async def cut_connections(self, proxy: str | Proxy) -> None:
        """Close every live connection of a proxy; `UnsupportedByServer` on a real Toxiproxy."""
        await self._run(_ops.cut_connections(proxy))

    async def openapi(self) -> dict[str, Any]:
        """The server's OpenAPI document; `UnsupportedByServer` on a real Toxiproxy."""
        return await self._run(_ops.openapi())
