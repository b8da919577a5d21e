"""Linux /proc look-ups that ignore zombies (a zombie still answers kill(pid, 0))."""

from __future__ import annotations

import os

__all__ = ["group_members", "pid_alive", "process_state"]


def process_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (``R``, ``S``, ``T``, ``Z``...), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may contain spaces and parentheses: the state follows the last ')'.
    return data[data.rindex(b")") + 2 : data.rindex(b")") + 3].decode()


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    state = process_state(pid)
    return state is not None and state not in ("Z", "X")


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid``."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(b")") + 2 :].split()
        # fields: state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            members.append(int(entry.name))
    return members
