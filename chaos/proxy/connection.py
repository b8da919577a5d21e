"""One client connection through a proxy: two sockets, two links, and how they close.

Closing follows Toxiproxy: when EOF reaches the end of a link, the destination socket is
closed (FIN, after pending writes); the other link then sees its source end and closes the
other socket once its own toxics let the EOF through. No half-open connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chaos.proxy.address import format_address
from chaos.proxy.flow import Flow
from chaos.proxy.link import Link
from chaos.proxy.stub import Clock

if TYPE_CHECKING:
    from chaos.proxy.collection import ToxicSpec

__all__ = ["Connection"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
_ids = itertools.count(1)
_LINGER_ZERO = struct.pack("ii", 1, 0)


class _Side(asyncio.Protocol):
    """One socket of a connection: feeds the link it is the source of."""

    def __init__(self, conn: Connection, name: str) -> None:
        self.conn = conn
        self.name = name
        self.transport: asyncio.Transport | None = None
        # uvloop may deliver data before a pause_reading() in connection_made takes effect;
        # whatever arrives before the links exist waits here (None marks EOF).
        self.early: list[bytes | None] | None = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.conn._side_made(self)

    def data_received(self, data: bytes) -> None:
        if self.early is not None:
            self.early.append(data)
        else:
            self.conn._source_link(self).feed(data)

    def eof_received(self) -> bool:
        if self.early is not None:
            self.early.append(None)
        else:
            self.conn._source_link(self).feed_eof()
        return True  # keep the socket: the other direction may still be writing to it

    def flush_early(self, link: Link) -> None:
        early, self.early = self.early or [], None
        for data in early:
            if data is None:
                link.feed_eof()
            else:
                link.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn._side_lost(self)

    def pause_writing(self) -> None:
        self.conn._dest_flow(self).pause("write")

    def resume_writing(self) -> None:
        self.conn._dest_flow(self).resume("write")


class Connection:
    """A client socket, its upstream socket, and the upstream and downstream links."""

    def __init__(
        self,
        proxy_name: str,
        upstream: str,
        chains: Callable[[str], tuple[ToxicSpec, ...]],
        rng: random.Random,
        on_closed: Callable[[Connection], None],
        clock: Clock | None = None,
    ) -> None:
        self.seq = next(_ids)
        """Creation order (ids sort as text, so `p-10` would come before `p-9`)."""
        self.id = f"{proxy_name}-{self.seq}"
        self.upstream_address = upstream
        self._chains = chains
        self._rng = rng
        self._clock = clock
        self._on_closed = on_closed
        self.opened_at = time.time()
        self.client = _Side(self, "client")
        self.server = _Side(self, "upstream")
        self.client_flow = Flow()
        self.server_flow = Flow()
        self.links: dict[str, Link] = {}
        self.shared: dict[Any, Any] = {}
        """Given to both links: toxics that span the two directions keep their state here."""
        self._lost: set[str] = set()
        self._open_task: asyncio.Task[None] | None = None
        self.closed = False

    # -- wiring ----------------------------------------------------------------------------

    def _source_link(self, side: _Side) -> Link:
        return self.links["upstream" if side is self.client else "downstream"]

    def _dest_flow(self, side: _Side) -> Flow:
        # A destination that cannot keep up pauses reading at the opposite socket.
        return self.server_flow if side is self.client else self.client_flow

    def _side_made(self, side: _Side) -> None:
        assert side.transport is not None
        # Nothing is read on either socket before both links exist (servers may speak first).
        side.transport.pause_reading()
        if side is self.client:
            self.client_flow.transport = side.transport
            self._open_task = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        host, _, port = self.upstream_address.rpartition(":")
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: self.server, host.strip("[]"), int(port)),
                CONNECT_TIMEOUT,
            )
        except (TimeoutError, OSError, ValueError) as exc:
            # Toxiproxy accepts, fails to dial, and closes the client: it reads EOF.
            log.info("upstream %s unreachable for %s: %s", self.upstream_address, self.id, exc)
            self._close_transport(self.client.transport)
            return
        assert self.client.transport is not None and self.server.transport is not None
        self.server_flow.transport = self.server.transport
        self.links["upstream"] = Link(
            "upstream",
            self.client_flow,
            self.server.transport,
            on_eof=lambda: self._close_side(self.server.transport),
            on_reset=self.reset,
            rng=self._rng,
            clock=self._clock,
            shared=self.shared,
        )
        self.links["downstream"] = Link(
            "downstream",
            self.server_flow,
            self.client.transport,
            on_eof=lambda: self._close_side(self.client.transport),
            on_reset=self.reset,
            rng=self._rng,
            clock=self._clock,
            shared=self.shared,
        )
        for link, source, dest in (
            (self.links["upstream"], self.client.transport, self.server.transport),
            (self.links["downstream"], self.server.transport, self.client.transport),
        ):
            src_sock, dest_sock = source.get_extra_info("socket"), dest.get_extra_info("socket")
            if src_sock is not None and dest_sock is not None:
                link.enable_splice(src_sock.fileno(), dest_sock.fileno())
        for stream, link in self.links.items():
            link.start(self._chains(stream))
        self.client.flush_early(self.links["upstream"])
        self.server.flush_early(self.links["downstream"])
        self.server.transport.resume_reading()
        self.client.transport.resume_reading()

    def _side_lost(self, side: _Side) -> None:
        self._lost.add(side.name)
        if side.early is not None:
            side.early.append(None)
        else:
            self._source_link(side).feed_eof()
        if side is self.client and not self.links:
            # The client left while we dialled: give up dialling.
            if self._open_task is not None:
                self._open_task.cancel()
            self._close_transport(self.server.transport)
            self._finish()
        elif len(self._lost) == 2:
            self._finish()

    def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        for link in self.links.values():
            link.cancel()
        self._on_closed(self)

    def _stop_splicing(self) -> None:
        # A splicer's duplicate fds keep both sockets open: no FIN or RST would leave.
        for link in self.links.values():
            link.stop_splice()

    def _close_side(self, transport: asyncio.BaseTransport | None) -> None:
        self._stop_splicing()
        self._close_transport(transport)

    @staticmethod
    def _close_transport(transport: asyncio.BaseTransport | None) -> None:
        if transport is not None and not transport.is_closing():
            transport.close()

    # -- control ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close both sockets with FIN (after pending writes); queued toxic data is dropped."""
        for link in self.links.values():
            link.cancel()
        if self._open_task is not None and not self.links:
            self._open_task.cancel()
        self._close_transport(self.client.transport)
        self._close_transport(self.server.transport)

    def reset(self) -> None:
        """Abort both sockets with RST (SO_LINGER 0)."""
        self._stop_splicing()
        for side in (self.client, self.server):
            transport = side.transport
            if transport is None or side.name in self._lost:
                continue
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # The peer may have closed already: then there is nothing left to reset.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            transport.abort()

    def info(self) -> dict[str, Any]:
        """What GET /proxies/{proxy}/connections shows for this connection."""

        def peer(side: _Side, key: str) -> str | None:
            if side.transport is None:
                return None
            addr = side.transport.get_extra_info(key)
            return format_address(addr[0], addr[1]) if addr else None

        return {
            "id": self.id,
            "client": peer(self.client, "peername"),
            "upstream": peer(self.server, "peername") or self.upstream_address,
            "opened_at": self.opened_at,
            "toxics": {
                stream: [
                    {"name": name, "type": type_, "active": active}
                    for name, type_, active in link.applied
                ]
                for stream, link in self.links.items()
            },
            "bytes": {stream: link.sent_bytes for stream, link in self.links.items()},
        }
