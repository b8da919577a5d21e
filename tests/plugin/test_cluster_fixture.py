"""`rabbitmq_cluster`: the size setting, the summary, a clear setup error, the docker backend
(nothing left after a SIGKILL of pytest)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

import docker
from chaos.runtime import netns, rabbitmq_available
from tests._docker import RABBITMQ_IMAGE, docker_client, require_image
from tests.plugin.test_docker_backend import objects_of, wait_none_left
from tests.runtime._helpers import all_gone, wait_until

pytest_plugins = ["pytester"]
__all__ = ["docker_client"]  # a fixture

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed"),
    pytest.mark.timeout(300),
]

TESTS = """
import time
from pathlib import Path

import chaos


def test_the_cluster_has_the_configured_size(rabbitmq_cluster, request):
    assert isinstance(rabbitmq_cluster, chaos.BrokerCluster)
    assert len(rabbitmq_cluster) == len(rabbitmq_cluster.amqp_urls) == 1
    assert chaos.get_config(request).sources["chaos_cluster_size"] == (
        "command line --chaos-cluster-size"
    )
    node = rabbitmq_cluster.nodes[0]
    assert rabbitmq_cluster.cluster_status(node) == [node.node_name]
    assert node.node_name.startswith("rabbit-1@10.231.")
    pids = [str(pid) for pid, _ in node.processes()]
    staged = Path({ready!r} + ".tmp")  # renamed: the outer test never reads half a file
    staged.write_text(rabbitmq_cluster.run + " " + " ".join(pids))
    staged.rename({ready!r})
    time.sleep(120)  # until the outer test SIGKILLs this pytest
"""


@pytest.mark.skipif(netns.unavailable_reason() is not None, reason="no network namespaces")
def test_the_fixture_gives_the_configured_size_and_nothing_is_left_after_sigkill(
    pytester: pytest.Pytester,
) -> None:
    ready = pytester.path / "ready"
    pytester.makepyfile(test_cluster=TESTS.format(ready=str(ready)))
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "-x"]
    proc = subprocess.Popen(
        [*argv, "--chaos-cluster-size", "1", "test_cluster.py"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 200
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    "inner pytest never got its cluster up:\n" + proc.communicate()[0].decode()
                )
            time.sleep(0.1)
        run, *pids = ready.read_text().split()
        assert pids and len(netns.leftovers(run)) == 2  # the switch and the node
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The watchdog kills the node's processes, then runs `chaos.runtime.netns clean --run`.
    assert all_gone([int(p) for p in pids], 30)
    assert wait_until(lambda: netns.leftovers(run) == [], 60), netns.leftovers(run)


def test_a_size_below_one_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--chaos-cluster-size", "0")
    result.stderr.fnmatch_lines(["*invalid --chaos-cluster-size value '0'*at least 1 node*"])


def test_without_network_namespaces_setup_fails_naming_what_is_missing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "import os\nos.geteuid = lambda: 1000  # as an unprivileged user would be\n"
    )
    pytester.makepyfile("def test_x(rabbitmq_cluster): pass")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*could not set up 'rabbitmq_cluster'*need root*uid 1000*hint*--chaos-backend docker*"]
    )


DOCKER_TEST = """
import time
from pathlib import Path


def test_up(rabbitmq_cluster):
    assert rabbitmq_cluster.node_names == ["rabbit@rabbit-1"]
    assert rabbitmq_cluster.cluster_status(0) == ["rabbit@rabbit-1"]
    Path({ready!r}).write_text("1")
    time.sleep(120)  # until the outer test SIGKILLs this pytest
"""


def test_on_docker_one_container_per_node_and_nothing_left_after_sigkill(
    pytester: pytest.Pytester, docker_client: docker.DockerClient
) -> None:
    require_image(docker_client, RABBITMQ_IMAGE)
    ready = pytester.path / "ready"
    pytester.makepyfile(test_docker=DOCKER_TEST.format(ready=str(ready)))
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s"]
    proc = subprocess.Popen(
        [*argv, "--chaos-backend", "docker", "--chaos-cluster-size", "1", "test_docker.py"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 200
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    "inner pytest never got its cluster up:\n" + proc.communicate()[0].decode()
                )
            time.sleep(0.1)
        up = sorted(objects_of(docker_client, proc.pid))
        run = up[0]  # the network: chaos-<run>
        assert up == [run, f"{run}-rabbit-1", f"{run}-rabbit-1-data"]
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert wait_none_left(docker_client, proc.pid) == []
