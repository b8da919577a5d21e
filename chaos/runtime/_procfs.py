"""Linux /proc look-ups that ignore zombies (a zombie still answers kill(pid, 0)).

Stdlib only: the watchdog process imports this file by path.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import NamedTuple

__all__ = [
    "Proc",
    "any_alive",
    "group_members",
    "kill_tree",
    "pid_alive",
    "port_users",
    "process_state",
    "processes",
    "read",
    "signal_proc",
    "tree",
]


class Proc(NamedTuple):
    """One process: enough to find trees and to tell a recycled pid from the original."""

    pid: int
    ppid: int
    pgid: int
    state: str
    start_time: int  # clock ticks since boot: with the pid, identifies a process for good


def _parse(pid: int, data: bytes) -> Proc:
    # The command name may contain spaces and parentheses: the fields follow the last ')'.
    fields = data[data.rindex(b")") + 2 :].split()
    # fields[0]=state [1]=ppid [2]=pgrp ... [19]=starttime
    return Proc(pid, int(fields[1]), int(fields[2]), fields[0].decode(), int(fields[19]))


def read(pid: int) -> Proc | None:
    """The current entry for ``pid``, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return _parse(pid, f.read())
    except (FileNotFoundError, ProcessLookupError):
        return None


def processes() -> list[Proc]:
    """Every process visible in /proc, zombies included."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            proc = read(int(entry.name))
            if proc is not None:
                found.append(proc)
    return found


def process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (``R``, ``S``, ``T``, ``Z``...), or None if it is gone."""
    proc = read(pid)
    return proc.state if proc is not None else None


def pid_alive(pid: int, start_time: int | None = None) -> bool:
    """True if ``pid`` exists, is not a zombie, and (if given) started at ``start_time``."""
    proc = read(pid)
    if proc is None or proc.state in ("Z", "X"):
        return False
    return start_time is None or proc.start_time == start_time


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid``."""
    return [p.pid for p in processes() if p.pgid == pgid and p.state not in ("Z", "X")]


def tree(pgids: set[int] | frozenset[int]) -> list[Proc]:
    """Live members of ``pgids`` plus all their live descendants, even those in other groups.

    Daemons such as Erlang's ``erl_child_setup`` call ``setsid``: a group kill misses them.
    """
    procs = [p for p in processes() if p.state not in ("Z", "X")]
    children: dict[int, list[Proc]] = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p)
    found = {p.pid: p for p in procs if p.pgid in pgids}
    stack = list(found.values())
    while stack:
        for child in children.get(stack.pop().pid, []):
            if child.pid not in found:
                found[child.pid] = child
                stack.append(child)
    return list(found.values())


def signal_proc(proc: Proc, sig: int) -> None:
    """Send ``sig`` to ``proc`` unless it is gone or its pid now names another process."""
    current = read(proc.pid)
    if current is not None and current.start_time == proc.start_time:  # not a recycled pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)


def kill_tree(
    pgids: set[int] | frozenset[int], known: list[Proc] | tuple[Proc, ...] = ()
) -> list[Proc]:
    """SIGKILL the groups, their descendants and ``known``; return what was targeted.

    Everything is frozen (SIGSTOP) and looked up again before the kill, so a process that forks
    while we scan cannot hand a fresh child to init behind our back.
    """
    targets = {p.pid: p for p in (*known, *tree(pgids))}
    for proc in targets.values():
        signal_proc(proc, signal.SIGSTOP)
    for proc in tree(pgids):
        targets.setdefault(proc.pid, proc)
    for proc in targets.values():
        signal_proc(proc, signal.SIGKILL)
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    return list(targets.values())


def any_alive(procs: list[Proc]) -> list[Proc]:
    """The processes of ``procs`` still alive (same pid and start time, not a zombie)."""
    return [p for p in procs if pid_alive(p.pid, p.start_time)]


_TCP_STATES = {"01": "ESTABLISHED", "06": "TIME_WAIT", "0A": "LISTEN"}


def _address(hex_address: str) -> tuple[str, int]:
    ip, port = hex_address.split(":")
    if len(ip) != 8:
        return ip, int(port, 16)  # IPv6: shown as /proc has it
    return ".".join(str(b) for b in reversed(bytes.fromhex(ip))), int(port, 16)


def port_users(port: int) -> list[str]:
    """Who holds local TCP `port`: "pid 12 (python3) 127.0.0.1:5672 -> ... ESTABLISHED", one each.

    A socket in no process's fd table (TIME_WAIT, not yet accepted, another user's) shows with
    "pid ?".
    """
    sockets: dict[str, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                local, remote = _address(fields[1]), _address(fields[2])
                if local[1] == port:
                    state = _TCP_STATES.get(fields[3], f"state {fields[3]}")
                    sockets[fields[9]] = f"{local[0]}:{local[1]} -> {remote[0]}:{remote[1]} {state}"
    owners: dict[str, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fds = os.listdir(f"/proc/{entry.name}/fd")
            for fd in fds:
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{entry.name}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in sockets:
                        with open(f"/proc/{entry.name}/comm") as f:
                            comm = f.read().strip()
                        owners[link[8:-1]] = f"pid {entry.name} ({comm})"
    return [f"{owners.get(inode, 'pid ?')} {desc}" for inode, desc in sockets.items()]
