"""Client side of the per-process watchdog that kills registered process groups on our death."""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["Watchdog", "watchdog"]

_MAIN = Path(__file__).with_name("_watchdog_main.py")


class Watchdog:
    """Spawns the watchdog lazily and keeps it told which process groups to kill."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner: int | None = None
        self._groups: set[int] = set()
        self._commands: list[list[str]] = []
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """Pid of the watchdog process, if one runs for this process."""
        with self._lock:
            return self._proc.pid if self._proc is not None and self._owner == os.getpid() else None

    def register(self, pgid: int) -> None:
        """Have ``pgid`` SIGKILLed if this process dies before ``unregister``."""
        with self._lock:
            self._forget_if_forked()
            self._groups.add(pgid)
            self._send(f"+{pgid}\n")

    def unregister(self, pgid: int) -> None:
        """Forget ``pgid`` (it was stopped cleanly)."""
        with self._lock:
            self._forget_if_forked()
            self._groups.discard(pgid)
            if self._proc is not None:
                self._send(f"-{pgid}\n")

    def on_death(self, argv: list[str]) -> None:
        """Have ``argv`` run if this process dies before ``forget_on_death(argv)``."""
        with self._lock:
            self._forget_if_forked()
            self._commands.append(list(argv))
            self._send(f"c{json.dumps(argv)}\n")

    def forget_on_death(self, argv: list[str]) -> None:
        with self._lock:
            self._forget_if_forked()
            self._commands = [c for c in self._commands if c != list(argv)]
            if self._proc is not None:
                self._send(f"u{json.dumps(argv)}\n")

    def rescan(self) -> None:
        """Ask the watchdog to look at the registered trees now (after a service is ready)."""
        with self._lock:
            self._forget_if_forked()
            if self._proc is None:
                return
            self._send("?\n")
            assert self._proc.stdout is not None
            ready, _, _ = select.select([self._proc.stdout], [], [], 10.0)
            if not ready or self._proc.stdout.readline() != b"!\n":
                raise RuntimeError(
                    f"process watchdog (pid {self._proc.pid}) did not answer a rescan in 10s"
                )

    def shutdown(self, timeout: float = 5.0) -> None:
        """Close the pipe: the watchdog kills what is still registered, and exits."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None or self._owner != os.getpid():
                return
            self._groups.clear()
            self._commands.clear()
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _send(self, line: str) -> None:
        for _attempt in range(2):
            proc = self._ensure()
            try:
                assert proc.stdin is not None
                proc.stdin.write(line.encode())
                proc.stdin.flush()
                return
            except (BrokenPipeError, ValueError):
                # The watchdog died (someone killed it): start a new one and tell it everything.
                self._proc = None
        raise RuntimeError(f"cannot reach the process watchdog (script {_MAIN}) to send {line!r}")

    def _forget_if_forked(self) -> None:
        if self._owner is not None and self._owner != os.getpid():
            # We are a fork of the owner: its watchdog and its groups are not ours.
            self._proc, self._owner, self._groups = None, None, set()
            self._commands = []

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(_MAIN), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C at the terminal must not kill it before the parent.
            start_new_session=True,
            close_fds=True,
        )
        self._owner = os.getpid()
        assert self._proc.stdin is not None
        backlog = [f"+{g}\n" for g in self._groups] + [
            f"c{json.dumps(c)}\n" for c in self._commands
        ]
        self._proc.stdin.write("".join(backlog).encode())
        self._proc.stdin.flush()
        return self._proc


watchdog = Watchdog()
atexit.register(watchdog.shutdown)
