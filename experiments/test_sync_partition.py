"""Hypothesis: a partition on the synchronous chain reaches the gateway as errors or timeouts.

The push provider becomes unreachable from notifications: either its proxy is down (connections
refused) or the link black-holes data (a timeout toxic). Every reaction waits on that call, so
the gateway fails or times out: the failure cascades.
"""

from __future__ import annotations

import pytest

from chaos import Experiment, HttpTarget, RecordingTarget, assert_cascade
from fixtures.plans import FEED_RATE, PLAN, REACTION_RATE
from fixtures.system import System

pytestmark = pytest.mark.experiment(pair="partition", path="sync")


# What a caller waits for at most before notifications gives up on the provider.
PUSH_TIMEOUT_MS = 2000


@pytest.mark.parametrize("partition", ["down", "blackhole"])
def test_partition_on_sync_chain_fails_the_gateway(
    experiment: Experiment,
    system: System,
    reactions: RecordingTarget,
    feed: HttpTarget,
    partition: str,
) -> None:
    system.set_mode("sync")
    edge = system.proxy("notifications-push")
    fault = edge.down if partition == "down" else (lambda: edge.timeout(0))
    run = experiment(
        PLAN, {"reactions": (reactions, REACTION_RATE), "feed": (feed, FEED_RATE)}, fault=fault
    )
    assert_cascade(
        run.phase("reactions", "baseline"),
        run.phase("reactions", "fault"),
        PUSH_TIMEOUT_MS,
        error_rate_margin=0.5,
    )
