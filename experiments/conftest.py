"""The gateway's load targets, and the experiment runner that records its figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chaos.experiment import Run, run_phases
from fixtures.system import System
from fixtures.targets import FeedTarget, ReactionTarget


@pytest.fixture
def reactions(system: System) -> Iterator[ReactionTarget]:
    yield ReactionTarget(system.gateway_url)


@pytest.fixture
def feed(system: System) -> Iterator[FeedTarget]:
    yield FeedTarget(system.gateway_url)


@pytest.fixture
def experiment(record_property: Callable[[str, object], None]) -> Callable[..., Run]:
    """`run_phases`, with every key figure recorded as a JUnit XML property."""

    def run(*args: Any, **kwargs: Any) -> Run:
        result = run_phases(*args, **kwargs)
        for name, value in result.figures().items():
            record_property(name, value)
        return result

    return run
