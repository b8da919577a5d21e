"""`chaos-sample` brings the whole system up for a person, and Ctrl-C takes it all down."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(180)]


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_sample_cli_prints_urls_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fixtures.sample_cli",
            "--mode",
            "async",
            "--workdir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        output = "".join(lines)
        assert "sample system up in" in output, output
        gateway = re.search(r"gateway\s+(http://\S+)", output)
        assert gateway, output
        for edge in ("gateway-reactions", "worker-push", "reactions-broker"):
            assert edge in output
        body = {"post_id": "p1", "user_id": "u1", "kind": "like"}
        response = httpx.post(f"{gateway.group(1)}/reactions", json=body, timeout=10)
        assert response.status_code == 202, response.text
        started = children_of(proc.pid)
        assert started, "chaos-sample started no process"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in started if alive(pid)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
