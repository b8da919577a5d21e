"""The async surge gate catches the regression its tolerance claims: a planted 400 ms leak.

The real async surge experiment, with 20% of the reactions answered 400 ms late at the
gateway -> reactions edge during the surge (the group "p99-150-surge" of _planted.py): BROKEN, not
inconclusive, its tolerance having claimed to catch less than 400 ms.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.experiments._planted import PlantedRun

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(300)]

EXPERIMENT = "experiments/test_load_surge.py::test_surge_on_async_path_is_absorbed"


def test_a_planted_400_ms_leak_makes_the_async_surge_experiment_broken(
    planted_run: Callable[[str], PlantedRun],
) -> None:
    planted_run("p99-150-surge").assert_broken(EXPERIMENT)
