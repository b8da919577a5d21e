"""The broker-partition gate catches the regression its tolerance claims: a planted 1 s leak.

The real experiment, with 20% of the reactions answered 1000 ms late at the gateway ->
reactions edge during the partition (the group "p99-600" of _planted.py): BROKEN, not
inconclusive, its tolerance having claimed to catch less than 1000 ms.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.experiments._planted import PlantedRun

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(260)]

EXPERIMENT = "experiments/test_broker_partition.py::test_broker_partition_is_contained"


def test_a_planted_1000_ms_leak_makes_the_broker_partition_experiment_broken(
    planted_run: Callable[[str], PlantedRun],
) -> None:
    planted_run("p99-600").assert_broken(EXPERIMENT)
