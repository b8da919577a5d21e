"""`service`: readiness by TCP port, HTTP URL and callable; clear failures; nothing left running;
`port=True`: a port of --chaos-port-range, put where argv and env say `{port}`, waited for."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import socket
import sys
from pathlib import Path

import httpx
import pytest

from chaos.runtime import CallableReady, HttpReady, ServiceNotReady, TcpReady, allocate_port

PIDS = Path({pids!r})
NAMES = ("tcp", "web", "callable", "deaf", "mute", "doomed")
# Each child records its pid and sleeps; where it listens depends on the test.
SLEEPER = '''
import os, socket, sys, time
from pathlib import Path
Path(sys.argv[1]).write_text(str(os.getpid()))
print("sleeper starting", flush=True)
time.sleep(0.3)  # readiness must wait for what follows, not pass at once
if len(sys.argv) > 2:
    sock = socket.socket()
    sock.bind(("127.0.0.1", int(sys.argv[2])))
    sock.listen()
Path(sys.argv[1] + ".up").write_text("up")
time.sleep(300)
'''


def gone(name):
    stat = Path(f"/proc/{{int((PIDS / name).read_text())}}/stat")
    # A zombie is dead for our purposes: its parent just has not reaped it yet.
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def sleeper(name, *port):
    return [sys.executable, "-c", SLEEPER, str(PIDS / name), *map(str, port)]


def test_ready_by_tcp_port(service):
    port = allocate_port()
    proc = service("tcp", sleeper("tcp", port), ready=TcpReady("127.0.0.1", port))
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert proc.running and proc.pid == int((PIDS / "tcp").read_text())


def test_ready_by_http_url(service, tmp_path):
    port = allocate_port()
    (tmp_path / "hello.txt").write_text("hello")
    url = f"http://127.0.0.1:{{port}}/hello.txt"
    proc = service(
        "web",
        [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1"],
        ready=HttpReady(url),
        cwd=tmp_path,
    )
    assert httpx.get(url, timeout=5, trust_env=False).text == "hello"
    (PIDS / "web").write_text(str(proc.pid))


def test_ready_by_callable(service):
    up = PIDS / "callable.up"
    service("callable", sleeper("callable"), ready=CallableReady(up.exists))
    assert up.read_text() == "up"  # start() returned only once the callable said so


def test_never_ready_raises_with_last_error_and_log(service):
    port = allocate_port()  # reserved, and nothing will listen on it
    with pytest.raises(ServiceNotReady) as info:
        service("deaf", sleeper("deaf"), ready=TcpReady("127.0.0.1", port), timeout=1.5)
    message = str(info.value)
    assert f"last readiness error: TCP connect to 127.0.0.1:{{port}} failed" in message
    assert f"log: {{info.value.log_path}}" in message and info.value.log_path.name == "deaf.log"
    assert "sleeper starting" in message  # the log's tail
    assert gone("deaf"), "a service that never became ready is still running"


def test_never_ready_as_the_user_sees_it(service):
    service("mute", sleeper("mute"), ready=CallableReady(lambda: False, description="probe"),
            timeout=1.0)


def test_fails_after_starting_a_service(service):
    service("doomed", sleeper("doomed"), ready=CallableReady((PIDS / "doomed.up").exists))
    assert False, "the test fails; its service must stop anyway"


def test_services_of_earlier_tests_are_stopped():
    assert [name for name in NAMES if not gone(name)] == []
"""


