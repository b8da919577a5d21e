"""Serve an httpx handler (the fake Toxiproxy) over a real loopback HTTP socket, in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


def _request_handler(handle: Handler) -> type[BaseHTTPRequestHandler]:
    class Bridge(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Go's server does
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(
                self.command,
                f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}",
                headers=list(self.headers.items()),
                content=body,
            )
            response = handle(request)
            content = response.read()
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Bridge


@contextmanager
def serve(handle: Handler) -> Iterator[str]:
    """Serve `handle` on 127.0.0.1 and a free port; yield the base URL; stop on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(handle))
    server.daemon_threads = True
    # A short poll interval so shutdown() returns promptly at teardown.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="fake-toxiproxy", daemon=True
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
