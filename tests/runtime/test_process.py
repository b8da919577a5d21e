from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from chaos.runtime import _procfs
from chaos.runtime._watchdog import watchdog
from chaos.runtime.errors import ServiceExited, ServiceNotReady
from chaos.runtime.process import ManagedProcess
from chaos.runtime.readiness import CallableReady, TcpReady
from tests.runtime._helpers import all_gone, wait_until

pytestmark = pytest.mark.timeout(90)

# A service that spawns two grandchildren: one in its group, one that left it (setsid), like
# Erlang's erl_child_setup. It writes their pids, then idles.
TREE = textwrap.dedent(
    """
    import os, subprocess, sys, time
    same = subprocess.Popen(["sleep", "300"])
    escaped = subprocess.Popen(["sleep", "300"], start_new_session=True)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{same.pid} {escaped.pid}")
    os.rename(tmp, sys.argv[1])
    time.sleep(300)
    """
)


def tree_service(tmp_path: Path, **kwargs: object) -> tuple[ManagedProcess, Path]:
    pids = tmp_path / "grandchildren"
    proc = ManagedProcess(
        "tree",
        [sys.executable, "-c", TREE, str(pids)],
        log_path=tmp_path / "tree.log",
        readiness=CallableReady(pids.exists, description="pid file"),
        **kwargs,  # type: ignore[arg-type]
    )
    return proc, pids


def grandchildren(pids: Path) -> list[int]:
    return [int(p) for p in pids.read_text().split()]


def test_start_waits_ready_and_stop_removes_the_whole_tree(tmp_path: Path) -> None:
    proc, pids = tree_service(tmp_path)
    proc.start(timeout=30)
    try:
        assert proc.running
        assert proc.ready_seconds is not None
        assert os.getpgid(proc.pid) == proc.pid  # its own group, not ours
        assert proc.pid != os.getpgid(0)
        victims = [proc.pid, *grandchildren(pids)]
        assert all(_procfs.pid_alive(p) for p in victims)
    finally:
        code = proc.stop(timeout=10)
    assert code == -signal.SIGTERM
    assert all_gone(victims, timeout=1)  # stop() returns only once everything is gone
    assert not proc.running
    assert proc.pgid is None


def test_exception_inside_with_block_stops_the_tree(tmp_path: Path) -> None:
    proc, pids = tree_service(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), proc:
        victims = [proc.pid, *grandchildren(pids)]
        raise RuntimeError("boom")
    assert all_gone(victims, timeout=1)


def test_exit_before_ready_raises_service_exited_with_evidence(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "crasher",
        ["sh", "-c", "echo first line; echo 'fatal: no config' >&2; exit 3"],
        log_path=tmp_path / "crasher.log",
        readiness=TcpReady("127.0.0.1", 1),
    )
    with pytest.raises(ServiceExited) as info:
        proc.start(timeout=20)
    err = info.value
    assert err.exit_code == 3
    assert "fatal: no config" in err.log_tail
    text = str(err)
    assert "'crasher'" in text and "exit code: 3" in text and str(tmp_path / "crasher.log") in text
    assert proc.pgid is None


def test_not_ready_in_time_raises_and_leaves_nothing_running(tmp_path: Path) -> None:
    proc = ManagedProcess(
        "sleeper",
        ["sh", "-c", "echo waiting forever; exec sleep 300"],
        log_path=tmp_path / "sleeper.log",
        readiness=CallableReady(lambda: False, description="never"),
    )
    with pytest.raises(ServiceNotReady) as info:
        proc.start(timeout=0.5)
    assert "not ready within 0.5s" in str(info.value)
    assert info.value.last_error == "never() returned a falsy value"
    assert "last readiness error: never() returned a falsy value" in str(info.value)
    assert "waiting forever" in info.value.log_tail
    assert not _procfs.pid_alive(proc.pid)  # type: ignore[arg-type]


