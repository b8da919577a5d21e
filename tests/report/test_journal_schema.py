"""chaos/report/journal.schema.json: valid 2020-12, accepts real journals, rejects broken ones."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import chaos
from chaos.report._journal import ExperimentRecord, build_journal, environment

SCHEMA_PATH = Path(chaos.__file__).parent / "report" / "journal.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, journal: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(journal)
    ]


def test_schema_is_a_2020_12_schema_with_descriptions() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    experiment = schema["$defs"]["experiment"]
    undocumented = [k for k, v in experiment["properties"].items() if "description" not in v]
    # Plain scalar ids are self-explanatory; the rest must say what they mean.
    assert set(undocumented) <= {"id"}, undocumented


def test_real_full_run_journal_is_valid(
    validator: jsonschema.Draft202012Validator, journal: dict[str, Any]
) -> None:
    assert len(journal["experiments"]) == 13
    assert _errors(validator, journal) == []


def test_experiment_that_failed_before_its_run_is_valid(
    validator: jsonschema.Draft202012Validator,
) -> None:
    record = ExperimentRecord(id="t.py::test_x", name="test_x", module="t")
    record.outcome = "error"
    record.message = "fixture 'rabbitmq' failed"
    record.ended_at = time.time()
    journal = json.loads(json.dumps(build_journal([record], environment("local"), time.time())))
    assert journal["experiments"][0]["timeline"] is None
    assert _errors(validator, journal) == []


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda j: j.pop(key)


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def apply(journal: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = journal
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return apply


def _drop_verdict(journal: dict[str, Any]) -> None:
    journal["experiments"][0].pop("verdict")


BROKEN = {
    "no experiments": _drop("experiments"),
    "no environment": _drop("environment"),
    "unknown top-level key": _set("surprise", 1),
    "schema version 2": _set("schema_version", 2),
    "experiments not a list": _set("experiments", {}),
    "experiment without verdict": _drop_verdict,
    "unknown outcome": _set("experiments/0/outcome", "exploded"),
    "verdict passed as text": _set("experiments/0/verdict/passed", "yes"),
    "p99 as text": _set("experiments/0/timeline/latency/reactions/0/p99_ms", "fast"),
    "error rate above 1": _set("experiments/0/timeline/latency/reactions/0/error_rate", 1.5),
    "unknown phase": _set("experiments/0/timeline/phases/0/name", "lunch"),
    "probe point of three": _set("experiments/0/timeline/probes/queue_depth/0", [0, 1, 2]),
    "ledger lost as a count": _set("experiments/0/ledger/lost", 3),
    "fault without target": _set("experiments/0/faults/0", {"kind": "latency"}),
    "unknown probe hint": _set("experiments/0/timeline/probe_hints/queue_depth/colour", "red"),
    "probe hint without unit": lambda j: j["experiments"][0]["probes"]["hints"]["queue_depth"].pop(
        "unit"
    ),
    "state label a number": _set("experiments/2/timeline/probe_hints/breaker/states/0", [0, 1]),
    "negative state": _set("experiments/2/timeline/probe_hints/breaker/states/0", [-1, "x"]),
    "no states as []": _set("experiments/2/timeline/probe_hints/breaker/states", []),
    "docstrings without module": lambda j: j["experiments"][0]["docstrings"].pop("module"),
    # experiments/3 carries a synthetic delivery lag (the `lagged_journal` fixture)
    "lag p99 as text": _set("experiments/3/delivery_lag/phases/fault/p99_s", "slow"),
    "lag of an unknown phase": lambda j: j["experiments"][3]["delivery_lag"]["phases"].update(
        lunch=j["experiments"][3]["delivery_lag"]["phases"]["fault"]
    ),
    "lag phase without undelivered": lambda j: j["experiments"][3]["delivery_lag"]["phases"][
        "fault"
    ].pop("undelivered"),
    "lag interval of no one": _set("experiments/3/delivery_lag/series/0/accepted", 0),
    "lag interval before t0": _set("experiments/3/delivery_lag/series/0/t", -1.0),
    "lag without marks": lambda j: j["experiments"][3]["delivery_lag"].pop("marks"),
    "lag interval of 0 s": _set("experiments/3/delivery_lag/interval_s", 0),
}


def test_a_journal_from_before_probe_hints_and_docstrings_is_still_version_1(
    validator: jsonschema.Draft202012Validator, journal: dict[str, Any]
) -> None:
    for exp in journal["experiments"]:
        del exp["docstrings"], exp["timeline"]["probe_hints"]
        if exp["probes"]:
            del exp["probes"]["hints"]
    assert _errors(validator, journal) == []


@pytest.mark.parametrize("mutate", BROKEN.values(), ids=BROKEN.keys())
def test_broken_journals_are_rejected(
    validator: jsonschema.Draft202012Validator,
    lagged_journal: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    mutate(lagged_journal)
    assert _errors(validator, lagged_journal) != []


def test_a_journal_with_delivery_lag_is_valid_and_without_it_too(
    validator: jsonschema.Draft202012Validator, lagged_journal: dict[str, Any]
) -> None:
    lagged = [e for e in lagged_journal["experiments"] if e.get("delivery_lag")]
    assert len(lagged) == 3
    assert _errors(validator, lagged_journal) == []
    lagged_journal["experiments"][1]["delivery_lag"] = None  # measured none
    del lagged_journal["experiments"][2]["delivery_lag"]  # an older journal
    assert _errors(validator, lagged_journal) == []


def test_a_recorded_delivery_lag_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    from chaos.experiment import Run, delivery_lag

    now = time.time()
    run = Run({}, None, {"baseline": now, "fault": now + 1, "recovery": now + 2, "end": now + 3})
    record = ExperimentRecord(id="t.py::test_x", name="test_x", module="t")
    record.observe(delivery_lag({"a": now - 0.5, "b": now + 1.5}, {"a": [now]}, run))
    record.outcome, record.ended_at = "passed", time.time()
    journal = json.loads(json.dumps(build_journal([record], environment("local"), now)))
    lag = journal["experiments"][0]["delivery_lag"]
    assert list(lag["phases"]) == ["warmup", "baseline", "fault", "recovery"]
    assert lag["phases"]["fault"]["undelivered"] == 1
    assert _errors(validator, journal) == []
