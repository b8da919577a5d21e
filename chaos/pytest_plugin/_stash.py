"""Keys of what the plugin keeps in `config.stash` and `item.stash`, and the types kept.

The settings key, `CONFIG`, lives with `ChaosConfig` in `_config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from chaos._timeline import Timeline

if TYPE_CHECKING:  # the journal imports the instruments; the plugin loads them on first use
    from chaos.report._journal import ExperimentRecord


@dataclass(frozen=True)
class BrokerFigures:
    """A broker's start-up figures, kept for the terminal summary once it has stopped."""

    node_name: str
    boot_seconds: float
    recovery_seconds: float | None


@dataclass(frozen=True)
class ProxyServerInfo:
    """Which proxy server the session used, for the journal."""

    url: str
    external: bool
    version: str

    def to_dict(self) -> dict[str, object]:
        return {"url": self.url, "external": self.external, "version": self.version}


TIMELINE = pytest.StashKey[Timeline]()
BROKERS = pytest.StashKey[list[BrokerFigures]]()
RECORDS: pytest.StashKey[list[ExperimentRecord]] = pytest.StashKey()
FROM_WORKERS = pytest.StashKey[list[dict[str, Any]]]()
"""Under pytest-xdist, on the controller: the workers' journals, as each worker went down."""
EXPERIMENTS = pytest.StashKey[list[dict[str, Any]]]()
"""Every experiment of the session (all workers'), as journal entries: set at session end."""
PROXY_SERVER = pytest.StashKey[ProxyServerInfo]()
DOCKER_RUNS = pytest.StashKey[list[str]]()
SKIPPED_QUEUES = pytest.StashKey[list[tuple[str, list[str]]]]()
"""(test id, exclusive queues) that the `rabbitmq` teardown left alone, for the summary."""
