"""The watchdog process reads what its parent wrote even when it notices the death first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chaos.runtime import _watchdog


def test_commands_written_just_before_the_parent_died_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "cleaned"
    pipe = tmp_path / "stdin"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    pipe.write_text("c" + json.dumps(command) + "\n")
    # A parent pid that is not its parent: the watchdog sees "parent gone" before any read,
    # as after a SIGKILL that lands between a write and the watchdog's next poll.
    with open(pipe, "rb") as stdin:
        proc = subprocess.run(
            [sys.executable, "-I", "-S", str(_watchdog._MAIN), "999999999"],
            stdin=stdin,
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()
