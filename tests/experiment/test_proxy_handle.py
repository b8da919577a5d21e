"""A proxy handle's HTTP faults against the real server: applied for the block, always removed."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from chaos._timeline import Timeline
from chaos.client import HttpMatch, Toxiproxy
from chaos.experiment._proxy_handle import ProxyHandle
from chaos.proxy.runner import EmbeddedServer

pytestmark = pytest.mark.timeout(60)

REQUESTS = 200  # per percentage run: 30 % gives 60 +/- 6.5 (one sigma)


class _Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so toxicity is judged per request

    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def api() -> Iterator[Toxiproxy]:
    with EmbeddedServer(seed=7) as server, Toxiproxy(server.url) as client:
        yield client


@pytest.fixture
def handle(api: Toxiproxy, upstream: str) -> Iterator[ProxyHandle]:
    model = api.create_proxy("push", upstream)
    yield ProxyHandle(api, model, Timeline())
    api.delete_proxy("push")


@pytest.fixture
def client(handle: ProxyHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{handle.address}", trust_env=False, timeout=10) as c:
        yield c


def statuses(client: httpx.Client, n: int, path: str = "/notify") -> list[int]:
    return [client.post(path).status_code for _ in range(n)]


def test_http_error_fails_the_first_count_then_is_removed(
    handle: ProxyHandle, client: httpx.Client, api: Toxiproxy
) -> None:
    with handle.http_error(503, count=2) as event:
        assert [t.type for t in api.toxics("push")] == ["http_error"]
        assert statuses(client, 4) == [503, 503, 200, 200]  # one keep-alive connection
    assert api.toxics("push") == []
    assert statuses(client, 1) == [200]
    [recorded] = handle.timeline.to_list()
    assert recorded["kind"] == "http_error" and recorded["target"] == "push"
    assert recorded["attributes"]["status"] == 503 and recorded["attributes"]["count"] == 2
    assert event.removed_at is not None


def test_http_error_percentage_within_binomial_bounds(
    handle: ProxyHandle, client: httpx.Client
) -> None:
    with handle.http_error(503, percentage=30):
        failed = statuses(client, REQUESTS).count(503)
    # 60 expected; 30..90 is beyond 4.5 sigma on either side (p < 1e-5 of a false alarm).
    assert 30 <= failed <= 90, f"{failed} of {REQUESTS} failed with percentage=30"
    assert statuses(client, 20).count(503) == 0


def test_http_error_answers_with_body_and_headers_only_where_matched(
    handle: ProxyHandle, client: httpx.Client
) -> None:
    fault = handle.http_error(
        429, body="slow down", headers={"Retry-After": "1"}, match={"path": "/notify"}
    )
    with fault:
        refused = client.post("/notify")
        other = client.get("/health")
    assert refused.status_code == 429 and refused.text == "slow down"
    assert refused.headers["retry-after"] == "1"
    assert other.status_code == 200 and other.text == "ok"


def test_http_error_match_by_method_and_header(handle: ProxyHandle, client: httpx.Client) -> None:
    match: HttpMatch = {"method": "POST", "match_headers": {"X-Tenant": "slow-*"}}
    with handle.http_error(500, match=match):
        tenant = client.post("/notify", headers={"X-Tenant": "slow-eu"}).status_code
        other_tenant = client.post("/notify", headers={"X-Tenant": "fast"}).status_code
        get = client.get("/notify", headers={"X-Tenant": "slow-eu"}).status_code
    assert (tenant, other_tenant, get) == (500, 200, 200)


def test_http_latency_delays_responses_for_the_block(
    handle: ProxyHandle, client: httpx.Client, api: Toxiproxy
) -> None:
    with handle.http_latency(300, first_byte=True, match={"path": "/notify"}):
        began = time.monotonic()
        assert client.post("/notify").status_code == 200
        slow = time.monotonic() - began
        [toxic] = api.toxics("push")
    assert slow >= 0.3, f"a 300 ms http_latency answered in {slow * 1000:.0f} ms"
    assert toxic.type == "http_latency"
    assert toxic.attributes["latency"] == 300 and toxic.attributes["first_byte"] is True
    assert api.toxics("push") == []


def test_http_latency_count_delays_only_the_first(
    handle: ProxyHandle, client: httpx.Client
) -> None:
    with handle.http_latency(300, count=1):
        took = []
        for _ in range(2):
            began = time.monotonic()
            client.get("/x")
            took.append(time.monotonic() - began)
    assert took[0] >= 0.3, f"the first request took {took[0] * 1000:.0f} ms, not >= 300"
    # A delayed second request would take >= 300 ms: count=1 spares it.
    assert took[1] < 0.3, f"the second request took {took[1] * 1000:.0f} ms (count=1)"


def test_an_exception_in_the_block_still_removes_the_http_fault(
    handle: ProxyHandle, api: Toxiproxy
) -> None:
    with pytest.raises(RuntimeError, match="boom"), handle.http_error(503):
        raise RuntimeError("boom")
    assert api.toxics("push") == []
    assert handle.timeline.to_list()[0]["removed_at"] is not None


def test_percentage_given_twice_is_refused_before_anything_is_applied(
    handle: ProxyHandle, api: Toxiproxy
) -> None:
    with (
        pytest.raises(ValueError, match=r"percentage given twice \(30 and match"),
        handle.http_error(503, percentage=30, match={"percentage": 50}),
    ):
        pass
    assert api.toxics("push") == []
    assert handle.timeline.to_list() == []
