"""The async-latency gate catches the regression its tolerance claims: a planted 400 ms leak.

Runs the real experiment (the sample system, the broker, the proxy) with `--plant-latency`:
during the fault, 20% of the reactions are answered 400 ms late at the gateway -> reactions
edge. The verdict must be BROKEN, not inconclusive, and the tolerance must have claimed to catch
a regression smaller than the one planted (the group "p99-150-latency" of _planted.py).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.experiments._planted import PlantedRun

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENT = "experiments/test_async_latency.py::test_latency_on_async_path_is_contained[async]"


def test_a_planted_400_ms_leak_makes_the_async_latency_experiment_broken(
    planted_run: Callable[[str], PlantedRun],
) -> None:
    planted_run("p99-150-latency").assert_broken(EXPERIMENT)


def test_plant_latency_refuses_a_bad_value() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            EXPERIMENT,
            "-p",
            "no:cacheprovider",
            "--co",
            "-q",
            "--plant-latency=300ms",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--plant-latency '300ms': expected MS:PERCENT" in done.stderr
