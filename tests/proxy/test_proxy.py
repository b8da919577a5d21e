"""Proxy: its listener and the connections it accepts."""

from __future__ import annotations

import socket

import pytest

from chaos.proxy.proxy import Proxy

pytestmark = pytest.mark.timeout(60)

BURST = 300


async def test_a_burst_of_clients_fits_the_accept_queue() -> None:
    """Connects made while the loop is busy all complete: the backlog is not asyncio's 100."""
    proxy = Proxy("burst", "127.0.0.1:0", "127.0.0.1:9")
    await proxy.start()
    port = int(proxy.listen.rpartition(":")[2])
    clients: list[socket.socket] = []
    try:
        # Blocking connects from the loop's own thread: nothing is accepted meanwhile, so each
        # handshake must find room in the kernel's accept queue (a full one drops the SYN).
        for _ in range(BURST):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    finally:
        for sock in clients:
            sock.close()
        await proxy.stop()
    assert len(clients) == BURST
