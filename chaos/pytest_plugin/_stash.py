"""Keys of what the plugin keeps in `config.stash` and `item.stash`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    pass

SETTINGS = pytest.StashKey["Settings"]()
TIMELINE = pytest.StashKey["Timeline"]()
BROKERS = pytest.StashKey["list[RabbitMQNode]"]()
RECORDS = pytest.StashKey["list[ExperimentRecord]"]()
PROXY_SERVER = pytest.StashKey["dict[str, object]"]()
DOCKER_RUNS = pytest.StashKey["list[str]"]()
