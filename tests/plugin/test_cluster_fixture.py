"""`rabbitmq_cluster`: the size setting, the factory, the summary, and a clear setup error."""

from __future__ import annotations

import pytest

from chaos.runtime import netns, rabbitmq_available

pytest_plugins = ["pytester"]

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server is not installed"),
    pytest.mark.timeout(300),
]

TESTS = """
import chaos


def test_the_cluster_has_the_configured_size(rabbitmq_cluster, request):
    assert isinstance(rabbitmq_cluster, chaos.BrokerCluster)
    assert len(rabbitmq_cluster) == len(rabbitmq_cluster.amqp_urls) == 1
    assert chaos.get_config(request).sources["chaos_cluster_size"] == (
        "command line --chaos-cluster-size"
    )
    node = rabbitmq_cluster.nodes[0]
    assert rabbitmq_cluster.cluster_status(node) == [node.node_name]
    assert node.node_name.startswith("rabbit-1@10.231.")
"""


@pytest.mark.skipif(netns.unavailable_reason() is not None, reason="no network namespaces")
def test_the_fixture_gives_a_formed_cluster_of_the_configured_size(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("--chaos-cluster-size", "1", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.re_match_lines([r"rabbitmq rabbit-1@10\.231\.\d+\.11: booted in [\d.]+ s"])
    assert netns.leftovers() == []


def test_a_size_below_one_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--chaos-cluster-size", "0")
    result.stderr.fnmatch_lines(["*invalid --chaos-cluster-size value '0'*at least 1 node*"])


def test_without_network_namespaces_setup_fails_naming_what_is_missing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "import os\nos.geteuid = lambda: 1000  # as an unprivileged user would be\n"
    )
    pytester.makepyfile("def test_x(rabbitmq_cluster): pass")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*could not set up 'rabbitmq_cluster'*need root*uid 1000*hint*--chaos-backend docker*"]
    )
