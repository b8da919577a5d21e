"""Recording experiments: the `experiment` fixture, outcomes, the journal, report and summary.

Under pytest-xdist each worker records its own experiments and sends them, as journal
entries, to the controller when it goes down (`workeroutput`); the controller writes the one
journal and report of the session and prints the summary.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pytest

from chaos._observe import observe
from chaos._timeline import Timeline
from chaos.pytest_plugin._config import CONFIG
from chaos.pytest_plugin._stash import EXPERIMENTS, FROM_WORKERS, PROXY_SERVER, RECORDS

if TYPE_CHECKING:  # the instruments load when an experiment runs, not with the plugin
    from chaos.experiment import Experiment, Plan, Probe, RateProfile, Run, Target
    from chaos.report._journal import ExperimentRecord

__all__ = [
    "experiment",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_testnodedown",
]

RECORD: pytest.StashKey[ExperimentRecord] = pytest.StashKey()
_STARTED = pytest.StashKey[float]()
_WORKER_OUTPUT = "pytest_chaos"
"""The key of a worker's journal (JSON text) in xdist's `workeroutput`."""


def _docstring(owner: object) -> str:
    return inspect.getdoc(owner) or ""


def _experiment_marks(item: pytest.Item) -> dict[str, Any]:
    """The `experiment` markers' arguments, the closest mark winning per argument (so a
    parameter's `experiment(path=...)` keeps the module's `pair`)."""
    merged: dict[str, Any] = {}
    for mark in item.iter_markers("experiment"):
        for key, value in mark.kwargs.items():
            merged.setdefault(key, value)
    return merged


def _protection(item: pytest.Item) -> str | None:
    """The protection a `chaos.negative_control` removes; None for anything else.

    Only a strict xfail made by it proves a protection necessary.
    """
    xfail = item.get_closest_marker("xfail")
    strict = xfail is not None and xfail.kwargs.get("strict", item.config.getini("xfail_strict"))
    marker = item.get_closest_marker("chaos_control")
    return str(marker.kwargs["protection"]) if strict and marker is not None else None


def _progress(config: pytest.Config, name: str) -> Callable[[str], None]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not reporter.isatty:
        return lambda text: None

    def show(text: str) -> None:
        # A live line while a long experiment runs; cleared when it ends.
        reporter.rewrite(f"  {name}: {text}" if text else "", erase=True)

    return show


@pytest.fixture
def experiment(request: pytest.FixtureRequest, chaos: Timeline) -> Iterator[Experiment]:
    """`experiment(plan, loads, fault, probes=None)` runs the phases of a `chaos.Plan` under
    open-loop load (`loads`: name -> (target, requests per second or a `chaos.steps` /
    `chaos.burst` profile)), applying `fault()` for
    the fault phase, and returns the `chaos.Run`. Everything is recorded in the journal and
    report: the run, the fault timeline, every verdict and ledger check of the test, and its
    last `chaos.delivery_lag`; key figures become JUnit XML properties. Mark the test
    `@pytest.mark.experiment(pair=..., path=...)` to show experiments side by side."""
    from chaos.experiment import DeliveryLag, run_phases
    from chaos.report._journal import ExperimentRecord

    item = request.node
    protection = _protection(item)
    marked = _experiment_marks(item)
    record = ExperimentRecord(
        id=item.nodeid,
        name=item.name,
        module=item.module.__name__ if getattr(item, "module", None) else "",
        doc=_docstring(getattr(item, "function", None)),
        module_doc=_docstring(getattr(item, "module", None)),
        pair=marked.get("pair"),
        path=marked.get("path"),
        negative_control=protection is not None,
        protection=protection,
        timeline=chaos,
    )
    item.stash[RECORD] = record
    request.config.stash[RECORDS].append(record)
    progress = _progress(request.config, item.name)

    def run(
        plan: Plan,
        loads: Mapping[str, tuple[Target, float | RateProfile]],
        fault: Callable[[], AbstractContextManager[Any]],
        probes: Mapping[str, Probe] | None = None,
        probe_interval: float = 0.25,
    ) -> Run:
        result = run_phases(plan, loads, fault, probes, probe_interval, progress=progress)
        record.runs.append(result)
        for name, value in result.figures().items():
            item.user_properties.append((name, value))
        return result

    def note(result: object) -> None:
        record.observe(result)
        if isinstance(result, DeliveryLag):  # JUnit properties: benches read the lag's spread
            item.user_properties.extend(result.figures().items())

    with observe(note):
        yield run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if hasattr(report, "wasxfail") and call.excinfo is not None and _protection(item):
        _fail_if_inconclusive(report, call.excinfo.value)
    record = item.stash.get(RECORD, None)
    if record is None:
        return report
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if hasattr(report, "wasxfail"):
            record.outcome = "xfailed" if report.skipped else "xpassed"
        else:
            record.outcome = report.outcome if report.when == "call" else "error"
        if call.excinfo is not None:
            record.message = call.excinfo.exconly().splitlines()[0][:500]
    if report.when == "teardown":
        record.ended_at = time.time()
        if report.outcome == "failed" and record.outcome == "passed":
            record.outcome = "error"
            record.message = "teardown failed: " + str(report.longrepr)[:300]
    return report


def _fail_if_inconclusive(report: pytest.TestReport, error: BaseException) -> None:
    """A control whose experiment was too short of data to judge proves nothing: it fails, as
    an inconclusive experiment does, instead of counting as the expected failure."""
    from chaos.experiment import InsufficientData

    if isinstance(error, InsufficientData):
        del report.wasxfail
        report.outcome = "failed"
        report.sections.append(
            (
                "pytest-chaos",
                "negative control inconclusive: it failed for want of data, not because the "
                "protection was removed, so it does not prove the protection necessary",
            )
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist, on the controller: keep what a worker recorded (it sends it as it goes down)."""
    sent = getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT)
    if sent:
        node.config.stash.setdefault(FROM_WORKERS, []).append(json.loads(sent))


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    records = config.stash.get(RECORDS, [])
    workers = config.stash.get(FROM_WORKERS, [])
    if not records and not workers:
        return
    settings = config.stash[CONFIG]
    from chaos.report._journal import build_journal, environment, to_json, write_journal

    server = config.stash.get(PROXY_SERVER, None)
    env = environment(
        settings.chaos_backend,
        server.to_dict() if server is not None else None,
        settings.chaos_packages,
    )
    experiments = [record.to_dict() for record in records]
    if hasattr(config, "workeroutput"):  # an xdist worker: the controller writes the journal
        config.workeroutput[_WORKER_OUTPUT] = to_json(
            {"experiments": experiments, "environment": env}
        )
        return
    for sent in workers:
        experiments.extend(sent["experiments"])
    # Module by module, as one process runs them; in a module, in the order they began.
    experiments.sort(key=lambda e: (e["module"], e["started_at"]))
    config.stash[EXPERIMENTS] = experiments
    if settings.chaos_journal is None and settings.chaos_report is None:
        return
    if server is None and workers:
        # Each worker had its own proxy server; the journal names the first one's.
        env = {**env, "proxy_server": workers[0]["environment"]["proxy_server"]}
    if workers:
        env["xdist_workers"] = len(workers)
    journal = build_journal(experiments, env, config.stash.get(_STARTED, time.time()))
    if settings.chaos_journal is not None:
        write_journal(settings.chaos_journal, journal)
    if settings.chaos_report is not None:
        from chaos.report import write_report

        write_report(settings.chaos_report, journal)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    experiments = terminalreporter.config.stash.get(EXPERIMENTS, [])
    if not experiments:
        return
    terminalreporter.section("chaos experiments")
    width = max(len(e["name"]) for e in experiments)
    for entry in experiments:
        verdict = entry["verdict"]
        mark = (
            "HOLDS " if verdict["passed"] else "INCONC" if verdict.get("inconclusive") else "BROKEN"
        )
        seconds = entry["duration_s"] or 0.0
        reason = verdict["reason"].replace("\n", " ")
        terminalreporter.write_line(
            f"{mark} {entry['name']:<{width}} {seconds:5.1f} s  {reason[:110]}",
            green=verdict["passed"],
            red=not verdict["passed"],
        )
    controls = {e["protection"]: e["verdict"]["passed"] for e in experiments if e["protection"]}
    if controls:
        terminalreporter.write_line(
            f"protections proven necessary: {sum(controls.values())} of {len(controls)}"
        )
    settings = terminalreporter.config.stash[CONFIG]
    for label, path in (("journal", settings.chaos_journal), ("report", settings.chaos_report)):
        if path is not None:
            terminalreporter.write_line(f"{label}: {path}")
