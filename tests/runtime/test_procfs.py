from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from chaos.runtime import _procfs
from tests.runtime._helpers import all_gone

pytestmark = pytest.mark.timeout(60)

# A group leader with a child that leaves the group, like Erlang's erl_child_setup.
LEADER = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    print(child.pid, flush=True)
    time.sleep(300)
    """
)


def test_tree_follows_children_out_of_the_group_and_kill_tree_takes_them() -> None:
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER], stdout=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        assert leader.stdout is not None
        escaped = int(leader.stdout.readline())
        assert os.getpgid(escaped) != leader.pid
        assert _procfs.group_members(leader.pid) == [leader.pid]
        assert {p.pid for p in _procfs.tree({leader.pid})} == {leader.pid, escaped}
        targets = _procfs.kill_tree({leader.pid})
        assert {p.pid for p in targets} == {leader.pid, escaped}
        leader.wait(10)
        assert all_gone([escaped], timeout=10)
    finally:
        leader.kill()
        leader.wait()


def test_a_recycled_pid_is_not_the_same_process() -> None:
    me = _procfs.read(os.getpid())
    assert me is not None and me.state in "RS"
    assert _procfs.pid_alive(me.pid, me.start_time)
    assert not _procfs.pid_alive(me.pid, me.start_time + 1)


def test_zombies_count_as_gone() -> None:
    child = subprocess.Popen(["true"])
    assert all_gone([child.pid], timeout=10)  # exited but not yet reaped: a zombie
    assert _procfs.process_state(child.pid) == "Z"
    child.wait()
    assert _procfs.process_state(child.pid) is None
