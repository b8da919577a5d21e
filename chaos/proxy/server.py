"""The registry of proxies and every operation the API offers on them, with Toxiproxy's semantics.

Mutating operations hold one asyncio.Lock so that concurrent API calls never interleave
half-done changes (a populate and a delete, two updates of one proxy).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos.proxy.address import format_address, resolve
from chaos.proxy.bodies import ProxyRequest, ToxicRequest, decode_populate
from chaos.proxy.collection import ToxicCollection, ToxicSpec
from chaos.proxy.errors import (
    ApiError,
    BadRequest,
    MissingName,
    MissingUpstream,
    ProxyExists,
    ProxyNotFound,
)
from chaos.proxy.proxy import Proxy

__all__ = ["ProxyRequest", "ProxyServer", "ToxicRequest"]

log = logging.getLogger(__name__)


def _check_name(name: str, suffix: str = "") -> None:
    if not name:
        raise MissingName(f"{MissingName.message}{suffix}")
    if "/" in name:
        # Toxiproxy creates such proxies, which then can never be fetched or deleted.
        raise BadRequest(
            f"invalid proxy name {name!r}: a name cannot contain '/' because it could never "
            f"be addressed in a URL path{suffix}"
        )


def _build_toxics(requests: Sequence[ToxicRequest], of: str = "") -> list[ToxicSpec]:
    """Validate every toxic of a new proxy before anything is created."""
    specs: list[ToxicSpec] = []
    for index, req in enumerate(requests, 1):
        try:
            spec = ToxicCollection.build(
                req.type,
                req.stream,
                req.name,
                req.toxicity,
                req.attributes,
                {s.name for s in specs},
            )
        except ApiError as exc:
            raise ApiError(f"{exc.message} at toxic {index}{of}", exc.status) from None
        specs.append(spec)
    return specs


def _resolved(listen: str) -> str | None:
    """The address `listen` resolves to, or None if it does not resolve."""
    try:
        return format_address(*resolve(listen))
    except ApiError:
        return None


class ProxyServer:
    """All proxies of one server, by name, sharing one seeded random source."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        # One generator for every proxy: with a seed, toxicity rolls and jitter repeat.
        self.rng = random.Random(seed)
        self.proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    # -- proxies ---------------------------------------------------------------------------

    def get(self, name: str) -> Proxy:
        try:
            return self.proxies[name]
        except KeyError:
            raise ProxyNotFound() from None

    def sorted(self) -> list[Proxy]:
        """Every proxy, by name (Go marshals maps with sorted keys)."""
        return [self.proxies[name] for name in sorted(self.proxies)]

    async def create(self, req: ProxyRequest) -> Proxy:
        """Create and (unless `enabled` is False) start a proxy with its toxics in place."""
        _check_name(req.name)
        if not req.upstream:
            raise MissingUpstream()
        async with self._lock:
            if req.name in self.proxies:
                raise ProxyExists()
            specs = _build_toxics(req.toxics)
            proxy = await self._new_proxy(req, specs)
            self.proxies[req.name] = proxy
            return proxy

    async def _new_proxy(self, req: ProxyRequest, specs: Sequence[ToxicSpec]) -> Proxy:
        proxy = Proxy(req.name, req.listen, req.upstream, rng=self.rng)
        for spec in specs:
            await proxy.toxics.add(spec)  # no connection yet: in place before the first accept
        if req.enabled is not False:
            await proxy.start()
        return proxy

    async def update(
        self,
        name: str,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        """Change listen/upstream/enabled; a real change of address restarts (drops connections)."""
        async with self._lock:
            proxy = self.get(name)
            new_listen = proxy.listen if listen is None else listen
            new_upstream = proxy.upstream if upstream is None else upstream
            want_enabled = proxy.enabled if enabled is None else enabled
            # Resolve first: an unresolvable listen changes nothing (Go's ResolveTCPAddr error).
            resolved = format_address(*resolve(new_listen))
            if proxy.listen != resolved or proxy.upstream != new_upstream:
                await proxy.stop()
                proxy.listen = new_listen
                proxy.upstream = new_upstream
            if want_enabled and not proxy.enabled:
                await proxy.start()  # a bind failure leaves it disabled with the new listen
            elif not want_enabled and proxy.enabled:
                await proxy.stop()
            return proxy

    async def delete(self, name: str) -> None:
        """Remove a proxy: listener closed, every connection closed (FIN), port free at once."""
        async with self._lock:
            proxy = self.get(name)
            del self.proxies[name]
            await proxy.stop()

    async def populate(self, reqs: Sequence[ProxyRequest]) -> list[Proxy]:
        """Create or replace many proxies; see `populate_partial` for the error contract."""
        proxies, error = await self.populate_partial(reqs)
        if error is not None:
            raise error
        return proxies

    async def populate_partial(
        self, reqs: Sequence[ProxyRequest]
    ) -> tuple[list[Proxy], ApiError | None]:
        """Validate all entries, then apply them in order, stopping at the first failure.

        Returns the proxies processed before a failure (they stay) and the failure. An entry
        whose name exists with the same resolved listen and upstream keeps the existing
        proxy untouched (its toxics too, and its `enabled` state).
        """
        all_specs: list[list[ToxicSpec]] = []
        for index, req in enumerate(reqs, 1):
            suffix = f" at proxy {index}"
            _check_name(req.name, suffix)
            if not req.upstream:
                raise MissingUpstream(f"{MissingUpstream.message}{suffix}")
            all_specs.append(_build_toxics(req.toxics, f" of proxy {index}"))
        done: list[Proxy] = []
        async with self._lock:
            for req, specs in zip(reqs, all_specs, strict=True):
                existing = self.proxies.get(req.name)
                if existing is not None:
                    same_listen = existing.listen == _resolved(req.listen)
                    if same_listen and existing.upstream == req.upstream:
                        done.append(existing)
                        continue
                    # Toxiproxy stops the old one first; it stays registered if the new one fails.
                    await existing.stop()
                try:
                    proxy = await self._new_proxy(req, specs)
                except ApiError as exc:
                    return done, exc
                self.proxies[req.name] = proxy
                done.append(proxy)
        return done, None

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic; then raise the first start failure, if any.

        Unlike Toxiproxy, a failure does not stop the reset half-way.
        """
        first: ApiError | None = None
        async with self._lock:
            for proxy in self.sorted():
                try:
                    await proxy.start()
                except ApiError as exc:
                    log.warning("reset: proxy %s could not start: %s", proxy.name, exc.message)
                    first = first or exc
                await proxy.toxics.clear()
        if first is not None:
            raise first

    async def cut(self, name: str) -> int:
        """Close every live connection of a proxy (FIN); it keeps listening. Returns how many."""
        async with self._lock:
            proxy = self.get(name)
            count = proxy.cut()
        # Let the closing sockets run a turn so clients see FIN before the API answers.
        for _ in range(3):
            if not proxy.connections:
                break
            await asyncio.sleep(0)
        return count

    def connections(self, name: str) -> list[dict[str, Any]]:
        """What each live connection of a proxy looks like (`Connection.info()`), oldest first."""
        proxy = self.get(name)
        conns = sorted(proxy.connections, key=lambda c: (c.opened_at, c.id))
        return [conn.info() for conn in conns]

    # -- toxics ----------------------------------------------------------------------------

    def toxics(self, proxy: str) -> list[ToxicSpec]:
        return self.get(proxy).toxics.all()

    def get_toxic(self, proxy: str, name: str) -> ToxicSpec:
        return self.get(proxy).toxics.get(name)

    async def add_toxic(self, proxy: str, req: ToxicRequest) -> ToxicSpec:
        """Validate (stream, type, name clash, attributes) and apply to live connections."""
        async with self._lock:
            collection = self.get(proxy).toxics
            spec = collection.build(
                req.type, req.stream, req.name, req.toxicity, req.attributes, collection.names()
            )
            return await collection.add(spec)

    async def update_toxic(
        self,
        proxy: str,
        name: str,
        attributes: dict[str, Any] | None,
        toxicity: float | None,
    ) -> ToxicSpec:
        """Partial merge of attributes; toxicity kept unless given; live links restart it."""
        async with self._lock:
            return await self.get(proxy).toxics.update(name, attributes, toxicity)

    async def remove_toxic(self, proxy: str, name: str) -> None:
        async with self._lock:
            await self.get(proxy).toxics.remove(name)

    # -- lifecycle -------------------------------------------------------------------------

    async def populate_config(self, path: str | Path) -> list[Proxy]:
        """Populate from a `-config` JSON file; every error is logged, never raised."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            log.error("config %s: cannot read it: %s", path, exc)
            return []
        try:
            reqs = decode_populate(data)
            proxies, error = await self.populate_partial(reqs)
        except ApiError as exc:
            log.error("config %s: %s", path, exc.message)
            return []
        if error is not None:
            log.error("config %s: %s (created before it: %d)", path, error.message, len(proxies))
        log.info("config %s: %d proxies", path, len(proxies))
        return proxies

    async def shutdown(self) -> None:
        """Stop every proxy, closing every connection; proxies stay registered (but disabled)."""
        async with self._lock:
            for proxy in self.sorted():
                await proxy.stop()
