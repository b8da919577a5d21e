"""Supervised processes: start, wait ready, stop, crash, freeze, and never leak one.

Each service runs in its own session/process group (``start_new_session=True``), so one signal
reaches the service and every helper it spawned, and a Ctrl-C at the terminal reaches only pytest
(whose teardown then stops the service). Helpers that leave the group (``setsid``, as Erlang's
``erl_child_setup`` does) are still found through their parent and killed with it. Output goes
to a log file, appended across restarts (without ``log_path``, a per-process temp file that is
deleted at interpreter exit: pass ``log_path`` to keep it).

No process may outlive the test session, however it ends. Three layers:

1. Normal end, failing test, Ctrl-C: ``stop()`` from a fixture or ``with`` block; an ``atexit``
   hook closes the watchdog pipe as the last resort at interpreter exit.
2. The direct child gets ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in ``preexec_fn``, so the kernel
   kills it when its parent dies, even by SIGKILL. Traps: it fires when the parent *thread* that
   forked exits, so it is set only when starting from the main thread; it is cleared by setuid
   execs; it covers only the direct child, not grandchildren (the Erlang VM's helpers).
3. For grandchildren: one watchdog process per Python process (``_watchdog_main.py``, started
   lazily, its own session). It holds the read end of a pipe whose write end only we hold, and
   the pgids of running services. When we die for any reason, the kernel closes the pipe; on EOF
   (or when its parent pid changes) the watchdog freezes, then SIGKILLs every registered group
   and every descendant of its members. PDEATHSIG may kill the direct child first and orphan its
   setsid helpers, so the watchdog remembers every process it has seen in the trees (rescanned
   every 0.25s and right after each service is ready); a helper younger than the last scan may
   escape. A clean ``stop``
   unregisters the group first, so a recycled pgid is never hit.

Not covered: a process that leaves the group *and* loses its parent before we look (a
double-forking daemon such as ``epmd -daemon``). Run such tools in the foreground (the RabbitMQ
node runs its own ``epmd`` that way).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from chaos._timeline import fault
from chaos.runtime import _procfs
from chaos.runtime._blocks import FaultBlocks
from chaos.runtime._watchdog import watchdog
from chaos.runtime.errors import ServiceExited, ServiceNotReady
from chaos.runtime.readiness import Readiness, readiness_checks

__all__ = ["ManagedProcess", "ProcessInfo", "read_log_tail"]

ProcessInfo = _procfs.Proc

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _pdeathsig_preexec(parent_pid: int) -> Callable[[], None]:
    prctl = _libc.prctl  # resolved before fork: the child only makes the call

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(125)  # the parent died before prctl took effect: nobody would kill us

    return preexec


_log_counter = itertools.count(1)
_scratch: Path | None = None


def _scratch_dir() -> Path:
    """A per-process temp dir for logs nobody asked to keep; removed at interpreter exit."""
    global _scratch
    if _scratch is None or not _scratch.is_dir():
        _scratch = Path(tempfile.mkdtemp(prefix=f"chaos-logs-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    return _scratch


def read_log_tail(path: Path, lines: int = 20, max_bytes: int = 64 * 1024) -> str:
    """The last ``lines`` lines of ``path`` (empty if it does not exist)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


