"""The same contract over a real socket: what uvicorn puts on the wire around our responses."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from chaos.proxy.runner import EmbeddedServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedServer]:
    with EmbeddedServer() as server:
        yield server


def http(server: EmbeddedServer, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send one raw HTTP/1.1 request (Connection: close); return status line, headers, body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def get(path: str, method: str = "GET", body: bytes = b"", agent: str = "test") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: {agent}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def test_double_slash_redirect_on_the_wire(embedded: EmbeddedServer) -> None:
    status, headers, body = http(embedded, get("//proxies?x=1"))
    assert status == "HTTP/1.1 301 Moved Permanently"
    assert headers["location"] == "/proxies?x=1"
    assert body == b""


def test_405_has_no_content_type(embedded: EmbeddedServer) -> None:
    status, headers, body = http(embedded, get("/proxies", "PUT"))
    assert status.startswith("HTTP/1.1 405")
    assert headers["content-length"] == "0" and "content-type" not in headers
    assert "x-toxiproxy-request-id" not in headers and body == b""


def test_escaped_slash_404_on_the_wire(embedded: EmbeddedServer) -> None:
    status, headers, body = http(embedded, get("/proxies/sl%2Fash"))
    assert status.startswith("HTTP/1.1 404")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == b"404 page not found\n"


def test_create_delete_and_204_headers(embedded: EmbeddedServer) -> None:
    payload = b'{"name":"w","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"}'
    status, headers, body = http(embedded, get("/proxies", "POST", payload))
    assert status.startswith("HTTP/1.1 201")
    assert headers["content-type"] == "application/json"
    assert len(headers["x-toxiproxy-request-id"]) == 20
    assert body.startswith(b'{"name":"w","listen":"127.0.0.1:')
    status, headers, body = http(embedded, get("/proxies/w", "DELETE"))
    assert status.startswith("HTTP/1.1 204")
    assert "content-length" not in headers and "transfer-encoding" not in headers
    assert body == b""


def test_error_and_browser_on_the_wire(embedded: EmbeddedServer) -> None:
    status, headers, body = http(embedded, get("/proxies/nope"))
    assert status.startswith("HTTP/1.1 404")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert body == b'{"error":"proxy not found","status":404}\n'
    status, headers, body = http(embedded, get("/version", agent="Mozilla/5.0"))
    assert status.startswith("HTTP/1.1 403")
    assert body == b"User agent not allowed\n"
