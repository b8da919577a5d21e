"""Setup errors say what failed, the setting behind it, where that came from, and what to do."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from chaos.runtime import rabbitmq_available

pytest_plugins = ["pytester"]

CONFTEST = """
from chaos.pytest_plugin import factories

rabbit_short = factories.rabbitmq_proc(
    server_path="/usr/lib/rabbitmq/bin/rabbitmq-server", port_range="{free}-{free}"
)
"""

TESTS = """
import pytest

from chaos.runtime import PortAllocator, rabbitmq_available


def test_proxy_port_range_taken(toxiproxy_server):
    pass


def test_rabbitmq_server_missing(rabbitmq_proc):
    pass


@pytest.mark.skipif(not rabbitmq_available(), reason="rabbitmq-server not installed")
def test_rabbitmq_port_range_exhausted(rabbit_short):
    pass  # a node needs four ports; its range has one


def test_the_failed_node_released_the_port_it_got():
    allocator = PortAllocator("{free}-{free}")
    assert allocator.allocate() == {free}
    allocator.release_all()
"""


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(60)
def test_setup_errors_are_clear(pytester: pytest.Pytester, taken_port: int) -> None:
    free = free_port()
    pytester.makeconftest(CONFTEST.format(free=free))
    pytester.makepyfile(test_errors=TESTS.format(free=free))
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rabbitmq-server",
        "/nonexistent",
        "--chaos-port-range",
        f"{taken_port}-{taken_port}",
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_proxy_port_range_taken*",
            f"pytest-chaos could not set up 'toxiproxy_server': every port in "
            f"{taken_port}-{taken_port} on 127.0.0.1 is in use or reserved",
            f"chaos_port_range={taken_port}-{taken_port} (from command line --chaos-port-range); "
            "hint: widen --chaos-port-range*",
            "*ERROR at setup of test_rabbitmq_server_missing*",
            "pytest-chaos could not set up 'rabbitmq_proc': RabbitMQ server script not found at "
            "'/nonexistent'",
            "rabbitmq_server=/nonexistent (from command line --rabbitmq-server); "
            "hint: install it (`apt-get install -y rabbitmq-server` on Debian/Ubuntu)*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    if rabbitmq_available():
        result.stdout.fnmatch_lines(
            [
                f"pytest-chaos could not set up 'rabbit_short': every port in {free}-{free} *",
                f"chaos_port_range={free}-{free} (from factory argument); hint: widen*",
            ]
        )
        result.assert_outcomes(passed=1, errors=3)
    else:
        result.assert_outcomes(passed=1, errors=2, skipped=1)
