"""Run the experiment suite N times in a row; print pass counts, wall times and figure spreads.

    .venv/bin/python bench/experiment_runs.py [--runs 10] [--out artifacts/runs] [pytest args]

Each run is `pytest experiments --junitxml=...`; the key figures every experiment records as
JUnit properties are collected and their min / median / max over the runs printed, with the
time each test took. Prints figures only: no pass/fail on speed.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def parse(xml: Path) -> tuple[dict[str, str], dict[str, float], dict[str, dict[str, float]]]:
    """(outcome per test, seconds per test, figures per test) of one JUnit XML file."""
    outcomes: dict[str, str] = {}
    seconds: dict[str, float] = {}
    figures: dict[str, dict[str, float]] = defaultdict(dict)
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = case.get("name", "?")
        seconds[name] = float(case.get("time", 0))
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = (
                    "xfailed"
                    if "xfail" in (node.get("type") or "") + (node.get("message") or "")
                    else tag
                )
        outcomes[name] = outcome
        for prop in case.iter("property"):
            value = prop.get("value")
            if value not in (None, "None"):
                with contextlib.suppress(ValueError):
                    figures[name][prop.get("name", "?")] = float(value)
    return outcomes, seconds, figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("artifacts/runs"))
    args, pytest_args = ap.parse_known_args()
    args.out.mkdir(parents=True, exist_ok=True)
    walls: list[float] = []
    runs: list[tuple[dict[str, str], dict[str, float], dict[str, dict[str, float]]]] = []
    for i in range(1, args.runs + 1):
        xml = args.out / f"run-{i}.xml"
        began = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "experiments",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={xml}",
                *pytest_args,
            ],
            capture_output=True,
            text=True,
        )
        walls.append(time.monotonic() - began)
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
        print(f"run {i}: exit {proc.returncode} in {walls[-1]:.0f} s: {tail}", flush=True)
        if not xml.exists():
            print(proc.stdout[-3000:], proc.stderr[-3000:])
            return 1
        runs.append(parse(xml))
        if proc.returncode != 0:
            print(proc.stdout[-5000:])
            print(f"stopped: run {i} failed after {i - 1} green runs in a row")
            return 1
    print(
        f"\n{len(runs)} runs in a row green; wall time per run: min {min(walls):.0f} s, "
        f"median {statistics.median(walls):.0f} s, max {max(walls):.0f} s"
    )
    print("\nseconds per test (median over runs):")
    for name in runs[0][1]:
        values = [r[1].get(name, 0.0) for r in runs]
        print(f"  {statistics.median(values):6.1f}  {name}")
    print("\nkey figures: min / median / max over runs")
    for name in runs[0][2]:
        for key in sorted(runs[0][2][name]):
            if not key.endswith(("p50_ms", "p99_ms", "error_rate", "amplification")):
                continue
            values = [r[2][name][key] for r in runs if key in r[2].get(name, {})]
            if values:
                print(
                    f"  {name} {key}: {min(values):g} / {statistics.median(values):g} / "
                    f"{max(values):g}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
