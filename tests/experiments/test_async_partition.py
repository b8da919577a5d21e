"""The async-partition gate catches the regression its tolerance claims: a planted 400 ms leak.

The real experiment, with 20% of the reactions answered 400 ms late at the gateway -> reactions
edge during the partition (the group "p99-150-partition" of _planted.py): its reactions verdict
must be BROKEN, not inconclusive, its tolerance having claimed to catch less than 400 ms. (The
feed, judged with the same tolerance, is not planted: the reactions verdict is judged first.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.experiments._planted import PlantedRun

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(300)]

EXPERIMENT = "experiments/test_async_partition.py::test_partition_on_async_path_is_contained"


def test_a_planted_400_ms_leak_makes_the_async_partition_experiment_broken(
    planted_run: Callable[[str], PlantedRun],
) -> None:
    planted_run("p99-150-partition").assert_broken(EXPERIMENT)
