"""pytest plugin: proxy, broker, process and fault fixtures (the pytest11 entry point).

Fixtures: `toxiproxy_server` (session), `toxiproxy` (client), `proxy` (factory of proxies with
fault context managers), `chaos` (the fault timeline), `experiment` (phased runs recorded in the
journal and report), `rabbitmq_proc` (session broker), `rabbitmq` (pika connection), `service`
(supervised processes), `chaos_docker` (the run's Docker network, on the docker backend). More
instances of any of them:
`chaos.pytest_plugin.factories`.
"""

from __future__ import annotations

import os

import pytest

from chaos.pytest_plugin import factories
from chaos.pytest_plugin._options import OPTIONS, add_options, resolve
from chaos.pytest_plugin._recording import (  # noqa: F401  (fixture and hooks, found by name)
    experiment,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_sessionstart,
)
from chaos.pytest_plugin._recording import pytest_terminal_summary as _experiments_summary
from chaos.pytest_plugin._stash import BROKERS, DOCKER_RUNS, RECORDS, SETTINGS

toxiproxy_server = factories.toxiproxy_server()
toxiproxy = factories.toxiproxy()
proxy = factories.proxy()
chaos = factories.chaos_timeline()
rabbitmq_proc = factories.rabbitmq_proc()
rabbitmq = factories.rabbitmq()
chaos_docker = factories.docker_session()
service = factories.service()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    signature = ", ".join(f"{opt.name}=None" for opt in OPTIONS)
    config.addinivalue_line(
        "markers", f"chaos({signature}): override pytest-chaos settings for one test"
    )
    config.addinivalue_line(
        "markers", "rabbitmq: needs the local rabbitmq-server package (starts its own node)"
    )
    config.addinivalue_line(
        "markers",
        "experiment(pair=None, path=None): a chaos experiment; experiments with the same pair "
        "(e.g. 'latency') are shown side by side, path 'sync' or 'async'",
    )
    config.stash[SETTINGS] = resolve(config, os.environ)
    config.stash[BROKERS] = []
    config.stash[DOCKER_RUNS] = []
    config.stash[RECORDS] = []


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    shown = ", ".join(
        f"{name}={value} ({settings.sources[name]})"
        for name, value in settings.values.items()
        if value is not None
    )
    return [f"pytest-chaos: {shown}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _experiments_summary(terminalreporter)
    for node in terminalreporter.config.stash.get(BROKERS, []):
        line = f"rabbitmq {node.node_name}: booted in {node.boot_seconds or 0:.1f} s"
        if node.recovery_seconds is not None:
            line += f", last recovery {node.recovery_seconds:.1f} s"
        terminalreporter.write_line(line)
    for run in terminalreporter.config.stash.get(DOCKER_RUNS, []):
        terminalreporter.write_line(
            f"docker run {run}: network chaos-{run}, its containers and volumes: all removed"
        )
