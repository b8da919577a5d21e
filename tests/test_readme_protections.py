"""The README's protection table is the one the suite's markers give (it cannot drift)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_table_matches_the_suite() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "experiments",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--chaos-protections",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout
    generated = [line for line in out.splitlines() if line.startswith("|")]
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- protections:start -->\n(.*?)\n<!-- protections:end -->", readme, re.S)
    assert found, "README.md has no <!-- protections:start/end --> block"
    assert len(generated) > 2, f"no negative control collected: {out[-500:]}"
    assert found.group(1).splitlines() == generated, "README table is stale: ./run protections"
