"""The per-run JSON journal: environment, and for each experiment what was done and seen.

Schema: `chaos/report/journal.schema.json` (JSON Schema 2020-12). In `timeline`, every time is in
seconds from the experiment's `t0` (the wall-clock start of its baseline); elsewhere times are
unix seconds.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from chaos import __version__
from chaos._timeline import Timeline
from chaos.experiment._lag import DeliveryLag
from chaos.experiment._ledger import LedgerResult
from chaos.experiment._phases import Run
from chaos.experiment._probes import ProbeHints
from chaos.experiment._verdict import Verdict

__all__ = [
    "SCHEMA_VERSION",
    "ExperimentRecord",
    "build_journal",
    "environment",
    "load_journal",
    "to_json",
    "write_journal",
]

SCHEMA_VERSION = 1
# pytest-chaos's own dependencies; the system under test adds its own (--chaos-packages).
_PACKAGES = ("pytest", "httpx", "uvicorn", "uvloop", "pika", "docker")


@dataclass
class ExperimentRecord:
    """What one experiment (one test) did and saw; filled in while it runs."""

    id: str
    name: str
    module: str
    doc: str = ""
    """The test's own docstring; `module_doc` its module's."""
    module_doc: str = ""
    pair: str | None = None
    path: str | None = None
    negative_control: bool = False
    protection: str | None = None
    """For a negative control: the protection it removes."""
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    outcome: str = "unknown"
    message: str = ""
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    lag: list[DeliveryLag] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    timeline: Timeline | None = None

    @property
    def hypothesis(self) -> str:
        """The test's own docstring; its module's when it has none."""
        return self.doc or self.module_doc

    def observe(self, result: object) -> None:
        """Collect verdicts, ledger checks and delivery lags announced during the test."""
        if isinstance(result, Verdict):
            self.verdicts.append(result.to_dict())
        elif isinstance(result, LedgerResult):
            self.ledger.append(result.to_dict())
        elif isinstance(result, DeliveryLag):
            self.lag.append(result)

    def verdict(self) -> dict[str, Any]:
        """The experiment's verdict: did its hypothesis hold (a negative control must fail).

        Never more than was measured: a test that ran no experiment, or an expected failure
        that is not a `chaos.negative_control`, is inconclusive, not a HOLDS.
        """
        if self.outcome in ("passed", "xfailed") and not self.runs:
            return _inconclusive("no experiment was run: the test measured nothing")
        short = [note for run in self.runs for note in run.shortfalls]
        if short and self.outcome in ("passed", "xfailed"):
            return _inconclusive("; ".join(short))
        unjudged = [v["reason"] for v in self.verdicts if v.get("inconclusive")]
        if unjudged:
            return _inconclusive("too little data to judge: " + "; ".join(unjudged))
        if self.outcome == "passed":
            reasons = "; ".join(v["reason"] for v in self.verdicts) or "all checks passed"
            return {"passed": True, "inconclusive": False, "reason": reasons}
        if self.outcome == "xfailed":
            if not self.negative_control:
                return _inconclusive(
                    "an expected failure that is not a chaos.negative_control (a strict xfail "
                    f"of one protection) proves nothing: {self.message}"
                )
            failed = [v["reason"] for v in self.verdicts if not v["passed"]]
            why = failed[0] if failed else self.message
            return {
                "passed": True,
                "inconclusive": False,
                "reason": f"negative control failed as it must: {why}",
            }
        if self.outcome == "xpassed":
            return {
                "passed": False,
                "inconclusive": False,
                "reason": "negative control passed: the check cannot fail",
            }
        return {"passed": False, "inconclusive": False, "reason": self.message or self.outcome}

    def to_dict(self) -> dict[str, Any]:
        run = self.runs[-1] if self.runs else None
        figures: dict[str, Any] = {}
        for r in self.runs:
            figures.update(r.figures())
        return {
            "id": self.id,
            "name": self.name,
            "module": self.module,
            "hypothesis": self.hypothesis,
            "docstrings": {"test": self.doc, "module": self.module_doc},
            "pair": self.pair,
            "path": self.path,
            "negative_control": self.negative_control,
            "protection": self.protection,
            "outcome": self.outcome,
            "verdict": self.verdict(),
            "verdicts": self.verdicts,
            "ledger": self.ledger[-1] if self.ledger else None,
            "delivery_lag": self.lag[-1].to_dict() if self.lag else None,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": None if self.ended_at is None else self.ended_at - self.started_at,
            "figures": figures,
            "faults": self.timeline.to_list() if self.timeline is not None else [],
            "shortfalls": [note for r in self.runs for note in r.shortfalls],
            "loads": {name: res.to_dict() for name, res in run.loads.items()} if run else {},
            "probes": (run.probes or {}) if run else {},
            "timeline": _timeline(run, self.timeline) if run else None,
        }


def _inconclusive(reason: str) -> dict[str, Any]:
    return {"passed": False, "inconclusive": True, "reason": reason}


def _timeline(run: Run, faults: Timeline | None) -> dict[str, Any]:
    """Phases, faults, per-interval latency and errors, probes: seconds from t0."""
    t0 = run.marks["baseline"]
    order = [
        name
        for name in ("baseline", "handover", "settle", "fault", "recovery", "end")
        if name in run.marks
    ]
    phases = [
        {"name": name, "start": run.marks[name] - t0, "end": run.marks[nxt] - t0}
        for name, nxt in itertools.pairwise(order)
    ]
    fault_spans = [
        {
            "kind": e.kind,
            "target": e.target,
            "attributes": dict(e.attributes),
            "start": e.applied_at - t0,
            "end": None if e.removed_at is None else e.removed_at - t0,
        }
        for e in (faults.events if faults is not None else [])
        if e.applied_at is not None
    ]
    latency = {}
    for name, results in run.loads.items():
        offset = results.started_wall - t0
        latency[name] = [
            {
                "t": round(offset + b.start_s, 3),
                "count": b.scheduled,
                "ok": b.ok,
                "errors": b.errors,
                "error_rate": b.errors / b.scheduled if b.scheduled else 0.0,
                "p50_ms": b.p50_ms,
                "p99_ms": b.p99_ms,
            }
            for b in results.series
        ]
    probes: dict[str, list[list[float]]] = {}
    hints: dict[str, ProbeHints] = {}
    if run.probes and run.probes_started_wall is not None:
        offset = run.probes_started_wall - t0
        probes = {
            name: [[round(offset + t, 3), value] for t, value in points]
            for name, points in run.probes["series"].items()
        }
        hints = dict(run.probes.get("hints") or {})
    return {
        "t0": t0,
        "phases": phases,
        "faults": fault_spans,
        "latency": latency,
        "probes": probes,
        "probe_hints": hints,
    }


def environment(
    backend: str, proxy_server: dict[str, Any] | None = None, extra_packages: Sequence[str] = ()
) -> dict[str, Any]:
    """Versions and machine facts a reader needs to compare two journals."""
    packages: dict[str, str | None] = {}
    for name in dict.fromkeys((*_PACKAGES, *extra_packages)):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "pytest_chaos": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "backend": backend,
        "proxy_server": proxy_server,
        "packages": packages,
    }


def build_journal(
    records: Sequence[ExperimentRecord | dict[str, Any]], env: dict[str, Any], started_at: float
) -> dict[str, Any]:
    """The journal of `records` (or their `to_dict()` entries, e.g. from xdist workers)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pytest-chaos", "version": __version__},
        "environment": env,
        "started_at": started_at,
        "ended_at": time.time(),
        "experiments": [r if isinstance(r, dict) else r.to_dict() for r in records],
    }


def to_json(value: object) -> str:
    """`value` as the journal writes it (sets sorted, tuples as lists)."""
    return json.dumps(value, default=_jsonable)


def write_journal(path: Path, journal: dict[str, Any]) -> None:
    """Write atomically, so a reader never sees half a journal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(journal, indent=1, default=_jsonable) + "\n")
    tmp.replace(path)


def _jsonable(value: object) -> object:
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to the journal")


def load_journal(path: Path) -> dict[str, Any]:
    """Read a journal; refuse a file that is not one, saying what it is."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read journal {path}: {exc}") from exc
    if not isinstance(data, dict) or "experiments" not in data:
        raise ValueError(f"{path} is not a pytest-chaos journal (no 'experiments' key)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"{path} has journal schema version {data.get('schema_version')!r}; this "
            f"pytest-chaos reads version {SCHEMA_VERSION}"
        )
    experiments = data["experiments"]
    if not isinstance(experiments, list) or not all(isinstance(e, dict) for e in experiments):
        raise ValueError(
            f"{path}: 'experiments' must be a list of objects, got {type(experiments).__name__}"
            + (f" of {sorted({type(e).__name__ for e in experiments})}" if experiments else "")
        )
    return data
