"""Run the experiment suite N times in a row; print how stable its verdicts and figures are.

    .venv/bin/python bench/experiment_runs.py [--runs 10] [--out DIR] [--cluster] [pytest args]
    .venv/bin/python bench/experiment_runs.py --summarize --out DIR   (the runs already there)

Each run is `./run experiments` (or, with --cluster, `./run cluster-experiments`) itself, its
artifacts in OUT/run-I (CHAOS_ARTIFACTS); pytest args go on its command line. From the
journals it prints:
each experiment's verdict in every run (identical in N of N, or which runs differ and why), the
protections proven necessary per run, every baseline p50/p99 (min / median / max; those above
100 ms named), the delivery lag per phase, and the wall time of each test and run. Prints
figures only, no pass/fail on speed; exits 1 when a verdict differed between runs or a run
failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

CLEAN_BASELINE_P99_MS = 100.0
RUN_TIMEOUT_S = 1800
ROOT = Path(__file__).resolve().parent.parent


def mark(verdict: dict[str, Any]) -> str:
    return "HOLDS" if verdict["passed"] else "INCONC" if verdict.get("inconclusive") else "BROKEN"


def spread(values: list[float]) -> str:
    if not values:
        return "no data"
    return f"{min(values):g} / {statistics.median(values):g} / {max(values):g}"


def run_suite(
    i: int, out: Path, cluster: bool, pytest_args: list[str]
) -> tuple[list[dict[str, Any]], float]:
    """One run of `./run experiments` (or cluster-experiments): its experiments, wall time (s)."""
    artifacts = out / f"run-{i}"
    journal = artifacts / "cluster" / "journal.json" if cluster else artifacts / "journal.json"
    journal.unlink(missing_ok=True)
    command = ["./run", "cluster-experiments" if cluster else "experiments", "-q"]
    began = time.monotonic()
    try:
        proc = subprocess.run(
            [*command, "-p", "no:cacheprovider", *pytest_args],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            cwd=ROOT,
            env={**os.environ, "CHAOS_ARTIFACTS": str(artifacts.resolve())},
        )
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
    except subprocess.TimeoutExpired:
        tail = f"timed out after {RUN_TIMEOUT_S} s"
    wall = time.monotonic() - began
    records = json.loads(journal.read_text())["experiments"] if journal.exists() else []
    controls = [r for r in records if r.get("protection")]
    proven = sum(1 for r in controls if r["verdict"]["passed"])
    print(
        f"run {i}: {wall:.0f} s: {tail}; protections proven necessary: {proven} of {len(controls)}",
        flush=True,
    )
    return records, wall


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("artifacts/runs"))
    ap.add_argument(
        "--cluster", action="store_true", help="run experiments/cluster instead of the main suite"
    )
    ap.add_argument(
        "--summarize",
        action="store_true",
        help="run nothing: summarize the journals already in OUT/run-*/ (wall times unknown)",
    )
    args, pytest_args = ap.parse_known_args()
    if args.runs < 1:
        ap.error(f"--runs must be >= 1, got {args.runs}")
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[list[dict[str, Any]]] = []
    walls: list[float] = []
    if args.summarize:
        journal = Path("cluster", "journal.json") if args.cluster else Path("journal.json")
        found = sorted(args.out.glob("run-*"), key=lambda d: int(d.name.split("-")[1]))
        runs = [json.loads((d / journal).read_text())["experiments"] for d in found]
        if not runs:
            ap.error(f"--summarize: no {args.out}/run-*/{journal}")
    else:
        try:
            for i in range(1, args.runs + 1):
                records, wall = run_suite(i, args.out, args.cluster, pytest_args)
                runs.append(records)
                walls.append(wall)
        except KeyboardInterrupt:
            # Ctrl-C: the runs done so far are still worth their summary.
            print(f"interrupted: summarizing the {len(runs)} runs done", flush=True)
    return summarize(runs, walls)


def summarize(runs: list[list[dict[str, Any]]], walls: list[float]) -> int:
    """Print verdicts, baselines, delivery lags and times over `runs`; 1 if anything differed."""
    verdicts: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    baselines: dict[str, list[float]] = defaultdict(list)
    lags: dict[str, list[float]] = defaultdict(list)
    for i, records in enumerate(runs, 1):
        for r in records:
            verdicts[r["id"]].append((i, mark(r["verdict"]), r["verdict"]["reason"]))
            seconds[r["id"]].append(r.get("duration_s") or 0.0)
            for key, value in r.get("figures", {}).items():
                if ".baseline.p" in key and key.endswith("_ms") and value is not None:
                    baselines[f"{r['name']} {key}"].append(value)
            for phase, stats in ((r.get("delivery_lag") or {}).get("phases") or {}).items():
                for figure in ("p50_s", "p99_s", "max_s"):
                    if stats.get(figure) is not None:
                        lags[f"{r['name']} {phase}.{figure}"].append(stats[figure])

    print(f"\nverdicts over {len(runs)} runs:")
    stable = True
    for test, seen in verdicts.items():
        kinds = {m for _, m, _ in seen}
        missing = len(runs) - len(seen)
        if len(kinds) == 1 and not missing:
            print(f"  identical in {len(seen)} of {len(runs)}: {seen[0][1]:6} {test}")
            continue
        stable = False
        print(f"  DIFFER ({missing} runs without it): {test}")
        for i, m, reason in seen:
            print(f"    run {i}: {m} {reason[:160]}")

    over = {k: v for k, v in baselines.items() if "p99" in k and max(v) > CLEAN_BASELINE_P99_MS}
    print(
        f"\nbaseline latency, ms (min / median / max); p99 above {CLEAN_BASELINE_P99_MS:g} ms: "
        f"{len(over)} of {sum(1 for k in baselines if 'p99' in k)}"
    )
    for key, values in baselines.items():
        flag = "  <-- above" if key in over else ""
        print(f"  {key}: {spread(values)}{flag}")
    print("\ndelivery lag, s (min / median / max over runs):")
    for key, values in lags.items():
        print(f"  {key}: {spread(values)}")
    print("\nseconds per test (min / median / max):")
    for test, values in seconds.items():
        print(f"  {spread([round(v, 1) for v in values])}  {test}")
    if walls:
        print(f"\nwall time per run, s: {spread([round(w) for w in walls])}")
    failed = sum(1 for records in runs if not records)
    return 0 if stable and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