class ManagedProcess(FaultBlocks):
    """A command run as a supervised service in its own process group, logging to a file.

    `port` is the TCP port the service listens on, when whoever started it allocated one (the
    `service` fixture's `port=True`); None otherwise. Only a record: nothing here binds it.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        cwd: str | os.PathLike[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        readiness: Readiness | Sequence[Readiness] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.05,
        port: int | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"name={name!r} must be a non-empty string")
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError(f"argv={argv!r} must be a non-empty sequence of strings, not a str")
        for label, value in (
            ("start_timeout", start_timeout),
            ("stop_timeout", stop_timeout),
            ("poll_interval", poll_interval),
        ):
            if value <= 0:
                raise ValueError(f"{label}={value!r} must be > 0 seconds")
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port={port!r} is not a TCP port (1-65535)")
        self.name = name
        self.port = port
        self.env = {**os.environ, **(env or {})} if inherit_env else dict(env or {})
        self.cwd = Path(cwd) if cwd is not None else None
        if self.cwd is not None and not self.cwd.is_dir():
            raise ValueError(f"cwd={str(self.cwd)!r} is not a directory")
        executable = shutil.which(argv[0], path=self.env.get("PATH", os.defpath))
        if executable is None:
            raise FileNotFoundError(
                f"service {name!r}: executable {argv[0]!r} not found "
                f"(PATH={self.env.get('PATH')!r}); hint: give an absolute path"
            )
        self.argv = list(argv)
        self.readiness = readiness_checks(readiness)
        if log_path is None:
            log_path = _scratch_dir() / f"{name}-{next(_log_counter)}.log"
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.ready_seconds: float | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._pgid: int | None = None
        self._paused = False
        self._lock = threading.RLock()

    # -- state ---------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """Pid of the current (or last) direct child, None if never started."""
        return self._popen.pid if self._popen is not None else None

    @property
    def pgid(self) -> int | None:
        """Process group still owned (may outlive the direct child), None once cleaned up."""
        return self._pgid

    @property
    def running(self) -> bool:
        """True while the direct child has not exited (a paused process counts as running)."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def is_paused(self) -> bool:
        """True between ``pause()`` and ``resume()``."""
        return self._paused and self.running

    @property
    def returncode(self) -> int | None:
        """Exit status of the last run (negative: killed by that signal), None while running."""
        return self._popen.poll() if self._popen is not None else None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the log file."""
        return read_log_tail(self.log_path, lines)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float | None = None) -> Self:
        """Start and wait until every readiness check passes; no-op if already running."""
        timeout = self.start_timeout if timeout is None else timeout
        with self._lock:
            if self.running:
                return self
            self._cleanup_group()  # helpers left over from a run that died on its own
            began = time.monotonic()
            self._spawn()
            try:
                self._wait_ready(began, timeout)
                watchdog.rescan()  # let it see the helpers the service spawned while booting
            except BaseException:
                # Ctrl-C while booting: __exit__ never runs for a failed __enter__.
                self._cleanup_group()
                raise
            self.ready_seconds = time.monotonic() - began
            return self

    def stop(self, timeout: float | None = None) -> int | None:
        """SIGTERM the group, SIGKILL what is left after ``timeout``; return the exit code."""
        timeout = self.stop_timeout if timeout is None else timeout
        with self._lock:
            if self._pgid is None:
                return self.returncode
            # Remember the whole tree now: helpers that left the group (setsid) are found through
            # their parent, a link lost once the parent exits.
            known = _procfs.tree({self._pgid})
            self._signal_group(signal.SIGTERM)
            self._signal_group(signal.SIGCONT)  # a stopped process handles SIGTERM only when woken
            deadline = time.monotonic() + timeout
            self._wait_child(deadline)
            self._wait_gone([p for p in known if p.pgid == self._pgid], deadline)
            # Helpers outside the group got no SIGTERM; most exit with their parent. Only now,
            # with the service gone, is it safe to ask the rest (a VM dies if a helper does).
            escaped = _procfs.any_alive([p for p in known if p.pgid != self._pgid])
            for proc in escaped:
                _procfs.signal_proc(proc, signal.SIGTERM)
            self._wait_gone(escaped, min(deadline, time.monotonic() + 2.0))
            self._cleanup_group(known)
            return self.returncode

    def kill(self) -> int | None:
        """SIGKILL the whole group at once (a crash); return the exit code."""
        with self._lock:
            self._cleanup_group()
            return self.returncode

    def pause(self) -> None:
        """SIGSTOP the group: the service freezes with its sockets open."""
        with self._lock:
            self._require_running("pause")
            self._signal_group(signal.SIGSTOP)
            self._paused = True

    def resume(self) -> None:
        """SIGCONT the group."""
        with self._lock:
            self._require_running("resume")
            self._signal_group(signal.SIGCONT)
            self._paused = False

    def restart(self, timeout: float | None = None) -> Self:
        """Stop gracefully, then start and wait ready."""
        with self._lock:
            self.stop()
            return self.start(timeout)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the direct child to exit on its own; return its exit code."""
        if self._popen is None:
            raise RuntimeError(f"service {self.name!r} was never started: nothing to wait for")
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise TimeoutError(
                f"service {self.name!r} (pid {self.pid}) still running after {timeout}s"
            ) from exc

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited({self.returncode})"
        return f"ManagedProcess({self.name!r}, pid={self.pid}, {state})"

    # -- internals -----------------------------------------------------------------------------

    def _spawn(self) -> None:
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        on_main = threading.current_thread() is threading.main_thread()
        with open(self.log_path, "ab") as log:
            log.write(f"==== chaos: starting {self.name} at {stamp}: {self.argv}\n".encode())
            log.flush()
            try:
                self._popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    start_new_session=True,
                    close_fds=True,
                    preexec_fn=_pdeathsig_preexec(os.getpid()) if on_main else None,
                )
            except OSError as exc:
                raise ServiceExited(
                    f"could not execute {self.argv!r}: {exc}",
                    name=self.name,
                    log_path=self.log_path,
                ) from exc
        self._pgid = self._popen.pid
        self._paused = False
        watchdog.register(self._pgid)

    def _wait_ready(self, began: float, timeout: float) -> None:
        assert self._popen is not None
        deadline = began + timeout
        last_error: str | None = None
        while True:
            code = self._popen.poll()
            if code is not None:
                self._cleanup_group()
                raise ServiceExited(
                    f"exited before it was ready (after {time.monotonic() - began:.2f}s)",
                    name=self.name,
                    exit_code=code,
                    last_error=last_error,
                    log_path=self.log_path,
                    log_tail=self.log_tail(),
                )
            try:
                for check in self.readiness:
                    check.check()
            except Exception as exc:
                last_error = str(exc) or repr(exc)
            else:
                return
            if time.monotonic() >= deadline:
                self._cleanup_group()
                raise ServiceNotReady(
                    f"not ready within {timeout:g}s (checks: {self.readiness!r}); "
                    "hint: raise the timeout or read the log",
                    name=self.name,
                    exit_code=self.returncode,
                    last_error=last_error,
                    log_path=self.log_path,
                    log_tail=self.log_tail(),
                )
            time.sleep(self.poll_interval)

    def _require_running(self, action: str) -> None:
        if not self.running:
            raise RuntimeError(
                f"cannot {action} service {self.name!r}: not running "
                f"(exit code {self.returncode}); hint: start() it first"
            )

    def _signal_group(self, sig: signal.Signals) -> None:
        if self._pgid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._pgid, sig)

    def _wait_child(self, deadline: float) -> None:
        if self._popen is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(max(0.0, deadline - time.monotonic()))

    def _wait_gone(self, procs: list[_procfs.Proc], deadline: float) -> bool:
        assert self._pgid is not None
        while _procfs.any_alive(procs) or _procfs.group_members(self._pgid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def _cleanup_group(self, known: list[_procfs.Proc] | None = None) -> None:
        """SIGKILL whatever is left of the group and its descendants, reap, forget the group."""
        if self._pgid is None:
            return
        targets = _procfs.kill_tree({self._pgid}, known or ())
        if self._popen is not None:
            self._popen.wait()
        if not self._wait_gone(targets, time.monotonic() + 10.0):
            alive = [p.pid for p in _procfs.any_alive(targets)]
            raise RuntimeError(
                f"service {self.name!r}: processes {alive} of group {self._pgid} survived "
                "SIGKILL for 10s; hint: are they in uninterruptible sleep (state D)?"
            )
        watchdog.unregister(self._pgid)
        self._pgid = None
        self._paused = False

    def tree(self) -> list[ProcessInfo]:
        """Live processes of this service: its group plus descendants that left the group."""
        return _procfs.tree({self._pgid}) if self._pgid is not None else []

    def children(self) -> list[int]:
        """Pids of the live processes of this service other than its direct child."""
        return [p.pid for p in self.tree() if p.pid != self.pid]

    @property
    def fault_target(self) -> str:
        return self.name

    def kill_children(self) -> list[int]:
        """SIGKILL every process of the service but its direct child; return their pids.

        What a crash of a supervisor's workers looks like (gunicorn, Celery, Dramatiq): the
        supervisor lives on and usually starts new ones.
        """
        with self._lock:
            self._require_running("kill the children of")
            victims = [p for p in self.tree() if p.pid != self.pid]
            for proc in victims:
                _procfs.signal_proc(proc, signal.SIGKILL)
            return [p.pid for p in victims]

    @contextlib.contextmanager
    def children_crashed(self) -> Iterator[list[int]]:
        """SIGKILL the service's children for the block (see `kill_children`); yields their pids.

        Nothing is restarted on the way out: bringing workers back is the supervisor's job, and
        whether it does is what an experiment observes.
        """
        killed: list[int] = []
        with fault(
            "crash",
            f"{self.name} children",
            lambda: killed.extend(self.kill_children()),
            lambda: None,
            {"signal": "KILL", "children": True},
        ):
            yield killed
