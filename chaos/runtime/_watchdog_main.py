"""The session watchdog process: SIGKILLs registered process groups once its parent is gone.

Run by path (``python -I -S _watchdog_main.py PARENT_PID``) so it imports only the stdlib (and
the stdlib-only ``_procfs`` next to it) and starts fast. Protocol on stdin, one line each:
``+PGID`` registers, ``-PGID`` unregisters, ``?`` rescans the trees now and answers ``!``,
``cJSON`` registers a command (a JSON list) to run once the parent is gone, ``uJSON`` forgets it.
The parent is gone when stdin reaches EOF (the kernel closes the pipe even on SIGKILL) or when
``getppid()`` changes (a forked child of the parent may still hold the pipe open).
Descendants that left the groups (``setsid``) are killed too: the trees are rescanned every
0.25s (less often where a scan is slow) and on request, so a helper is covered once a scan
has seen it.
"""

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _procfs  # type: ignore[import-not-found]  # run as a script: its own dir is on the path


def main() -> None:
    """Watch the parent, then reap."""
    parent = int(sys.argv[1])
    # Ctrl-C and hang-ups are for the parent; this process must outlive them to clean up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    terminated = []
    signal.signal(signal.SIGTERM, lambda *_: terminated.append(True))
    groups: set[int] = set()
    commands: list[list[str]] = []
    # Every process ever seen in the registered trees. A service killed by PDEATHSIG orphans
    # its setsid helpers before we look, so they can only be found from an earlier scan.
    known: dict[int, _procfs.Proc] = {}
    fd = sys.stdin.fileno()
    buf = b""
    interval = 0.25

    def handle(lines: list[bytes]) -> None:
        nonlocal known, commands
        for line in lines:
            if line[:1] == b"+":
                groups.add(int(line[1:]))
            elif line[:1] == b"-":
                groups.discard(int(line[1:]))
                known = {p.pid: p for p in _procfs.tree(groups)} if groups else {}
            elif line[:1] == b"c":
                commands.append(json.loads(line[1:]))
            elif line[:1] == b"u":
                command = json.loads(line[1:])
                commands = [c for c in commands if c != command]
            elif line[:1] == b"?":
                known.update((p.pid, p) for p in _procfs.tree(groups))
                with contextlib.suppress(OSError):  # the parent may be gone already
                    os.write(1, b"!\n")  # the client blocks until the scan is done

    while not terminated and os.getppid() == parent:
        if groups:
            began = time.monotonic()
            known.update((p.pid, p) for p in _procfs.tree(groups))
            # Stay under ~2% of a core on hosts with many processes.
            interval = max(0.25, 50 * (time.monotonic() - began))
        try:
            readable, _, _ = select.select([fd], [], [], interval)
        except InterruptedError:
            continue
        if not readable:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        *lines, buf = (buf + chunk).split(b"\n")
        handle(lines)
    # Left on a parent-pid change: what the parent wrote just before it died is still in the
    # pipe (a group or a cleanup command registered moments before a SIGKILL). Read it all.
    with contextlib.suppress(OSError):
        while select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            *lines, buf = (buf + chunk).split(b"\n")
            handle(lines)
    if groups:
        targets = _procfs.kill_tree(groups, list(known.values()))
        deadline = time.monotonic() + 10.0
        while _procfs.any_alive(targets) and time.monotonic() < deadline:
            time.sleep(0.02)
    for command in commands:
        # Bounded: a hung cleanup must not keep the watchdog forever.
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(command, stdin=subprocess.DEVNULL, timeout=120, check=False)


if __name__ == "__main__":
    main()
