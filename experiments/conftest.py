"""The gateway's load targets, fresh for each experiment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import chaos
from fixtures.system import System
from fixtures.targets import feed_target, reaction_target


@pytest.fixture
def reactions(system: System) -> Iterator[chaos.RecordingTarget]:
    """POST /reactions at the gateway; `.accepted` and `.unknown` feed the ledger check."""
    yield reaction_target(system.gateway_url)


@pytest.fixture
def feed(system: System) -> Iterator[chaos.HttpTarget]:
    """GET /feed at the gateway: work that never touches notifications."""
    yield feed_target(system.gateway_url)
