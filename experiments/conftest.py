"""The gateway's load targets, fresh for each experiment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos.experiment._targets import HttpTarget
from fixtures.system import System
from fixtures.targets import ReactionTarget, feed_target


@pytest.fixture
def reactions(system: System) -> Iterator[ReactionTarget]:
    yield ReactionTarget(system.gateway_url)


@pytest.fixture
def feed(system: System) -> Iterator[HttpTarget]:
    yield feed_target(system.gateway_url)
