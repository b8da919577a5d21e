from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chaos.runtime.readiness import (
    CallableReady,
    HttpReady,
    NotReady,
    Readiness,
    TcpReady,
    readiness_checks,
)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tcp_ready_passes_on_a_listening_socket_and_fails_on_a_closed_port() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        TcpReady("127.0.0.1", server.getsockname()[1]).check()
    port = _closed_port()
    with pytest.raises(NotReady, match=f"127.0.0.1:{port}"):
        TcpReady("127.0.0.1", port).check()


def test_http_ready_checks_the_status(http_base: str) -> None:
    HttpReady(f"{http_base}/ok").check()
    HttpReady(f"{http_base}/down", status=503).check()
    with pytest.raises(NotReady, match="answered 503, waiting for 200"):
        HttpReady(f"{http_base}/down").check()


def test_http_ready_reports_connection_errors() -> None:
    with pytest.raises(NotReady, match=r"GET http://127\.0\.0\.1"):
        HttpReady(f"http://127.0.0.1:{_closed_port()}/").check()


def test_callable_ready_wants_a_truthy_result() -> None:
    CallableReady(lambda: 1).check()
    with pytest.raises(NotReady, match="returned a falsy value"):
        CallableReady(lambda: None, description="probe").check()


def test_checks_satisfy_the_protocol() -> None:
    assert isinstance(TcpReady("127.0.0.1", 1), Readiness)
    assert isinstance(HttpReady("http://x/"), Readiness)
    assert isinstance(CallableReady(bool), Readiness)


@pytest.mark.parametrize(
    ("factory", "fragment"),
    [
        (lambda: TcpReady("127.0.0.1", 0), "port=0"),
        (lambda: TcpReady("127.0.0.1", 70000), "port=70000"),
        (lambda: HttpReady("127.0.0.1:80/"), "must start with http"),
        (lambda: HttpReady("http://x/", status=42), "status=42"),
        (lambda: CallableReady(42), "fn=42"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_fail_in_the_constructor(factory: object, fragment: str) -> None:
    with pytest.raises((ValueError, TypeError), match=fragment):
        factory()  # type: ignore[operator]


def test_readiness_checks_takes_one_several_or_none() -> None:
    tcp, http = TcpReady("127.0.0.1", 1), HttpReady("http://127.0.0.1:1/")
    assert readiness_checks(None) == []
    assert readiness_checks(tcp) == [tcp]
    assert readiness_checks((tcp, http)) == [tcp, http]


def test_readiness_checks_rejects_an_object_without_check() -> None:
    with pytest.raises(TypeError, match=r"readiness check 'port 80' has no check\(\) method"):
        readiness_checks([TcpReady("127.0.0.1", 1), "port 80"])  # type: ignore[list-item]
