"""The planted runs of _planted.py, one per group and session, for the sensitivity tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.experiments import _planted
from tests.experiments._planted import PlantedRun


@pytest.fixture(scope="session")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], PlantedRun]:
    """`planted_run(group)`: the planted run of `_planted.GROUPS[group]`, made once."""
    shared = _planted.shared_dir(tmp_path_factory)
    return lambda name: _planted.planted_run(name, shared)
