"""The pytest plugin of pytest-chaos (its pytest11 entry point).

Fixtures (`pytest --fixtures` shows each one's use): `toxiproxy_server` (session), `toxiproxy`
(a client), `proxy` (makes proxies with fault blocks), `chaos` (the fault timeline),
`experiment` (phased runs recorded in the journal and report), `rabbitmq_proc` (session
broker), `rabbitmq_cluster` (session cluster), `rabbitmq` (a pika connection), `service`
(supervised processes), `chaos_docker` (the run's Docker network, on the docker backend).
More instances of any of them: `chaos.pytest_plugin.factories`.
Settings: `chaos.get_config(request)`.

Loading the plugin imports neither pika nor the docker SDK: they load with the fixtures that
use them.
"""

from __future__ import annotations

import os

import pytest

from chaos.pytest_plugin import factories
from chaos.pytest_plugin._config import (
    CONFIG,
    ChaosConfig,
    add_options,
    get_config,
    options,
    resolve,
)
from chaos.pytest_plugin._recording import (  # noqa: F401  (fixture and hooks, found by name)
    experiment,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_terminal_summary as _experiments_summary,
    pytest_testnodedown,
)
from chaos.pytest_plugin._stash import BROKERS, DOCKER_RUNS, RECORDS, SKIPPED_QUEUES

__all__ = ["ChaosConfig", "factories", "get_config"]

toxiproxy_server = factories.toxiproxy_server()
toxiproxy = factories.toxiproxy()
proxy = factories.proxy()
chaos = factories.chaos_timeline()
rabbitmq_proc = factories.rabbitmq_proc()
rabbitmq_cluster = factories.rabbitmq_cluster()
rabbitmq = factories.rabbitmq()
chaos_docker = factories.docker_session()
service = factories.service()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    parser.getgroup("chaos").addoption(
        "--chaos-protections",
        action="store_true",
        help="with --collect-only: print the table protection -> experiment -> negative control "
        "of the collected tests (from chaos.negative_control), as Markdown",
    )


def protection_table(items: list[pytest.Item]) -> list[str]:
    """Markdown rows: every protection, the experiment and the control that proves it."""
    rows = sorted(
        (
            str(marker.kwargs.get("protection", "?")),
            f"`{item.nodeid.split('[')[0]}`",
            f"`{item.name}`",
        )
        for item in items
        if (marker := item.get_closest_marker("chaos_control")) is not None
    )
    head = ["| Protection | Experiment | Negative control |", "|---|---|---|"]
    return head + [f"| {p} | {e} | {c} |" for p, e, c in rows]


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.getoption("chaos_protections", False):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            for line in protection_table(session.items):
                reporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    signature = ", ".join(f"{opt.name}=None" for opt in options())
    config.addinivalue_line(
        "markers", f"chaos({signature}): override pytest-chaos settings for one test"
    )
    config.addinivalue_line(
        "markers", "rabbitmq: needs the local rabbitmq-server package (starts its own node)"
    )
    config.addinivalue_line(
        "markers",
        "experiment(pair=None, path=None): a chaos experiment; experiments with the same pair "
        "(e.g. 'latency') are shown side by side in the report, each labelled by its path "
        "(any name, e.g. 'sync', 'async', 'cluster')",
    )
    config.addinivalue_line(
        "markers",
        "chaos_control(protection): set by chaos.negative_control: this test is the experiment "
        "with `protection` removed, a strict expected failure",
    )
    config.stash[CONFIG] = resolve(config, os.environ)
    config.stash[BROKERS] = []
    config.stash[DOCKER_RUNS] = []
    config.stash[RECORDS] = []
    config.stash[SKIPPED_QUEUES] = []


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[CONFIG]
    shown = ", ".join(
        f"{name}={value} ({settings.sources[name]})"
        for name, value in settings.values()
        if value not in (None, ())
    )
    return [f"pytest-chaos: {shown}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _experiments_summary(terminalreporter)
    config = terminalreporter.config
    for node in config.stash.get(BROKERS, []):
        line = f"rabbitmq {node.node_name}: booted in {node.boot_seconds:.1f} s"
        if node.recovery_seconds is not None:
            line += f", last recovery {node.recovery_seconds:.1f} s"
        terminalreporter.write_line(line)
    for test, queues in config.stash.get(SKIPPED_QUEUES, []):
        terminalreporter.write_line(
            f"rabbitmq teardown of {test} left {len(queues)} exclusive queue(s) of connections "
            f"still open: {', '.join(queues)} (the broker drops them when those close)"
        )
    for run in config.stash.get(DOCKER_RUNS, []):
        terminalreporter.write_line(
            f"docker run {run}: network chaos-{run}, its containers and volumes: all removed"
        )
