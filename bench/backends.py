"""Bring-up and per-experiment times of the local and Docker backends, side by side.

    .venv/bin/python bench/backends.py [--runs 2] [--backends local,docker] [pytest args]

Each run is `pytest experiments --chaos-backend B`; its terminal summary gives the broker's
boot and the sample stack's start-up, its JUnit XML the seconds per experiment. Prints the
median over runs per backend. Prints figures only: no pass/fail on speed. The Docker backend
needs the images (scripts/build-images.sh) and a running engine.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from experiment_runs import parse

STARTUP = re.compile(r"sample system start-up: (.*)")
BOOT = re.compile(r"rabbitmq \S+: booted in ([\d.]+) s")


def one_run(backend: str, xml: Path, pytest_args: list[str]) -> dict[str, float]:
    """Seconds of every step of bring-up and of every experiment; empty if the run failed."""
    began = time.monotonic()
    argv = [sys.executable, "-m", "pytest", "experiments", "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(
        [*argv, f"--chaos-backend={backend}", f"--junitxml={xml}", *pytest_args],
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - began
    print(f"{backend}: exit {proc.returncode} in {wall:.0f} s", flush=True)
    if proc.returncode != 0 or not xml.exists():
        print(proc.stdout[-3000:], proc.stderr[-2000:])
        return {}
    figures = {"wall": wall}
    if boot := BOOT.search(proc.stdout):
        figures["bring-up: broker boot"] = float(boot.group(1))
    if startup := STARTUP.search(proc.stdout):
        for part in startup.group(1).split(", "):
            name, seconds, _ = part.rsplit(" ", 2)
            figures[f"bring-up: {name}"] = float(seconds)
    figures.update(parse(xml)[1])
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--backends", default="local,docker")
    ap.add_argument("--out", type=Path, default=Path("artifacts/backends"))
    args, pytest_args = ap.parse_known_args()
    args.out.mkdir(parents=True, exist_ok=True)
    backends = args.backends.split(",")
    results: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
    for i in range(1, args.runs + 1):
        for backend in backends:
            run = one_run(backend, args.out / f"{backend}-{i}.xml", pytest_args)
            if not run:
                return 1
            results[backend].append(run)
    names = list(dict.fromkeys(n for b in backends for r in results[b] for n in r))
    print(f"\nmedian seconds over {args.runs} run(s):")
    print(f"  {'':<58}" + "".join(f"{b:>10}" for b in backends))
    for name in names:
        cells = []
        for backend in backends:
            values = [r[name] for r in results[backend] if name in r]
            cells.append(f"{statistics.median(values):10.1f}" if values else f"{'-':>10}")
        print(f"  {name[:58]:<58}" + "".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
