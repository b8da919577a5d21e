"""`proxy` and its faults against the real server `toxiproxy_server` starts (one inner session).

Each inner test puts a TCP echo server behind `proxy(...)`, applies a fault and observes its
effect through the proxy, then observes it gone. Two inner tests check teardown: a fault left
open is rolled back, the server is reset and the proxies `proxy` made are deleted.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
import socketserver
import threading

import pytest


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
"""

TESTS = """
import socket
import time

import pytest

from chaos.pytest_plugin._stash import TIMELINE
from chaos.experiment._proxy_handle import ProxyHandle

PAYLOAD = bytes(range(100))
KEPT = {}


def connect(p):
    return socket.create_connection((p.host, p.port), timeout=10)


def read_exactly(sock, n):
    chunks = []
    while sum(map(len, chunks)) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    return chunks


def read_to_eof(sock):
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def echo_once(p, payload=PAYLOAD):
    with connect(p) as sock:
        started = time.monotonic()
        sock.sendall(payload)
        chunks = read_exactly(sock, len(payload))
        return b"".join(chunks), time.monotonic() - started, chunks


def close_delay(p):
    with connect(p) as sock:
        sock.sendall(b"ping")
        assert b"".join(read_exactly(sock, 4)) == b"ping"
        started = time.monotonic()
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b""
        return time.monotonic() - started


def types(toxiproxy, p):
    return [t.type for t in toxiproxy.toxics(p.name)]


@pytest.mark.parametrize("ms", [800, 0])  # 0: the negative control, must fail
def test_latency_is_observed_then_gone(proxy, echo, toxiproxy, ms):
    p = proxy(echo)
    with p.latency(ms) as event:
        assert types(toxiproxy, p) == ["latency"]
        assert event.applied_at is not None and event.removed_at is None
        data, slow, _ = echo_once(p)
    assert event.removed_at is not None
    assert toxiproxy.toxics(p.name) == []
    after, fast, _ = echo_once(p)
    assert data == after == PAYLOAD
    assert fast < 0.5, f"latency still there after the block: {fast:.3f}s"
    assert slow >= 0.75, f"no latency inside the block: {slow:.3f}s"


def test_down_refuses_connections_then_accepts(proxy, echo, toxiproxy):
    from chaos.runtime import services_port_range

    p = proxy(echo)
    # Reserved outside the kernel's ephemeral range: no outgoing connection takes it while down.
    assert int(p.address.rpartition(":")[2]) in services_port_range()
    assert echo_once(p)[0] == PAYLOAD
    with p.down():
        assert toxiproxy.get_proxy(p.name).enabled is False
        with pytest.raises(ConnectionRefusedError):
            connect(p)
    assert echo_once(p)[0] == PAYLOAD


def test_timeout_black_holes_then_closes(proxy, echo):
    p = proxy(echo)
    with p.timeout(0), connect(p) as sock:
        sock.sendall(b"ping")
        sock.settimeout(1.0)
        with pytest.raises(TimeoutError):
            sock.recv(100)
    with p.timeout(300), connect(p) as sock:
        sock.sendall(b"ping")
        assert read_to_eof(sock) == b""  # closed with nothing passed
    assert echo_once(p)[0] == PAYLOAD


def test_reset_peer_resets(proxy, echo):
    p = proxy(echo)
    with p.reset_peer(), connect(p) as sock:
        sock.sendall(b"ping")
        with pytest.raises(ConnectionResetError):
            read_to_eof(sock)
    assert echo_once(p)[0] == PAYLOAD


def test_limit_data_truncates_then_closes(proxy, echo):
    p = proxy(echo)
    with p.limit_data(5), connect(p) as sock:
        sock.sendall(PAYLOAD)
        assert read_to_eof(sock) == PAYLOAD[:5]
    assert echo_once(p)[0] == PAYLOAD


def test_bandwidth_slows_a_transfer(proxy, echo):
    p = proxy(echo)
    big = bytes(10_000)
    with p.bandwidth(5):  # 5 KB/s: 10 KB take about 2 s
        data, slow, _ = echo_once(p, big)
    after, fast, _ = echo_once(p, big)
    assert data == after == big
    assert slow >= 1.2, f"10 KB at 5 KB/s took {slow:.3f}s"
    assert fast < 0.5, f"still throttled after the block: {fast:.3f}s"


def test_slicer_cuts_data_into_slices(proxy, echo):
    p = proxy(echo)
    with p.slicer(average_size=10, size_variation=0, delay_us=20_000):
        data, _, sliced = echo_once(p)
    after, _, whole = echo_once(p)
    assert data == after == PAYLOAD
    assert len(sliced) >= 8 and max(map(len, sliced)) <= 10, [len(c) for c in sliced]
    assert len(whole) <= 2, [len(c) for c in whole]


def test_slow_close_delays_the_close(proxy, echo):
    p = proxy(echo)
    with p.slow_close(1000):
        slow = close_delay(p)
    fast = close_delay(p)
    assert slow >= 0.95, f"close came after {slow:.3f}s"
    assert fast < 0.6, f"close still delayed after the block: {fast:.3f}s"


def test_timeline_records_each_fault(proxy, echo, chaos):
    p = proxy(echo)
    with p.latency(10, jitter=5):
        pass
    with p.down():
        pass
    with p.toxic("noop", stream="upstream"):
        pass
    events = chaos.to_list()
    assert [(e["kind"], e["target"]) for e in events] == [
        ("latency", p.name), ("down", p.name), ("noop", p.name)
    ]
    assert events[0]["attributes"] == {
        "stream": "downstream", "toxicity": 1.0, "latency": 10, "jitter": 5
    }
    assert events[2]["attributes"]["stream"] == "upstream"
    for event, following in zip(events, events[1:] + [None]):
        assert event["error"] is None
        assert event["applied_at"] <= event["removed_at"]
        if following:
            assert event["removed_at"] <= following["applied_at"]


def test_exception_inside_the_block_still_removes_the_fault(proxy, echo, toxiproxy, chaos):
    p = proxy(echo)
    with pytest.raises(RuntimeError, match="boom"), p.latency(500):
        assert types(toxiproxy, p) == ["latency"]
        raise RuntimeError("boom")
    assert toxiproxy.toxics(p.name) == []
    with pytest.raises(RuntimeError, match="bang"), p.down():
        assert toxiproxy.get_proxy(p.name).enabled is False
        raise RuntimeError("bang")
    assert toxiproxy.get_proxy(p.name).enabled is True
    assert echo_once(p)[0] == PAYLOAD
    assert all(e.removed_at is not None and e.error is None for e in chaos.events)


def test_fault_left_open(proxy, echo, toxiproxy, request):
    p = proxy(echo)
    # Kept referenced, so only the teardown can undo them (not the generator's finalizer).
    KEPT["open"] = [p.latency(100), p.down()]
    for cm in KEPT["open"]:
        cm.__enter__()
    assert types(toxiproxy, p) == ["latency"]
    assert toxiproxy.get_proxy(p.name).enabled is False
    KEPT["item"], KEPT["proxy"] = request.node, p.name


def test_fault_left_open_without_the_proxy_fixture(echo, toxiproxy, chaos, request):
    # Made by hand, as a project's own fixtures do: the proxy outlives the test.
    model = toxiproxy.create_proxy("made-by-hand", upstream=echo)
    toxiproxy.add_toxic("made-by-hand", "latency", attributes={"latency": 100})  # not on chaos
    KEPT["by hand"] = ProxyHandle(toxiproxy, model, chaos).slow_close(100)
    KEPT["by hand"].__enter__()
    assert sorted(types(toxiproxy, model)) == ["latency", "slow_close"]
    KEPT["item by hand"] = request.node


def test_next_test_sees_a_clean_server(toxiproxy):
    proxies = toxiproxy.proxies()
    assert KEPT["proxy"] not in proxies, "proxy() did not delete its proxy"
    assert "made-by-hand" in proxies and not proxies["made-by-hand"].toxics
    assert all(not proxy.toxics for proxy in proxies.values())
    events = [
        *KEPT["item"].stash[TIMELINE].to_list(),
        *KEPT["item by hand"].stash[TIMELINE].to_list(),
    ]
    assert [e["kind"] for e in events] == ["latency", "down", "slow_close"]
    assert all(e["removed_at"] is not None and e["error"] is None for e in events), events
    toxiproxy.delete_proxy("made-by-hand")
    KEPT.clear()  # the abandoned generators close now: they must not roll back twice
"""


@pytest.mark.timeout(180)
def test_proxy_faults_against_the_real_server(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_faults=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rfE", "-W", "error::pytest.PytestUnraisableExceptionWarning"
    )
    result.stdout.fnmatch_lines(
        [
            "E  *AssertionError: no latency inside the block*",
            "FAILED test_faults.py::test_latency_is_observed_then_gone[[]0[]]*",
        ]
    )
    result.assert_outcomes(passed=13, failed=1)
