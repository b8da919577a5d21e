"""The sync-breaker gate catches the regression its feed tolerance claims: a planted 400 ms leak.

The real experiment (the gateway's breaker on), with 20% of the feed reads answered 400 ms late
by the gateway itself during the fault (no edge carries /feed: the group "p99-250-feed" of
_planted.py): its feed verdict must be BROKEN, not inconclusive, its tolerance having claimed to
catch less than 400 ms.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.experiments._planted import PlantedRun

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(300)]

EXPERIMENT = "experiments/test_sync_breaker.py::test_gateway_breaker_contains_sync_cascade[True]"


def test_a_planted_400_ms_feed_leak_makes_the_sync_breaker_experiment_broken(
    planted_run: Callable[[str], PlantedRun],
) -> None:
    planted_run("p99-250-feed").assert_broken(EXPERIMENT, kind="feed_delay", target="gateway")
