"""A named proxy: a listener, its upstream, its toxics, and the connections it carries."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from typing import Any

from chaos.proxy.address import BACKLOG, bind
from chaos.proxy.collection import STREAMS, Close, ToxicCollection, ToxicSpec
from chaos.proxy.connection import Connection
from chaos.proxy.stub import Clock

__all__ = ["Proxy"]

log = logging.getLogger(__name__)


class Proxy:
    """Listens on `listen`, dials `upstream` for each client, runs its toxics on every link."""

    def __init__(
        self,
        name: str,
        listen: str,
        upstream: str,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.rng = rng or random.Random()
        self.clock = clock
        self.toxics = ToxicCollection(self._apply)
        self.connections: set[Connection] = set()
        self._server: asyncio.base_events.Server | None = None
        # Counters of connections already closed, so metrics never go backwards.
        self.closed_totals: Counter[str] = Counter()

    @property
    def enabled(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Bind `listen` and accept; `listen` becomes the bound address (port 0 resolved)."""
        if self._server is not None:
            return
        sock, bound = bind(self.listen)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._accept, sock=sock, backlog=BACKLOG)
        except BaseException:
            sock.close()
            raise
        self.listen = bound
        log.info("proxy %s listening on %s -> %s", self.name, self.listen, self.upstream)

    def _accept(self) -> asyncio.Protocol:
        conn = Connection(
            self.name, self.upstream, self.toxics.chain, self.rng, self._closed, self.clock
        )
        self.connections.add(conn)
        return conn.client

    def _closed(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for stream, link in conn.links.items():
            self.closed_totals[f"{stream}.received_bytes"] += link.received_bytes
            self.closed_totals[f"{stream}.received_chunks"] += link.received_chunks
            self.closed_totals[f"{stream}.sent_bytes"] += link.sent_bytes
            self.closed_totals[f"{stream}.sent_chunks"] += link.sent_chunks

    async def stop(self) -> None:
        """Close the listener, then every connection (clients read EOF). Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.cut()
        # Give closing sockets a turn of the loop so clients see FIN before we return.
        for _ in range(3):
            if not self.connections:
                break
            await asyncio.sleep(0)

    def cut(self) -> int:
        """Close every live connection (FIN), leaving the proxy listening; returns how many."""
        conns = list(self.connections)
        for conn in conns:
            conn.close()
        return len(conns)

    async def _apply(self, stream: str, chain: tuple[ToxicSpec, ...], close_after: Close) -> None:
        conns = [c for c in sorted(self.connections, key=lambda c: c.seq) if stream in c.links]
        links = [c.links[stream] for c in conns]
        # Roll here, oldest connection first: the links rebuild in whatever order their old
        # toxics stop, and a seeded server must draw in the same order every run.
        rolls = [link.roll(chain) for link in links]
        closes = [close_after(c.shared) if callable(close_after) else close_after for c in conns]
        if links:
            await asyncio.gather(
                *(
                    link.update(chain, close, r)
                    for link, close, r in zip(links, closes, rolls, strict=True)
                )
            )

    def totals(self) -> dict[str, int]:
        """Bytes and chunks received and sent per stream, closed and live connections together."""
        totals = Counter(self.closed_totals)
        for conn in self.connections:
            for stream, link in conn.links.items():
                totals[f"{stream}.received_bytes"] += link.received_bytes
                totals[f"{stream}.received_chunks"] += link.received_chunks
                totals[f"{stream}.sent_bytes"] += link.sent_bytes
                totals[f"{stream}.sent_chunks"] += link.sent_chunks
        return {
            f"{s}.{k}": totals[f"{s}.{k}"]
            for s in STREAMS
            for k in ("received_bytes", "received_chunks", "sent_bytes", "sent_chunks")
        }

    def to_json(self) -> dict[str, Any]:
        """The proxy as the API shows it (no `Logger` field: that is a Toxiproxy bug)."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": self.toxics.to_json(),
        }
