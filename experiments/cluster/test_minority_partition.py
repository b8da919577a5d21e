"""Hypothesis: a minority partition of the cluster loses nothing; its clients fail over.

Three RabbitMQ nodes with pause_minority, the work queue a quorum queue. Both clients are
placed on one node, which is then cut off from the other two (all traffic between the nodes
dropped; the clients still reach every node through their proxies) under load. The cut-off
node finds itself in the minority and pauses: it closes its clients' connections, and they
fail over to the majority, where the queue (a new leader, if it led) goes on. After the heal
the node rejoins, and every accepted reaction is delivered exactly once. The cost is measured:
how long the clients stayed on the minority, and the delivery lag of the reactions accepted
during the partition.
"""

from __future__ import annotations

import dataclasses

import pytest

from chaos import Experiment, RecordingTarget, Run, delivery_lag, judge
from fixtures.cluster import ClusterSystem
from fixtures.plans import PLAN, REACTION_RATE, assert_accepted

pytestmark = pytest.mark.experiment()

# The minority notices it is alone after net_ticktime (5 s, up to 1.25x that) and pauses; the
# fault phase lasts long enough for that and for the clients to move.
PARTITION_PLAN = dataclasses.replace(PLAN, fault=12.0)


def test_minority_partition_loses_nothing_and_clients_fail_over(
    experiment: Experiment, cluster_system: ClusterSystem, reactions: RecordingTarget
) -> None:
    system = cluster_system
    minority = system.leader()  # the hardest case: the queue's leader is cut off too
    system.attach(minority)
    system.set_mode("async")
    name = system.cluster[minority].node_name
    run = experiment(
        PARTITION_PLAN,
        {"reactions": (reactions, REACTION_RATE)},
        fault=lambda: system.partitioned(minority),
        probes={"outbox": system.outbox_size, "clients_on_minority": system.clients_on(minority)},
    )
    cut = [e for e in system.timeline.events if e.kind == "partition"][-1]
    assert cut.applied_at is not None, cut
    on_minority = _during_fault(run, "clients_on_minority", cut.applied_at)
    assert on_minority, "the probe of the clients on the minority recorded nothing in the fault"
    moved_after_s = next((t for t, n in on_minority if n == 0), None)
    judge(
        "clients_failed_over",
        moved_after_s is not None and on_minority[-1][1] == 0,
        f"both clients on {name} when it was cut off; "
        + (
            f"none left on it {moved_after_s:.1f} s into the partition"
            if moved_after_s is not None
            else f"still {on_minority[-1][1]:g} on it at the end of the partition"
        )
        + f" (last sample: {on_minority[-1][1]:g})",
        minority=name,
        clients_left_minority_after_s=moved_after_s,
    )
    assert_accepted(run)
    ledger = system.check_ledger(reactions.accepted, reactions.unknown)
    # The cost, in the journal and the report: the lag of the reactions accepted meanwhile.
    delivery_lag(reactions.accepted_at, system.delivered_at(), run)
    ledger.assert_ok()


def _during_fault(run: Run, name: str, since: float) -> list[tuple[float, float]]:
    """(seconds after `since`, value) of probe `name`, sampled from `since` (a unix time) to
    the end of the fault phase."""
    assert run.probes is not None and run.probes_started_wall is not None, "no probes ran"
    start, end = since, run.marks["recovery"]
    points = [(run.probes_started_wall + t, value) for t, value in run.probes["series"][name]]
    return [(at - start, value) for at, value in points if start <= at < end]
