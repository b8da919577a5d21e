"""Schemathesis, a tool nobody here wrote, against GET /openapi.json of a live server.

Every phase runs (examples, coverage, fuzzing, and the stateful phase that follows the
document's links) with every default check. The run must pass; the Toxiproxy-compatible
answers it would flag are known exceptions, each with its reason, in `schemathesis_hooks`.
Bounded: a fixed seed, 10 examples per operation, 60 stateful scenarios (about 20-40 s).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.proxy.runner import EmbeddedServer

pytest.importorskip("schemathesis")
pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[3]
CONFIG = Path(__file__).with_name("schemathesis.toml")
RUN = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"

# Every operation that takes a proxy or toxic name, and the one that makes names for them.
LINKED = {
    "POST /proxies",
    "GET /proxies/{proxy}",
    "PATCH /proxies/{proxy}",
    "POST /proxies/{proxy}",
    "DELETE /proxies/{proxy}",
    "GET /proxies/{proxy}/connections",
    "DELETE /proxies/{proxy}/connections",
    "GET /proxies/{proxy}/toxics",
    "POST /proxies/{proxy}/toxics",
    "GET /proxies/{proxy}/toxics/{toxic}",
    "PATCH /proxies/{proxy}/toxics/{toxic}",
    "POST /proxies/{proxy}/toxics/{toxic}",
    "DELETE /proxies/{proxy}/toxics/{toxic}",
}


def stateful_reach(ndjson: Path) -> dict[str, int]:
    """Operations the stateful phase called, with how many of their calls got a 2xx."""
    phase, reached = None, collections.Counter[str]()
    for line in ndjson.read_text().splitlines():
        (kind, event), *_ = json.loads(line).items()
        if kind == "PhaseStarted":
            phase = event["phase"]["name"]
        if kind != "ScenarioFinished" or phase != "stateful":
            continue
        recorder = event.get("recorder") or {}
        for case_id, case in recorder.get("cases", {}).items():
            operation = f"{case['value']['method']} {case['value']['path']}"
            interaction = recorder.get("interactions", {}).get(case_id)
            ok = interaction is not None and 200 <= interaction["response"]["status_code"] < 300
            reached[operation] += int(ok)
    return dict(reached)


def test_the_document_holds_under_schemathesis(tmp_path: Path) -> None:
    ndjson, exceptions = tmp_path / "run.ndjson", tmp_path / "exceptions.tsv"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHAOS_ST_EXCEPTIONS": str(exceptions),
        "NO_COLOR": "1",
    }
    with EmbeddedServer(proxy_metrics=True, seed=1) as server:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                RUN,
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.url}/openapi.json",
                "--seed",
                "1",
                "--workers",
                "1",
                "--report",
                "ndjson",
                "--report-ndjson-path",
                str(ndjson),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    summary = run.stdout[run.stdout.find("FAILURES") :] or run.stdout[-3000:]
    assert run.returncode == 0, f"schemathesis found failures:\n{summary}\n{run.stderr[-2000:]}"
    assert "18 selected / 18 total" in run.stdout
    reached = stateful_reach(ndjson)
    known = (
        collections.Counter(line.split("\t")[0] for line in exceptions.read_text().splitlines())
        if exceptions.exists()
        else collections.Counter()
    )
    print(f"\nstateful phase reached {len(reached)} operations ({sum(reached.values())} 2xx):")
    for operation, ok in sorted(reached.items()):
        print(f"  {operation}: {ok} answered 2xx")
    print("known exceptions met:", dict(known))
    # Operations that take a name are reached only through the document's links. Which of them
    # a seeded run reaches varies between environments (seen: 9, 12 and 13 of the 13): the floor
    # catches links that broke (then the walk never gets past POST /proxies).
    assert set(reached) <= LINKED
    assert len(reached) >= 9, f"the stateful phase reached only {sorted(reached)}"
    assert reached.get("POST /proxies", 0) > 0 and sum(reached.values()) > len(reached)