@pytest.mark.timeout(120)
def test_service_fixture(pytester: pytest.Pytester) -> None:
    pids = pytester.mkdir("pids")
    pytester.makepyfile(test_services=TESTS.format(pids=str(pids)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfE")
    result.stdout.fnmatch_lines(
        [
            "*service 'mute': not ready within 1s*",
            "*last readiness error: probe() returned a falsy value",
            # Under the session's pytest temp dir, so pytest prunes it with old runs.
            f"*log: {pytester.path}/*/chaos-services*/mute.log",
        ]
    )
    result.stdout.fnmatch_lines(["*AssertionError: the test fails; its service must stop anyway"])
    result.assert_outcomes(passed=5, failed=2)
    # Stopped after each test, and nothing outlives the session either.
    names = ["tcp", "web", "callable", "deaf", "mute", "doomed"]
    assert [name for name in names if alive(int((pids / name).read_text()))] == []


# Run with --chaos-port-range FREE-FREE: one port, so every allocation is FREE or fails.
PORT_TESTS = r"""
import socket
import sys
from pathlib import Path

import pytest

from chaos.runtime import CallableReady

PIDS = Path(PIDS_DIR)
FREE = FREE_PORT
# Records its pid, and after a pause binds argv[1], writes its SEEN_PORT variable to argv[2]
# and only then listens: a readiness check that passes at once, or before the write, fails.
LISTENER = '''
import os, socket, sys, time
from pathlib import Path
Path(sys.argv[2] + ".pid").write_text(str(os.getpid()))
time.sleep(0.3)
sock = socket.socket()
sock.bind(("127.0.0.1", int(sys.argv[1])))
Path(sys.argv[2]).write_text(os.environ.get("SEEN_PORT", ""))
sock.listen()
time.sleep(300)
'''


def listener(name):
    return [sys.executable, "-c", LISTENER, "{port}", str(PIDS / name)]


def test_port_substituted_in_argv_and_env_and_waited_for(service):
    proc = service("web", listener("web"), env={"SEEN_PORT": "port={port}"}, port=True)
    assert proc.port == FREE  # the one port of --chaos-port-range
    assert proc.argv[3] == str(FREE)
    assert (PIDS / "web").read_text() == f"port={FREE}"  # written before listen: TCP waited
    assert [type(check).__name__ for check in proc.readiness] == ["TcpReady"]
    socket.create_connection(("127.0.0.1", FREE), timeout=2).close()


def test_a_port_beyond_the_range_fails_with_the_setting(service):
    service("first", listener("first"), port=True)
    service("second", listener("second"), port=True)  # the range's one port is taken


def test_port_field_without_port_is_an_error(service):
    with pytest.raises(ValueError) as info:
        service("nope", [sys.executable, "-c", "pass", "--port={port}"], env={"P": "{port}"})
    assert str(info.value) == (
        "service 'nope': argv[3]='--port={port}', env['P']='{port}' asks for {port}, "
        "but no port was allocated; hint: pass port=True"
    )
    with pytest.raises(ValueError, match=r"port=True allocated port \d+, but neither argv"):
        service("deaf", [sys.executable, "-c", "pass"], port=True)


def test_the_port_is_released_after_its_test_and_ready_is_kept(service):
    seen = PIDS / "again"
    proc = service("again", listener("again"), port=True, ready=CallableReady(seen.exists))
    assert proc.port == FREE  # every earlier test's reservation was released
    assert [type(check).__name__ for check in proc.readiness] == ["CallableReady"]
"""


@pytest.mark.timeout(120)
def test_service_port(pytester: pytest.Pytester) -> None:
    pids = pytester.mkdir("pids")
    free = free_port()
    tests = PORT_TESTS.replace("PIDS_DIR", repr(str(pids))).replace("FREE_PORT", str(free))
    pytester.makepyfile(test_ports=tests)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rfE", "--chaos-port-range", f"{free}-{free}"
    )
    result.stdout.fnmatch_lines(
        [
            "*test_a_port_beyond_the_range_fails_with_the_setting*",
            f"*pytest-chaos could not set up 'service': every port in {free}-{free} on 127.0.0.1 "
            "is in use or reserved",
            f"chaos_port_range={free}-{free} (from command line --chaos-port-range); "
            "hint: widen --chaos-port-range*",
        ]
    )
    result.assert_outcomes(passed=3, failed=1)
    started = ["web", "first", "again"]
    assert [name for name in started if alive(int((pids / f"{name}.pid").read_text()))] == []
    assert not (pids / "second.pid").exists(), "a service started without a port"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
