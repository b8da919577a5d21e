"""The gateway's load targets, fresh for each experiment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures.system import System
from fixtures.targets import FeedTarget, ReactionTarget


@pytest.fixture
def reactions(system: System) -> Iterator[ReactionTarget]:
    yield ReactionTarget(system.gateway_url)


@pytest.fixture
def feed(system: System) -> Iterator[FeedTarget]:
    yield FeedTarget(system.gateway_url)