def test_ctrl_c_while_booting_stops_the_service(tmp_path: Path) -> None:
    def interrupted() -> bool:
        raise KeyboardInterrupt

    proc = ManagedProcess(
        "booting",
        ["sleep", "300"],
        log_path=tmp_path / "booting.log",
        readiness=CallableReady(interrupted),
    )
    with pytest.raises(KeyboardInterrupt), proc:
        pytest.fail("the with-block must not run")
    assert proc.pgid is None
    assert not _procfs.pid_alive(proc.pid)  # type: ignore[arg-type]


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path: Path) -> None:
    ready = tmp_path / "trapped"
    proc = ManagedProcess(
        "stubborn",
        ["sh", "-c", f"trap '' TERM; touch {ready}; while true; do sleep 0.1; done"],
        log_path=tmp_path / "stubborn.log",
        readiness=CallableReady(ready.exists),
    )
    proc.start(timeout=20)
    assert proc.stop(timeout=0.5) == -signal.SIGKILL


def test_kill_is_an_immediate_sigkill(tmp_path: Path) -> None:
    proc, pids = tree_service(tmp_path)
    proc.start(timeout=30)
    victims = [proc.pid, *grandchildren(pids)]
    assert proc.kill() == -signal.SIGKILL
    assert all_gone(victims, timeout=1)
    proc.stop()  # idempotent after a crash
    proc.kill()


def test_pause_freezes_and_resume_thaws_the_group(tmp_path: Path) -> None:
    proc, pids = tree_service(tmp_path)
    with proc:
        same, _ = grandchildren(pids)
        proc.pause()
        assert proc.is_paused
        assert wait_until(lambda: _procfs.process_state(proc.pid) == "T", 5)
        assert wait_until(lambda: _procfs.process_state(same) == "T", 5)
        proc.resume()
        assert not proc.is_paused
        assert wait_until(lambda: _procfs.process_state(proc.pid) not in ("T", None), 5)


def test_stop_works_on_a_paused_process(tmp_path: Path) -> None:
    proc, _ = tree_service(tmp_path)
    proc.start(timeout=30)
    proc.pause()
    assert proc.stop(timeout=10) == -signal.SIGTERM


def test_restart_gives_a_new_process_and_start_is_idempotent(tmp_path: Path) -> None:
    proc, pids = tree_service(tmp_path)
    with proc:
        first = proc.pid
        assert proc.start() is proc and proc.pid == first
        pids.unlink()
        proc.restart(timeout=30)
        assert proc.pid != first and proc.running
        assert not _procfs.pid_alive(first)
    assert proc.log_path.read_text().count("==== chaos: starting tree") == 2


def test_stop_before_start_and_twice_is_harmless(tmp_path: Path) -> None:
    proc = ManagedProcess("idle", ["sleep", "300"], log_path=tmp_path / "idle.log")
    assert proc.stop() is None
    proc.start()
    proc.stop()
    assert proc.stop() == -signal.SIGTERM


def test_pause_requires_a_running_process(tmp_path: Path) -> None:
    proc = ManagedProcess("idle", ["sleep", "300"], log_path=tmp_path / "idle.log")
    with pytest.raises(RuntimeError, match="cannot pause service 'idle': not running"):
        proc.pause()


def test_a_service_started_from_a_worker_thread_survives_the_thread(tmp_path: Path) -> None:
    # PR_SET_PDEATHSIG fires when the forking *thread* exits; it must not be set here.
    proc = ManagedProcess("threaded", ["sleep", "300"], log_path=tmp_path / "t.log")
    thread = threading.Thread(target=proc.start)
    thread.start()
    thread.join(30)
    try:
        assert proc.running
        assert not wait_until(lambda: not proc.running, 0.5)
    finally:
        proc.stop()


