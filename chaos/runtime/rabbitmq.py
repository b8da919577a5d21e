"""A private RabbitMQ node run as a child process: own dir, own ports, own epmd.

Layout under ``base_dir``: ``.erlang.cookie`` (HOME is the base dir, so the server and
``rabbitmqctl`` share it), ``rabbitmq.conf``, ``enabled_plugins`` (``[].``), an empty env file
(so ``/etc/rabbitmq/rabbitmq-env.conf`` is not read), ``mnesia/`` (kept across restarts, so durable
data survives a crash), ``logs/`` (the broker logs to stdout, captured in ``logs/rabbitmq.log``).

Process tree: ``epmd -port N -address 127.0.0.1`` runs in the foreground as its own
``ManagedProcess``; with ``ERL_EPMD_PORT=N`` the broker and ``rabbitmqctl`` use it instead of
spawning a detached epmd that would outlive us. The broker's direct child is Debian's
``rabbitmq-server`` shell script (called directly: the ``/usr/sbin`` wrapper switches user), which
runs ``beam.smp``; beam in turn runs ``erl_child_setup`` and ``inet_gethost``. All of these share
the script's process group, which ``ManagedProcess`` and its watchdog clean up.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

from chaos.runtime import _procfs
from chaos.runtime._watchdog import watchdog
from chaos.runtime.broker import Broker
from chaos.runtime.errors import RabbitMQError, ServiceExited
from chaos.runtime.ports import PortAllocator, default_allocator
from chaos.runtime.process import ManagedProcess
from chaos.runtime.readiness import CallableReady, TcpReady

__all__ = [
    "DEFAULT_RABBITMQ_SERVER",
    "RabbitMQError",
    "RabbitMQNode",
    "RabbitMQNotInstalled",
    "rabbitmq_available",
]

DEFAULT_RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
_HOST = "127.0.0.1"
_node_counter = itertools.count(1)
_ERL_COUNT = re.compile(r"\{(messages_ready|messages_unacknowledged),\s*(\d+)\}")


def _erl_args(host: str, extra: str = "") -> str:
    """Distribution on `host` only; never auto-start an epmd (it would daemonize, outlive us)."""
    octets = ",".join(host.split("."))
    return f"-kernel inet_dist_use_interface {{{octets}}} -start_epmd false {extra}".strip()


class RabbitMQNotInstalled(FileNotFoundError):
    """The RabbitMQ server script (or epmd) is not where we looked."""


def rabbitmq_available(server_path: str | os.PathLike[str] = DEFAULT_RABBITMQ_SERVER) -> bool:
    """True if a local node can be started (server script and epmd present)."""
    return Path(server_path).is_file() and shutil.which("epmd") is not None


class RabbitMQNode(Broker):
    """A private RabbitMQ broker on loopback; ``with RabbitMQNode() as node: node.amqp_url``."""

    def __init__(
        self,
        base_dir: str | os.PathLike[str] | None = None,
        *,
        server_path: str | os.PathLike[str] = DEFAULT_RABBITMQ_SERVER,
        epmd_path: str | os.PathLike[str] | None = None,
        allocator: PortAllocator | None = None,
        boot_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        name_prefix: str = "chaos",
        host: str = _HOST,
        netns: Sequence[str] = (),
        node_name: str | None = None,
        cookie: str | None = None,
        epmd_port: int | None = None,
        extra_config: str = "",
        extra_erl_args: str = "",
    ) -> None:
        """`host` (an IPv4 address) is where AMQP, epmd and distribution listen; a cluster node
        gives its namespace's address, `netns` the argv prefix that runs a command there
        (``ip netns exec NS``), and its shared `cookie`, `epmd_port` and formation config."""
        self.server_path = Path(server_path)
        if not self.server_path.is_file():
            raise RabbitMQNotInstalled(
                f"RabbitMQ server script not found at {str(self.server_path)!r}; "
                "hint: install it with `apt-get install -y rabbitmq-server` (Debian/Ubuntu) "
                "or pass server_path= to RabbitMQNode"
            )
        self.ctl_path = self.server_path.with_name("rabbitmqctl")
        found_epmd = str(epmd_path) if epmd_path is not None else shutil.which("epmd")
        if found_epmd is None or not Path(found_epmd).is_file():
            raise RabbitMQNotInstalled(
                f"epmd not found (tried {str(epmd_path) if epmd_path else '$PATH'}); "
                "hint: it ships with erlang-base, a dependency of rabbitmq-server"
            )
        self.epmd_path = Path(found_epmd)
        if boot_timeout <= 0 or stop_timeout <= 0:
            raise ValueError(
                f"boot_timeout={boot_timeout!r} and stop_timeout={stop_timeout!r} must be > 0"
            )
        if not name_prefix.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"name_prefix={name_prefix!r} may hold only letters, digits, - and _")
        self.boot_timeout = boot_timeout
        self.stop_timeout = stop_timeout
        self._owns_base_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="chaos-rabbitmq-")).resolve()
        local_name = f"{name_prefix}-{os.getpid()}-{next(_node_counter)}"
        self.longnames = host != _HOST  # an address as the host part needs -name, not -sname
        self.node_name = node_name or f"{local_name}@{host if self.longnames else 'localhost'}"
        self._allocator = allocator or default_allocator()
        self.host = host
        self.netns = list(netns)
        self._cookie = cookie
        self._extra_config = extra_config
        self._extra_erl_args = extra_erl_args
        self.port = self._allocator.allocate()
        self.dist_port = self._allocator.allocate()
        self._owns_epmd_port = epmd_port is None
        self.epmd_port = self._allocator.allocate() if epmd_port is None else epmd_port
        self.ctl_port = self._allocator.allocate()
        self.boot_seconds: float | None = None
        self.recovery_seconds: float | None = None
        self._started_once = False
        self._closed = False
        self._ctl_lock = threading.Lock()
        self._write_files()
        logs = self.base_dir / "logs"
        self.epmd = ManagedProcess(
            f"epmd-{self.node_name}",
            [*self.netns, str(self.epmd_path), "-port", str(self.epmd_port), "-address", host],
            env=self._env(),
            log_path=logs / "epmd.log",
            readiness=TcpReady(host, self.epmd_port),
            start_timeout=30.0,
        )
        self.broker = ManagedProcess(
            f"rabbitmq-{self.node_name}",
            [*self.netns, str(self.server_path)],
            env=self._env(),
            cwd=self.base_dir,
            log_path=logs / "rabbitmq.log",
            readiness=[
                TcpReady(host, self.port),
                CallableReady(self._amqp_handshake, description="AMQP open/close"),
            ],
            start_timeout=boot_timeout,
            stop_timeout=stop_timeout,
            poll_interval=0.1,
        )

    # -- addresses -----------------------------------------------------------------------------

    @property
    def amqp_url(self) -> str:
        """``amqp://guest:guest@127.0.0.1:<port>/%2F``."""
        return f"amqp://guest:guest@{self.host}:{self.port}/%2F"

    @property
    def network_address(self) -> str:
        """``host:port`` at which a proxy reaches it."""
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """The broker's log (its stdout and stderr)."""
        return self.broker.log_path

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the broker process runs (paused counts as running)."""
        return self.broker.running

    @property
    def beam_pid(self) -> int | None:
        """Pid of ``beam.smp`` (from RABBITMQ_PID_FILE, checked to belong to our broker)."""
        pgid = self.broker.pgid
        if pgid is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.base_dir / "rabbit.pid").read_text().strip())
            if _procfs.pid_alive(pid) and os.getpgid(pid) == pgid:
                return pid
        for pid in _procfs.group_members(pgid):  # the pid file is written late in boot
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "beam.smp":
                    return pid
        return None

    def start(self, timeout: float | None = None) -> Self:
        """Start epmd and the broker; wait until AMQP accepts a connection. No-op if running."""
        if self._closed:
            raise RabbitMQError(f"node {self.node_name} is closed; create a new RabbitMQNode")
        if self.running:
            return self
        began = time.monotonic()
        self.epmd.start()
        with contextlib.suppress(FileNotFoundError):
            (self.base_dir / "rabbit.pid").unlink()
        try:
            self.broker.start(timeout)
        except ServiceExited as exc:
            if "eaddrinuse" not in exc.log_tail:
                raise
            users = {p: _procfs.port_users(p) for p in (self.port, self.dist_port)}
            held = "; ".join(f"port {p}: {', '.join(u)}" for p, u in users.items() if u)
            raise RabbitMQError(
                f"node {self.node_name} could not listen: a port of its own is in use "
                f"({held or 'by a socket gone since'}); hint: ports outside the kernel's "
                f"ephemeral range (chaos.runtime.services_port_range) are never taken by "
                f"outgoing connections"
            ) from exc
        elapsed = time.monotonic() - began
        if self._started_once:
            self.recovery_seconds = elapsed
        else:
            self.boot_seconds = elapsed
            self._started_once = True
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Graceful stop: SIGTERM to beam.smp, wait, then clean up the group. epmd stays up."""
        timeout = self.stop_timeout if timeout is None else timeout
        beam = self.beam_pid
        if beam is not None and self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(beam, signal.SIGCONT)  # a paused VM would never act on SIGTERM
                os.kill(beam, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                self.broker.wait(timeout)
        self.broker.stop(timeout=5.0)

    def kill(self) -> None:
        """SIGKILL beam.smp: a crash, no chance to flush or close connections cleanly."""
        # beam.smp dies with its whole tree in one step (frozen first, then SIGKILL): killing
        # beam alone would orphan short-lived helpers (``sh`` from os:cmd) before we find them.
        self.broker.kill()

    def pause(self) -> None:
        """SIGSTOP beam.smp: the broker freezes with its sockets open (a hung broker).

        Returns once the kernel reports it stopped: signal delivery is asynchronous, and a
        caller that measures "while frozen" must not start before the freeze has happened.
        """
        self._signal_beam(signal.SIGSTOP, "pause", until=lambda state: state == "T")

    def resume(self) -> None:
        """SIGCONT beam.smp; returns once it runs again."""
        self._signal_beam(signal.SIGCONT, "resume", until=lambda state: state != "T")

    def close(self) -> None:
        """Stop the broker and epmd, release the ports, remove an auto-created base dir."""
        if self._closed:
            return
        try:
            self.stop()
        finally:
            try:
                self.epmd.stop()
            finally:
                self._closed = True
                ports = [self.port, self.dist_port, self.ctl_port]
                for port in ports + ([self.epmd_port] if self._owns_epmd_port else []):
                    self._allocator.release(port)
                if self._owns_base_dir:
                    shutil.rmtree(self.base_dir, ignore_errors=True)

    def processes(self) -> list[tuple[int, str]]:
        """(pid, command name) of every live process of this node: broker tree and epmd."""
        found = []
        for proc in (*self.broker.tree(), *self.epmd.tree()):
            with contextlib.suppress(OSError):
                found.append((proc.pid, Path(f"/proc/{proc.pid}/comm").read_text().strip()))
        return found

    def __repr__(self) -> str:
        return f"RabbitMQNode({self.node_name!r}, port={self.port}, running={self.running})"

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl ARGS`` against this node; return stdout."""
        if not self.epmd.running:
            raise RabbitMQError(
                f"rabbitmqctl {' '.join(args)}: node {self.node_name} has no epmd running "
                f"(closed={self._closed}); hint: start() the node first"
            )
        argv = [
            *self.netns,
            str(self.ctl_path),
            *(["--longnames"] if self.longnames else []),
            *args,
        ]
        with self._ctl_lock:  # the CLI node listens on our single reserved ctl port
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._env(),
                cwd=self.base_dir,
                start_new_session=True,
            )
            watchdog.register(proc.pid)
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise RabbitMQError(
                    f"rabbitmqctl {' '.join(args)} timed out after {timeout:g}s on "
                    f"{self.node_name}; hint: is the broker paused or overloaded?"
                ) from exc
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the CLI's own VM helpers
                watchdog.unregister(proc.pid)
        if proc.returncode != 0:
            raise RabbitMQError(
                f"rabbitmqctl {' '.join(args)} failed with exit code {proc.returncode} on "
                f"{self.node_name}: {err.decode(errors='replace').strip()[-2000:]}"
            )
        return out.decode(errors="replace")

    def queue_stats(self, name: str) -> dict[str, int]:
        """Ready and unacknowledged message counts of a queue, asked of the node by
        ``erl_call`` (milliseconds; ``rabbitmqctl`` boots a VM: about 1 s of CPU).

        Without ``erl_call`` (it comes with Erlang's erl_interface) it falls back to
        ``rabbitmqctl``. Raises LookupError if the queue does not exist.
        """
        erl_call = shutil.which("erl_call")
        if erl_call is None:
            return super().queue_stats(name)
        # The name as byte values: no quoting of an Erlang binary literal to get wrong.
        raw = ",".join(str(b) for b in name.encode())
        expr = (
            f'case rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, list_to_binary([{raw}])))'
            " of {ok, Q} -> rabbit_amqqueue:info(Q, [messages_ready, messages_unacknowledged]);"
            " Other -> Other end.\n"
        )
        flag = "-n" if self.longnames else "-sname"
        argv = [*self.netns, erl_call, flag, self.node_name, "-e"]
        try:
            done = subprocess.run(
                argv, input=expr, capture_output=True, text=True, env=self._env(), timeout=30
            )
        except subprocess.TimeoutExpired as exc:
            raise RabbitMQError(
                f"erl_call (queue stats of {name!r}) timed out after 30 s on {self.node_name}; "
                "hint: is the broker paused or overloaded?"
            ) from exc
        counts = dict(_ERL_COUNT.findall(done.stdout))
        if done.returncode == 0 and set(counts) == {"messages_ready", "messages_unacknowledged"}:
            return {
                "ready": int(counts["messages_ready"]),
                "unacked": int(counts["messages_unacknowledged"]),
            }
        if "not_found" in done.stdout:
            raise LookupError(f"no queue {name!r} on node {self.node_name}")
        raise RabbitMQError(
            f"erl_call (queue stats of {name!r}) failed on {self.node_name}, exit code "
            f"{done.returncode}: {(done.stdout + done.stderr).strip()[-1000:]}"
        )

    # -- internals -----------------------------------------------------------------------------

    def _signal_beam(self, sig: signal.Signals, action: str, until: Callable[[str], bool]) -> None:
        beam = self.beam_pid
        if beam is None:
            raise RabbitMQError(
                f"cannot {action} {self.node_name}: beam.smp is not running; hint: start() first"
            )
        os.kill(beam, sig)
        deadline = time.monotonic() + 5.0
        while (state := _procfs.process_state(beam)) is not None and not until(state):
            if time.monotonic() > deadline:
                raise RabbitMQError(
                    f"{action} of {self.node_name}: beam.smp (pid {beam}) still in state "
                    f"{state!r} 5 s after {sig.name}"
                )
            time.sleep(0.005)

    def _env(self) -> dict[str, str]:
        base = self.base_dir
        erl_args = _erl_args(self.host, self._extra_erl_args)
        env = {
            "HOME": str(base),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "logs"),
            "RABBITMQ_LOGS": "-",
            "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CTL_DIST_PORT_MIN": str(self.ctl_port),
            "RABBITMQ_CTL_DIST_PORT_MAX": str(self.ctl_port),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": erl_args,
            "RABBITMQ_CTL_ERL_ARGS": erl_args,
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": self.host,
        }
        if self.longnames:
            env["RABBITMQ_USE_LONGNAME"] = "true"
        return env

    def _write_files(self) -> None:
        base = self.base_dir
        for sub in ("mnesia", "logs"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        (base / "rabbitmq-env.conf").write_text("# intentionally empty: ignore /etc/rabbitmq\n")
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq.conf").write_text(
            "loopback_users = none\n"
            f"listeners.tcp.default = {self.host}:{self.port}\n"
            "disk_free_limit.absolute = 1MB\n" + self._extra_config
        )
        cookie = base / ".erlang.cookie"
        if not cookie.exists():
            alphabet = string.ascii_uppercase
            cookie.write_text(self._cookie or "".join(secrets.choice(alphabet) for _ in range(20)))
            cookie.chmod(0o400)
