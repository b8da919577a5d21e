"""Start and stop sample services as real subprocesses for the smoke and broker tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fixtures.placement import source_path


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """One ``python -m sample_system.<pkg>`` process with its log file."""

    def __init__(self, package: str, env: dict[str, str], log_dir: Path) -> None:
        self.package = package
        self.log_path = log_dir / f"{package}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"sample_system.{package}"],
                env={**os.environ, "PYTHONPATH": source_path(), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=log_dir,
            )

    def log(self) -> str:
        """Return what the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, url: str, timeout_s: float = 20.0) -> None:
        """Poll ``url``/health until 200; fail with the log if the process dies or time runs out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.package} exited with {self.proc.returncode}:\n{self.log()}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling a process we do not control; no event to wait on
        raise RuntimeError(f"{self.package} not healthy at {url} after {timeout_s}s:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
