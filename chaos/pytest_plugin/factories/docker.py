"""The docker backend: the proxy server and RabbitMQ as containers on the run's network."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from chaos.pytest_plugin._config import ChaosConfig
from chaos.pytest_plugin._stash import DOCKER_RUNS, PROXY_SERVER, ProxyServerInfo
from chaos.pytest_plugin.factories._common import ToxiproxyServer, alias, allocator
from chaos.runtime import Broker, HttpReady
from chaos.runtime.cluster import BrokerCluster
from chaos.runtime.docker import (
    Container,
    DockerRabbitMQ,
    DockerRabbitMQCluster,
    DockerSession,
    ImageMissing,
    unavailable_reason,
)

__all__ = ["broker", "cluster", "proxy_server", "session"]


def session(request: pytest.FixtureRequest) -> Iterator[DockerSession]:
    """A labelled network for this run; the test skips, with the reason, without an engine."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"docker backend: {reason}")
    with DockerSession() as run:
        yield run
    left = run.leftovers()
    if any(left.values()):
        pytest.fail(f"docker objects of run {run.run} left after cleanup: {left}")
    request.config.stash[DOCKER_RUNS].append(run.run)  # for the summary: all removed


def _image(
    request: pytest.FixtureRequest, run: DockerSession, config: ChaosConfig, name: str
) -> str:
    image: str = getattr(config, name)
    try:
        run.require_image(image, f"{name}={image}")
    except ImageMissing as exc:
        pytest.fail(
            f"pytest-chaos could not set up {request.fixturename!r}: {exc} "
            f"({name} from {config.sources[name]})",
            pytrace=False,
        )
    return image


def proxy_server(
    request: pytest.FixtureRequest, config: ChaosConfig, session_fixture: str
) -> Iterator[ToxiproxyServer]:
    """The proxy server as a container on the run's network, its API published on loopback."""
    if config.toxiproxy_url:
        pytest.fail(
            f"--toxiproxy-url ({config.sources['toxiproxy_url']}) cannot be combined with "
            "--chaos-backend docker: the proxy server must sit on the containers' network; "
            "hint: choose its image with --chaos-proxy-image instead",
            pytrace=False,
        )
    run: DockerSession = request.getfixturevalue(session_fixture)
    image = _image(request, run, config, "chaos_proxy_image")
    ports = allocator(config)
    port = ports.allocate()
    url = f"http://127.0.0.1:{port}"
    name = alias(str(request.fixturename), "toxiproxy_server", "toxiproxy")
    container = Container(
        run,
        name,
        image,  # its own command: ours and Toxiproxy's images both serve on 0.0.0.0:8474
        aliases=[name],
        ports={8474: port},
        readiness=HttpReady(f"{url}/version"),
    )
    ports.release(port)  # the engine's port forwarder binds it now
    with container:
        began = time.monotonic()
        container.start()
        boot = time.monotonic() - began
        request.config.stash[PROXY_SERVER] = ProxyServerInfo(url, False, image)
        yield ToxiproxyServer(url, container, "0.0.0.0", name, boot)


def broker(
    request: pytest.FixtureRequest, config: ChaosConfig, session_fixture: str
) -> Iterator[Broker]:
    """A container of the `chaos_rabbitmq_image` setting; the same handle as a local node."""
    run: DockerSession = request.getfixturevalue(session_fixture)
    image = _image(request, run, config, "chaos_rabbitmq_image")
    # Roles name containers: a second broker fixture gets its own.
    node = DockerRabbitMQ(
        run,
        image,
        alias=alias(str(request.fixturename), "rabbitmq_proc", "rabbitmq"),
        allocator=allocator(config),
    )
    with node:
        yield node


def cluster(
    request: pytest.FixtureRequest, config: ChaosConfig, session_fixture: str
) -> Iterator[BrokerCluster]:
    """One container of the `chaos_rabbitmq_image` setting per node, on the run's network."""
    run: DockerSession = request.getfixturevalue(session_fixture)
    image = _image(request, run, config, "chaos_rabbitmq_image")
    nodes = DockerRabbitMQCluster(
        run,
        image,
        config.chaos_cluster_size,
        prefix=alias(str(request.fixturename), "rabbitmq_cluster", "rabbit"),
        allocator=allocator(config),
    )
    with nodes:
        yield nodes
