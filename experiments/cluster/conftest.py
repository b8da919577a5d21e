"""The cluster experiments' fixtures: the sample system on `rabbitmq_cluster`, load targets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import chaos
from fixtures.cluster import ClusterSystem, cluster_stack, cluster_system
from fixtures.targets import reaction_target

__all__ = ["cluster_stack", "cluster_system", "reactions"]


@pytest.fixture
def reactions(cluster_system: ClusterSystem) -> Iterator[chaos.RecordingTarget]:
    """POST /reactions at the cluster stack's gateway; feeds the ledger check."""
    yield reaction_target(cluster_system.gateway_url)