def test_watchdog_is_restarted_if_it_dies(tmp_path: Path) -> None:
    with ManagedProcess("idle", ["sleep", "300"], log_path=tmp_path / "i.log"):
        old = watchdog.pid
        assert old is not None
        os.kill(old, signal.SIGKILL)
        assert all_gone([old])
        with ManagedProcess("idle2", ["sleep", "300"], log_path=tmp_path / "i2.log"):
            assert watchdog.pid not in (None, old)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "", "argv": ["true"]}, "name=''"),
        ({"name": "x", "argv": []}, r"argv=\[\]"),
        ({"name": "x", "argv": "sleep 1"}, "not a str"),
        ({"name": "x", "argv": ["no-such-binary-xyz"]}, "'no-such-binary-xyz' not found"),
        ({"name": "x", "argv": ["true"], "start_timeout": 0}, "start_timeout=0"),
        ({"name": "x", "argv": ["true"], "cwd": "/no/such/dir"}, "/no/such/dir"),
        ({"name": "x", "argv": ["true"], "readiness": [object()]}, "no check"),
    ],
)
def test_bad_constructor_arguments_fail_early(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises((ValueError, TypeError, FileNotFoundError), match=fragment):
        ManagedProcess(**kwargs)  # type: ignore[arg-type]


# -- the parent dies: nothing it started may survive -------------------------------------------

PARENT = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from chaos.runtime import CallableReady, ManagedProcess
    from chaos.runtime._watchdog import watchdog
    out = Path(sys.argv[1])
    pids = out / "grandchildren"
    proc = ManagedProcess(
        "tree", [sys.executable, "-c", sys.argv[2], str(pids)], log_path=out / "tree.log",
        readiness=CallableReady(pids.exists),
    )
    with proc:
        info = {"child": proc.pid, "watchdog": watchdog.pid}
        (out / "info.tmp").write_text(json.dumps(info))
        os.rename(out / "info.tmp", out / "info.json")
        time.sleep(300)
    """
)


def _run_parent(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[int]]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path), TREE],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "parent.err", "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )
    info_path = tmp_path / "info.json"
    if not wait_until(lambda: info_path.exists() or parent.poll() is not None, 60):
        parent.kill()
        parent.wait()
        pytest.fail("parent did not start its service within 60s")
    if parent.poll() is not None:
        pytest.fail(f"parent exited early: {(tmp_path / 'parent.err').read_text()}")
    info = json.loads(info_path.read_text())
    pids = [info["child"], *grandchildren(tmp_path / "grandchildren"), info["watchdog"]]
    assert all(_procfs.pid_alive(p) for p in pids)
    return parent, pids


def test_sigkill_of_the_parent_leaves_no_child_grandchild_or_watchdog(tmp_path: Path) -> None:
    parent, pids = _run_parent(tmp_path)
    os.kill(parent.pid, signal.SIGKILL)
    assert parent.wait(30) == -signal.SIGKILL
    assert all_gone(pids), [p for p in pids if _procfs.pid_alive(p)]


def test_sigint_to_the_parent_leaves_no_child_grandchild_or_watchdog(tmp_path: Path) -> None:
    parent, pids = _run_parent(tmp_path)
    os.kill(parent.pid, signal.SIGINT)
    assert parent.wait(30) != 0  # KeyboardInterrupt, after the with-block cleaned up
    assert "KeyboardInterrupt" in (tmp_path / "parent.err").read_text()
    assert all_gone(pids), [p for p in pids if _procfs.pid_alive(p)]


def test_crashed_block_kills_restarts_and_lands_on_the_active_timeline(tmp_path: Path) -> None:
    from chaos._timeline import Timeline, active

    proc, _ = tree_service(tmp_path)
    timeline = Timeline()
    with proc, active(timeline):
        first = proc.pid
        with proc.crashed(timeout=30):
            assert not proc.running and proc.returncode == -signal.SIGKILL
        assert proc.running and proc.pid != first
        with proc.paused():
            assert wait_until(lambda: _procfs.process_state(proc.pid) == "T", 5)
        assert not proc.is_paused
    kinds = [(e["kind"], e["target"], e["attributes"]) for e in timeline.to_list()]
    assert kinds == [("crash", "tree", {"signal": "KILL"}), ("freeze", "tree", {"signal": "STOP"})]
    assert all(e.applied_at and e.removed_at for e in timeline.events)


def test_children_crashed_kills_only_the_children(tmp_path: Path) -> None:
    from chaos._timeline import Timeline, active

    proc, pids = tree_service(tmp_path)
    timeline = Timeline()
    with proc, active(timeline):
        children = set(grandchildren(pids))
        assert children <= set(proc.children())
        with proc.children_crashed() as killed:
            assert children <= set(killed)
            assert all_gone(list(children), timeout=2)
            assert proc.running  # the supervisor itself lives on
    [event] = timeline.events
    assert (event.kind, event.target) == ("crash", "tree children")
    assert event.attributes == {"signal": "KILL", "children": True}
