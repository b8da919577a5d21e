"""`chaos-proxy`: toxiproxy-server's flags, and the server started as its own process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chaos.proxy.cli import parser

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("flag", ["-seed", "--seed"])
def test_seed_flag_parses_as_an_integer(flag: str) -> None:
    assert parser().parse_args([flag, "5"]).seed == 5
    assert parser().parse_args([]).seed is None


def test_seed_must_be_an_integer(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parser().parse_args(["-seed", "five"])
    assert info.value.code == 2
    assert "-seed" in capsys.readouterr().err


def test_server_process_starts_with_a_seed_and_stops_on_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "url"
    cmd = [sys.executable, "-m", "chaos.proxy.cli", "-seed", "5", "-port", "0"]
    proc = subprocess.Popen(
        [*cmd, "-ready-file", str(ready)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "chaos-proxy wrote no ready file within 30 s"
            time.sleep(0.05)
        url = ready.read_text().strip()
        assert httpx.get(f"{url}/version", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err.decode()
        assert f"API on {url}" in out.decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
