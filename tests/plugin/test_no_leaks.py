"""No process outlives the pytest session: normal end, failing test, Ctrl-C, SIGKILL of pytest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TEST = """
import os, sys, time
from pathlib import Path
from chaos.runtime import CallableReady

PIDS = Path({pids!r})

def test_start_processes(service, toxiproxy_server):
    marker = PIDS / "child.pid"
    code = "import os,sys,time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(300)"
    service("sleeper", [sys.executable, "-c", code, str(marker)],
            ready=CallableReady(lambda: marker.exists() and marker.read_text()))
    (PIDS / "proxy.pid").write_text(str(toxiproxy_server.process.pid))
    (PIDS / "ready").write_text("1")
    {ending}
"""

ENDINGS = {
    "pass": "pass",
    "fail": "assert False, 'the test fails'",
    "hang": "time.sleep(300)",
}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes; its parent just has not reaped it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def started_pids(pids_dir: Path) -> list[int]:
    return [int((pids_dir / name).read_text()) for name in ("child.pid", "proxy.pid")]


def launch(pytester: pytest.Pytester, ending: str) -> tuple[subprocess.Popen[bytes], Path]:
    pids = pytester.mkdir("pids")
    pytester.makepyfile(test_leak=TEST.format(pids=str(pids), ending=ENDINGS[ending]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_leak.py"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, pids


def wait_ready(proc: subprocess.Popen[bytes], pids: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not (pids / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.communicate()[0].decode()
            pytest.fail(f"inner pytest never got its processes up:\n{out}")
        time.sleep(0.05)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("ending", ["pass", "fail"])
def test_processes_stop_when_the_session_ends(pytester: pytest.Pytester, ending: str) -> None:
    proc, pids = launch(pytester, ending)
    out = proc.communicate(timeout=90)[0].decode()
    assert proc.returncode == (0 if ending == "pass" else 1), out
    assert wait_gone(started_pids(pids)) == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "sigkill"])
def test_processes_stop_when_pytest_is_interrupted_or_killed(
    pytester: pytest.Pytester, sig: signal.Signals
) -> None:
    proc, pids = launch(pytester, "hang")
    try:
        wait_ready(proc, pids)
        started = started_pids(pids)
        assert all(alive(pid) for pid in started)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert wait_gone(started) == []
