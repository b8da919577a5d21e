"""pytest-xdist: workers running at once each get their own servers, ports and brokers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chaos.client import Toxiproxy
from chaos.runtime import HttpReady, ManagedProcess, allocate_port, rabbitmq_available

pytest_plugins = ["pytester"]

TESTS = """
import json
import os
import sys
import time

import httpx
import pytest

from chaos.runtime import HttpReady, allocate_port

OUT = {out!r}


@pytest.mark.parametrize("n", range(4))
def test_service_behind_a_proxy(n, toxiproxy_server, proxy, service, tmp_path):
    started = time.monotonic()  # from here to the end its ports are in use
    port = allocate_port()
    (tmp_path / "n.txt").write_text(str(n))
    service("web", [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1"],
            ready=HttpReady(f"http://127.0.0.1:{{port}}/n.txt"), cwd=tmp_path)
    web = proxy(f"127.0.0.1:{{port}}")
    # Long enough that the other worker's tests run meanwhile.
    with web.latency(300):
        for _ in range(3):
            assert httpx.get(f"http://{{web.address}}/n.txt", timeout=10).text == str(n)
    window = (started, time.monotonic())
    with open(f"{{OUT}}/{{n}}.json", "w") as f:
        json.dump({{"worker": os.environ["PYTEST_XDIST_WORKER"], "server": toxiproxy_server.url,
                   "service": port, "proxy": web.port, "window": window}}, f)
"""

SHARED_SERVER_TESTS = """
import time

import pytest


@pytest.mark.parametrize("n", range(6))
def test_fault_lasts_its_whole_block(toxiproxy, proxy, n):
    p = proxy("127.0.0.1:9")
    with p.latency(100):
        # Blocks of different lengths: other workers' teardowns land inside this one.
        for _ in range(5 + 3 * n):
            assert [t.type for t in toxiproxy.toxics(p.name)] == ["latency"]
            time.sleep(0.1)
"""

BROKER_TEST = """
import json
import os


def test_own_broker(rabbitmq_proc, rabbitmq):
    rabbitmq.channel().queue_declare("mine", durable=True)
    assert rabbitmq_proc.list_queues() == ["mine"]  # not the other worker's queue
    ports = [rabbitmq_proc.port, rabbitmq_proc.dist_port, rabbitmq_proc.epmd_port,
             rabbitmq_proc.ctl_port]
    with open(f"{out}/{{os.environ['PYTEST_XDIST_WORKER']}}.json", "w") as f:
        json.dump({{"node": rabbitmq_proc.node_name, "ports": ports}}, f)
"""


def records(out: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]


@pytest.mark.timeout(180)
def test_two_workers_proxies_and_services_do_not_clash(pytester: pytest.Pytester) -> None:
    out = pytester.mkdir("out")
    pytester.makepyfile(test_parallel=TESTS.format(out=str(out)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "-rfE")
    result.assert_outcomes(passed=4)
    runs = records(out)
    assert len(runs) == 4
    assert {run["worker"] for run in runs} == {"gw0", "gw1"}
    servers = {run["worker"]: run["server"] for run in runs}
    assert len(set(servers.values())) == 2, servers  # one proxy server per worker
    assert len({run["service"] for run in runs}) == 4, runs
    # Tests on different workers overlapped in time, and their listen ports still differ.
    by_worker = {w: [r for r in runs if r["worker"] == w] for w in ("gw0", "gw1")}
    overlapping = [
        (a, b)
        for a in by_worker["gw0"]
        for b in by_worker["gw1"]
        if a["window"][0] < b["window"][1] and b["window"][0] < a["window"][1]
    ]
    assert overlapping, "the workers never ran at the same time: the test proves nothing"
    for a, b in overlapping:
        assert {a["service"], a["proxy"]}.isdisjoint({b["service"], b["proxy"]})


@pytest.mark.timeout(120)
def test_a_server_shared_by_workers_is_not_reset_under_other_tests(
    pytester: pytest.Pytester,
) -> None:
    port = allocate_port()
    argv = [sys.executable, "-m", "chaos.proxy.cli", "-host", "127.0.0.1", "-port", str(port)]
    url = f"http://127.0.0.1:{port}"
    pytester.makepyfile(test_shared=SHARED_SERVER_TESTS)
    with ManagedProcess("shared-proxy", argv, readiness=HttpReady(f"{url}/version")):
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-n", "2", "-rfE", "--toxiproxy-url", url
        )
        with Toxiproxy(url) as api:
            left = api.proxies()
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        ["*PytestWarning: http://127.0.0.1:* is shared by 2 xdist workers*"]
    )
    assert left == {}, "the proxies the tests made are deleted all the same"


@pytest.mark.rabbitmq
@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed")
@pytest.mark.timeout(180)
def test_two_workers_each_boot_their_own_broker(pytester: pytest.Pytester) -> None:
    out = pytester.mkdir("out")
    pytester.makepyfile(test_brokers=BROKER_TEST.format(out=str(out)))
    logs = pytester.path / "logs"
    # --dist each: the one test runs on both workers, so both brokers boot at the same time.
    # With kept logs, each broker needs a directory of its own (config, pid file, data).
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--dist", "each", "-rfE", "--chaos-keep-logs", logs
    )
    result.assert_outcomes(passed=2)
    first, second = records(out)
    assert first["node"] != second["node"]
    assert set(first["ports"]).isdisjoint(second["ports"]), (first, second)
    for worker, record in (("gw0", first), ("gw1", second)):
        kept = [path.read_text(errors="replace") for path in (logs / worker).rglob("*.log")]
        assert any(record["node"] in text for text in kept), f"no log of {record['node']}"
