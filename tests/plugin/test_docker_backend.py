"""--chaos-backend docker: containers come up, and nothing of a run is left behind.

Normal end, failing test, Ctrl-C and SIGKILL of pytest: no container, network or volume of the
inner run survives. Without an engine, docker-backend tests skip with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import docker
from chaos.runtime.docker import MANAGED, RUN
from tests._docker import RABBITMQ_IMAGE, SAMPLE_IMAGE, docker_client, require_image

pytest_plugins = ["pytester"]
__all__ = ["docker_client"]  # a fixture

TEST = """
import time
from pathlib import Path

def test_up(toxiproxy_server, rabbitmq_proc, toxiproxy):
    assert toxiproxy.version()
    assert toxiproxy_server.peer_host == "toxiproxy"
    assert rabbitmq_proc.queue_stats  # the same handle as a local node
    rabbitmq_proc.kill()
    rabbitmq_proc.start()
    Path({ready!r}).write_text("1")
    {ending}
"""

INNER = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
ENDINGS = {"pass": "pass", "fail": "assert False, 'the test fails'", "hang": "time.sleep(300)"}


def objects_of(client: docker.DockerClient, pid: int) -> list[str]:
    """Names of every labelled object whose run id belongs to process `pid`."""
    filters = {"label": f"{MANAGED}=true"}
    # Listed containers carry their labels in Config; networks and volumes at the top.
    labelled = [(c.name, c.labels) for c in client.containers.list(all=True, filters=filters)]
    labelled += [(n.name, n.attrs["Labels"]) for n in client.networks.list(filters=filters)]
    labelled += [(v.name, v.attrs["Labels"]) for v in client.volumes.list(filters=filters)]
    return [name for name, labels in labelled if labels[RUN].startswith(f"{pid}-")]


def wait_none_left(client: docker.DockerClient, pid: int, timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := objects_of(client, pid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


@pytest.fixture
def images(docker_client: docker.DockerClient) -> None:
    require_image(docker_client, RABBITMQ_IMAGE)
    require_image(docker_client, SAMPLE_IMAGE)
    require_image(docker_client, os.environ.get("CHAOS_PROXY_IMAGE", "chaos-proxy:local"))


def launch(
    pytester: pytest.Pytester, ending: str, *args: str
) -> tuple[subprocess.Popen[bytes], Path]:
    ready = pytester.path / "ready"
    pytester.makepyfile(test_docker=TEST.format(ready=str(ready), ending=ENDINGS[ending]))
    proc = subprocess.Popen(
        [*INNER, "-q", "-s", "--chaos-backend", "docker", *args, "test_docker.py"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, ready


@pytest.mark.timeout(240)
@pytest.mark.parametrize("ending", ["pass", "fail"])
def test_nothing_is_left_when_the_session_ends(
    pytester: pytest.Pytester, docker_client: docker.DockerClient, images: None, ending: str
) -> None:
    proc, _ = launch(pytester, ending)
    out = proc.communicate(timeout=200)[0].decode()
    assert proc.returncode == (0 if ending == "pass" else 1), out
    assert objects_of(docker_client, proc.pid) == []
    assert "its containers and volumes: all removed" in out


@pytest.mark.timeout(240)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_nothing_is_left_when_pytest_is_interrupted_or_killed(
    pytester: pytest.Pytester,
    docker_client: docker.DockerClient,
    images: None,
    sig: signal.Signals,
) -> None:
    proc, ready = launch(pytester, "hang")
    try:
        deadline = time.monotonic() + 150
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    "inner pytest never got its containers up:\n" + proc.communicate()[0].decode()
                )
            time.sleep(0.1)
        up = sorted(objects_of(docker_client, proc.pid))
        run = up[0]  # the network: chaos-<run>
        assert up == [run, f"{run}-rabbitmq", f"{run}-rabbitmq-data", f"{run}-toxiproxy"]
        proc.send_signal(sig)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # After SIGKILL the watchdog runs `chaos-docker clean --run <id>` on its own.
    assert wait_none_left(docker_client, proc.pid) == []


def test_without_an_engine_docker_tests_skip_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_up="def test_up(toxiproxy_server):\n    pass\n")
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    proc = subprocess.run(
        [*INNER, "-rs", "--chaos-backend", "docker", "test_up.py"],
        cwd=pytester.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout
    assert (
        "docker backend: no Docker engine answers at unix:///nonexistent/docker.sock" in proc.stdout
    )
    assert "--chaos-backend local" in proc.stdout


@pytest.mark.timeout(120)
def test_a_missing_image_fails_naming_the_setting(
    pytester: pytest.Pytester, docker_client: docker.DockerClient
) -> None:
    pytester.makepyfile(test_up="def test_up(toxiproxy_server):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--chaos-backend", "docker", "--chaos-proxy-image", "chaos-no-such-image:none"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*image 'chaos-no-such-image:none' (chaos_proxy_image=chaos-no-such-image:none) is "
            "not in the Docker engine*scripts/build-images.sh*command line --chaos-proxy-image*"
        ]
    )
    assert objects_of(docker_client, 0) == []


def test_an_external_proxy_url_cannot_serve_the_docker_backend(
    pytester: pytest.Pytester, docker_client: docker.DockerClient
) -> None:
    pytester.makepyfile(test_up="def test_up(toxiproxy_server):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--chaos-backend", "docker", "--toxiproxy-url", "http://127.0.0.1:8474"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cannot be combined with --chaos-backend docker*"])


SECOND = """
from chaos.pytest_plugin import factories

toxiproxy_server2 = factories.toxiproxy_server()
rabbitmq_proc2 = factories.rabbitmq_proc()
"""

TWO_OF_EACH = """
def test_two(toxiproxy_server, toxiproxy_server2, rabbitmq_proc, rabbitmq_proc2):
    assert (toxiproxy_server.peer_host, toxiproxy_server2.peer_host) == (
        "toxiproxy", "toxiproxy-server2")
    assert (rabbitmq_proc.network_address, rabbitmq_proc2.network_address) == (
        "rabbitmq:5672", "rabbitmq-proc2:5672")
    assert toxiproxy_server.url != toxiproxy_server2.url
    rabbitmq_proc2.kill()  # one broker's crash leaves the other running
    assert not rabbitmq_proc2.running
    assert rabbitmq_proc.running and rabbitmq_proc.list_queues() == []
"""


@pytest.mark.timeout(240)
def test_a_second_proxy_server_and_broker_get_their_own_containers(
    pytester: pytest.Pytester, docker_client: docker.DockerClient, images: None
) -> None:
    pytester.makeconftest(SECOND)
    pytester.makepyfile(test_two=TWO_OF_EACH)
    result = pytester.runpytest_subprocess("--chaos-backend", "docker")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*its containers and volumes: all removed*"])
