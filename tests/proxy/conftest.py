"""A threaded echo server, the upstream of proxies in tests that run a real server thread."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator

import pytest


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def threaded_echo() -> Iterator[str]:
    """host:port of an echo server on its own threads (no event loop of the test's)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)
