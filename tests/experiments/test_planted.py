"""Each gate catches the regression its tolerance claims: the real experiment, planted.

Each case runs one experiment in a pytest subprocess (the sample system, the broker, the proxy)
with `--plant-latency MS:PERCENT` (fixtures/plant.py): during the phase its tolerance judges
(the fault, or the recovery), PERCENT % of the requests it judges are answered MS ms late. The
verdict must be BROKEN: that phase's percentile above the limit, the tolerance having claimed
to catch less than MS on at most PERCENT % of the requests, the plant on the timeline. An
inconclusive run (the machine too busy to measure) is a skip, with its reason: it neither caught
nor missed the leak. A delivery-lag gate is planted likewise, its pushes slowed: the lag must
not be back under its bound in time.

The planted MS is above what the tolerance claims at the baselines usually measured, but not far
above: the test shows that the tolerance is tight enough, not that a huge leak is noticed. A
run whose baseline makes the tolerance claim more than was planted fails: in that run the gate
could not have caught the leak. One experiment per run: in a run of three, the second one's
baseline was noisy (p99 24-208 ms, whichever was second), and claimed more than was planted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 200.0
# A planted run interrupted (its timeout, Ctrl-C) gets this long to stop what it started.
STOP_S = 30.0


@dataclass(frozen=True)
class Plant:
    """`experiment` run with `--plant-latency ms:percent`; its plant is `kind` at `target`,
    judged in `phase`."""

    experiment: str
    ms: int
    percent: float
    percentile: int = 99
    kind: str = "http_latency"
    target: str = "gateway-reactions"
    phase: str = "fault"
    gate: str = "tolerance"
    """What must catch it: a latency `tolerance` (its claim in its figures), or the delivery
    `lag` recovery check (it claims any message later than its `under_s`)."""


PLANTS = {
    # tolerance(150) at p99: the claim is 3 x baseline p99 + 150 - baseline p50 ms, on 4% of
    # the requests: about 200-240 ms at the usual baselines (p99 17-35 ms, p50 11-16 ms). 400,
    # not 300: a busy machine's baseline (p99 65 ms once, on CI's second xdist worker) claims
    # about 330 ms. 20% of the about 60 reactions of a fault phase (4 s at 15/s; the surge's
    # 3 s at 40/s: 120): none slowed has odds of 0.8**60, 1.5e-6.
    "async-latency": Plant(
        "experiments/test_async_latency.py::test_latency_on_async_path_is_contained[async]", 400, 20
    ),
    "async-partition": Plant(
        "experiments/test_async_partition.py::test_partition_on_async_path_is_contained", 400, 20
    ),
    "async-surge": Plant(
        "experiments/test_load_surge.py::test_surge_on_async_path_is_absorbed", 400, 20
    ),
    # tolerance(250) at p99 on the feed: about 260-290 ms at the usual feed baselines (p99
    # 8-15 ms, p50 4-5 ms). 500, not 400: in a CI check, beside the other worker's Docker
    # tests, the feed's baseline p99 was 55.5 ms, and the claim +403 ms. The gateway itself
    # slows 20% of the about 50 feed reads of the fault phase (5 s at 10/s): no edge carries
    # /feed.
    "sync-breaker-feed": Plant(
        "experiments/test_sync_breaker.py::test_gateway_breaker_contains_sync_cascade[True]",
        500,
        20,
        kind="feed_delay",
        target="gateway",
    ),
    # tolerance(300, percentile=90): about 330-350 ms at baseline p90 13-19 ms, on 40% of the
    # requests. p90 moves only if more than 10% of the about 180 fault-phase reactions (4 s
    # and a broker restart of 6-12 s, at 15/s) are slowed: at 40%, 18 or fewer slowed (p90
    # unmoved) has odds below 1e-15. The leak lasts until the restart returns: in a CI run
    # it ended at the planned 4 s, 24 of 235 reactions were slowed, and the gate HELD.
    "broker-crash": Plant(
        "experiments/test_broker_crash.py::test_broker_crash_loses_no_reaction[True]",
        600,
        40,
        percentile=90,
    ),
    # Recovery, tolerance(250) at p99: about 290-300 ms at the usual baselines (p99 18-21 ms,
    # p50 about 12 ms), the recovery's own p99 95-131 ms; 500 for a busy machine's baseline,
    # as the feed's. 20% of the 45 reactions of the recovery phase (3 s at 15/s): none slowed
    # has odds of 0.8**45, 4e-5.
    "sync-latency-recovery": Plant(
        "experiments/test_sync_latency.py::test_latency_on_sync_chain_cascades_to_gateway",
        500,
        20,
        phase="recovery",
    ),
    # Delivery lag back under 1 s within 3 s of recovery (LAG_WITHIN_S): it claims to catch
    # any message accepted after that and delivered more than 1 s later, so a push slowed by
    # 1200 ms is caught. 40% of the pushes, from the rollback on: the about 22 reactions
    # accepted after the 3 s (the recovery's last 1.5 s at 15/s) are pushed one at a time, so
    # none slowed has odds of 0.6**22, 1e-5 (and a slowed push delays those queued behind it).
    "worker-hang-lag": Plant(
        "experiments/test_hung_dependency.py::"
        "test_hung_provider_costs_the_worker_its_timeout[notifier_worker]",
        1200,
        40,
        target="worker-push",
        phase="recovery",
        gate="lag",
    ),
    # tolerance(600) at p99: about 650-700 ms at the usual baselines. 20%, as above.
    "broker-partition": Plant(
        "experiments/test_broker_partition.py::test_broker_partition_is_contained", 1000, 20
    ),
}


def run_planted(plant: Plant, journal: Path) -> tuple[int, str]:
    """Run the experiment planted; its exit code and the end of its output."""
    command = [
        *(sys.executable, "-m", "pytest", plant.experiment, "-p", "no:cacheprovider", "-q"),
        f"--plant-latency={plant.ms}:{plant.percent:g}",
        f"--chaos-journal={journal}",
    ]
    # Not an xdist worker, even when started by one: its own session, its own temp directory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            out, err = child.communicate(timeout=RUN_TIMEOUT_S)
        except BaseException:
            # Ctrl-C, as a person would: the run stops the broker and services it started.
            child.send_signal(signal.SIGINT)
            try:
                child.communicate(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
            raise
    return child.returncode, out[-6000:] + err[-3000:]


@pytest.mark.parametrize("plant", PLANTS.values(), ids=PLANTS.keys())
def test_a_planted_leak_makes_the_experiment_broken(plant: Plant, tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    returncode, output = run_planted(plant, journal)
    assert returncode == 1, f"the planted run must fail, exit {returncode}:\n{output}"
    assert journal.exists(), f"no journal written:\n{output}"
    (record,) = json.loads(journal.read_text())["experiments"]
    assert record["id"] == plant.experiment, record["id"]
    verdict = record["verdict"]
    if verdict["inconclusive"]:
        # The experiment could not measure (a machine too busy: seen with CI's other xdist
        # worker on Docker tests), so there is no claim to check: neither caught nor missed.
        pytest.skip(f"the planted run was inconclusive: {verdict['reason'][:300]}")
    assert not verdict["passed"], verdict
    failed = [v for v in record["verdicts"] if not v["passed"]]
    assert failed, f"no failed verdict recorded:\n{output}"
    first = failed[0]
    if plant.gate == "lag":
        assert first["name"] == "lag_recovered", first
        assert "back under" in first["reason"], first
        claimed = first["figures"]["under_s"] * 1000
        assert claimed < plant.ms, f"the lag gate claims only messages over {claimed} ms: {first}"
    else:
        p = f"p{plant.percentile}"
        assert f"{plant.phase} {p} " in first["reason"] and ">" in first["reason"], first
        claimed = first["figures"][f"smallest_regression_{p}_ms"]
        assert claimed < plant.ms, f"the tolerance claims only +{claimed} ms: {first}"
        share = first["figures"]["smallest_regression_share"]
        assert plant.percent / 100 >= share, f"the claim needs {share:.0%} slowed: {first}"
    planted = [f for f in record["faults"] if f["kind"] == plant.kind]
    assert planted, record["faults"]
    assert planted[0]["target"] == plant.target, planted
    attributes = planted[0]["attributes"]
    assert (attributes["latency"], attributes["percentage"]) == (plant.ms, plant.percent), planted


def test_plant_latency_refuses_a_bad_value() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", PLANTS["async-latency"].experiment),
            *("-p", "no:cacheprovider", "--co", "-q", "--plant-latency=300ms"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--plant-latency '300ms': expected MS:PERCENT" in done.stderr
