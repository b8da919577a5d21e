"""Container: start and wait ready, stop and start again, kill, pause, and network partition."""

from __future__ import annotations

import httpx
import pytest

import docker
from chaos.runtime import HttpReady, ServiceExited, ServiceNotReady, allocate_port
from chaos.runtime.docker import Container, DockerSession

SERVE = ["python", "-m", "http.server", "8000", "--bind", "0.0.0.0"]


def web(session: DockerSession, image: str, role: str = "web") -> Container:
    port = allocate_port()
    return Container(
        session,
        role,
        image,
        command=SERVE,
        aliases=[role],
        ports={8000: port},
        readiness=HttpReady(f"http://127.0.0.1:{port}/"),
        start_timeout=30,
        stop_timeout=2,
    )


def get(container: Container) -> int:
    port = container.ports[8000]
    return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code


def peer_reaches(peer: Container, host: str) -> bool:
    code = (
        "import sys, urllib.request\n"
        f"try: urllib.request.urlopen('http://{host}:8000/', timeout=2)\n"
        "except Exception: sys.exit(1)\n"
    )
    exit_code, _ = peer.sdk.exec_run(["python", "-c", code])
    return exit_code == 0


def test_start_waits_until_ready_and_stop_keeps_the_container(
    session: DockerSession, sample_image: str
) -> None:
    c = web(session, sample_image)
    c.start()
    assert c.running and get(c) == 200
    first_id = c.sdk.id
    c.stop()
    assert not c.running and c.status() == "exited"
    c.start()
    assert c.sdk.id == first_id  # the same container: its layer and volumes are kept
    assert get(c) == 200


def test_kill_pause_and_resume(session: DockerSession, sample_image: str) -> None:
    c = web(session, sample_image).start()
    c.pause()
    assert c.is_paused and c.running
    with pytest.raises(httpx.TimeoutException):
        get(c)  # frozen: the port forwarder accepts, nobody answers
    c.resume()
    assert get(c) == 200
    c.resume()  # not paused: a no-op, as SIGCONT is
    c.kill()
    assert c.status() == "exited"
    assert c.sdk.attrs["State"]["ExitCode"] == 137  # SIGKILL


def test_isolate_cuts_the_container_off_its_peers_and_rejoin_heals(
    session: DockerSession, sample_image: str
) -> None:
    target = web(session, sample_image, "target").start()
    peer = web(session, sample_image, "peer").start()
    assert peer_reaches(peer, "target")
    target.isolate()
    assert not peer_reaches(peer, "target")
    target.rejoin()
    assert peer_reaches(peer, "target")  # by its alias again


def test_a_container_that_exits_reports_its_exit_code_and_log(
    session: DockerSession, sample_image: str
) -> None:
    c = Container(
        session,
        "crasher",
        sample_image,
        command=["python", "-c", "import sys; print('bad config'); sys.exit(3)"],
        readiness=HttpReady("http://127.0.0.1:9/"),
        start_timeout=30,
    )
    with pytest.raises(ServiceExited) as info:
        c.start()
    assert info.value.exit_code == 3
    assert "bad config" in info.value.log_tail


def test_a_container_never_ready_times_out_with_the_last_error(
    session: DockerSession, sample_image: str
) -> None:
    c = Container(
        session,
        "sleeper",
        sample_image,
        command=["sleep", "60"],
        readiness=HttpReady(f"http://127.0.0.1:{allocate_port()}/"),
        start_timeout=1,
        stop_timeout=1,
    )
    with pytest.raises(ServiceNotReady, match="not ready after 1 s") as info:
        c.start()
    assert info.value.last_error


def test_bad_timeouts_fail_in_the_constructor(
    docker_client: docker.DockerClient, session: DockerSession
) -> None:
    with pytest.raises(ValueError, match="start_timeout=0"):
        Container(session, "x", "img", start_timeout=0)
