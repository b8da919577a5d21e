"""One-off: bring journal.json (recorded before probe hints and split docstrings) up to date.

Adds what the current code records and the old journal could not hold: per probe the display
hints that fixtures/system.py gives it (`probes.hints`, `timeline.probe_hints`), and per
experiment its `docstrings`. No test of the sample system has a docstring of its own, so the
old `hypothesis` (module docstring, then the test's) is the module's. Idempotent.
Run: python tests/data/add_display_hints.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

JOURNAL = Path(__file__).resolve().parent / "journal.json"
BREAKER = [[0.0, "closed"], [1.0, "half-open"], [2.0, "open"]]
# (module, probe) -> hints, as fixtures.system's probes give them.
HINTS: dict[tuple[str, str], dict[str, Any]] = {
    ("experiments.test_async_latency", "queue_depth"): {
        "title": "Queue depth",
        "unit": "messages",
        "states": None,
    },
    ("experiments.test_broker_crash", "outbox"): {
        "title": "Outbox size",
        "unit": "messages",
        "states": None,
    },
    ("experiments.test_async_partition", "breaker"): {
        "title": "Circuit breaker of notifier_worker",
        "unit": None,
        "states": BREAKER,
    },
    ("experiments.test_sync_breaker", "breaker"): {
        "title": "Circuit breaker of gateway",
        "unit": None,
        "states": BREAKER,
    },
}


def convert(journal: dict[str, Any]) -> None:
    for i, old in enumerate(journal["experiments"]):
        # Where the code writes it: right after the hypothesis.
        exp = {k: v for k, v in old.items() if k != "docstrings"}
        keys = list(exp)
        keys.insert(keys.index("hypothesis") + 1, "docstrings")
        exp["docstrings"] = {"test": "", "module": exp["hypothesis"]}
        exp = journal["experiments"][i] = {k: exp[k] for k in keys}
        timeline = exp["timeline"]
        if timeline is None:
            continue
        hints = {name: HINTS[(exp["module"], name)] for name in timeline["probes"]}
        timeline["probe_hints"] = hints
        if exp["probes"]:
            exp["probes"]["hints"] = hints


def main() -> None:
    journal = json.loads(JOURNAL.read_text())
    convert(journal)
    JOURNAL.write_text(json.dumps(journal, indent=1) + "\n")


if __name__ == "__main__":
    main()
