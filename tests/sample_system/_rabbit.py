"""A private RabbitMQ node (own epmd, ports, data dir) for the broker tests; no chaos import."""

import os
import subprocess
import time
from pathlib import Path

import pika

from tests.sample_system._procs import free_port

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


class RabbitNode:
    """Start/stop/restart one node; data survives a restart (same name, dirs and ports)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"
        for sub in ("home", "mnesia", "log"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        (base / "rabbitmq.conf").write_text("loopback_users = none\n")
        (base / "enabled_plugins").write_text("[].\n")
        self._epmd: subprocess.Popen[bytes] | None = None
        self._server: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.base / "home"),
            "RABBITMQ_NODENAME": f"rabbit-sample-{self.amqp_port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbit.pid"),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self, timeout_s: float = 60.0) -> None:
        """Start epmd (once) and the broker; return when an AMQP connection succeeds."""
        if self._epmd is None:
            self._epmd = subprocess.Popen(
                ["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        with (self.base / "server.out").open("ab") as out:
            self._server = subprocess.Popen(
                [str(RABBITMQ_SERVER)], env=self._env(), stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited: {self.log()}")
            try:
                pika.BlockingConnection(pika.URLParameters(self.url)).close()
                return
            except Exception:
                time.sleep(0.25)  # the broker gives no readiness signal we can wait on
        raise RuntimeError(f"rabbitmq-server not ready after {timeout_s}s: {self.log()}")

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL); epmd stays for a restart."""
        if self._server is not None and self._server.poll() is None:
            self._server.terminate()
            try:
                self._server.wait(30)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait(10)
        self._server = None

    def close(self) -> None:
        """Stop the broker and epmd."""
        self.stop()
        if self._epmd is not None and self._epmd.poll() is None:
            self._epmd.terminate()
            self._epmd.wait(10)
        self._epmd = None

    def log(self) -> str:
        """Return the tail of the broker's console output."""
        path = self.base / "server.out"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
