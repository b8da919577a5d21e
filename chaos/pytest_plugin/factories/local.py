"""The local backend: the proxy server and RabbitMQ as child processes on loopback."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator

import pytest

from chaos import __version__
from chaos.pytest_plugin._config import ChaosConfig
from chaos.pytest_plugin._stash import PROXY_SERVER, ProxyServerInfo
from chaos.pytest_plugin.factories._common import (
    ToxiproxyServer,
    allocator,
    fail_setup,
    log_dir,
)
from chaos.runtime import Broker, HttpReady, ManagedProcess, PortExhausted
from chaos.runtime.cluster import BrokerCluster
from chaos.runtime.netns import NetnsUnavailable
from chaos.runtime.rabbitmq import RabbitMQNode, RabbitMQNotInstalled, rabbitmq_available
from chaos.runtime.rabbitmq_cluster import RabbitMQCluster

__all__ = ["broker", "cluster", "proxy_server"]


def proxy_server(request: pytest.FixtureRequest, config: ChaosConfig) -> Iterator[ToxiproxyServer]:
    """Our `chaos-proxy` as a supervised process on a free loopback port."""
    ports = allocator(config)
    try:
        port = ports.allocate()
    except PortExhausted as exc:
        fail_setup(request, config, exc)
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "chaos-proxy",
        [sys.executable, "-m", "chaos.proxy.cli", "-host", "127.0.0.1", "-port", str(port)],
        log_path=log_dir(request, config, "chaos-proxy") / "chaos-proxy.log",
        readiness=HttpReady(f"{url}/version"),
        start_timeout=30.0,
    )
    ports.release(port)  # the server binds it now; the reservation only kept others off
    with process:
        began = time.monotonic()
        process.start()
        boot = time.monotonic() - began
        request.config.stash[PROXY_SERVER] = ProxyServerInfo(
            url, False, f"chaos-proxy {__version__}"
        )
        yield ToxiproxyServer(url, process, boot_seconds=boot)


def broker(request: pytest.FixtureRequest, config: ChaosConfig) -> Iterator[Broker]:
    """A private RabbitMQ node: own ports, data dir and epmd; its files removed after."""
    base = log_dir(request, config, str(request.fixturename))  # two nodes, two dirs
    ports = allocator(config)
    try:
        node = RabbitMQNode(base, server_path=config.rabbitmq_server, allocator=ports)
    except (PortExhausted, RabbitMQNotInstalled) as exc:
        ports.release_all()  # the ports it got before the range ran out
        shutil.rmtree(base, ignore_errors=True)
        fail_setup(request, config, exc)
    with node:
        node.start()
        yield node
    if config.chaos_keep_logs is None:
        shutil.rmtree(base, ignore_errors=True)


def cluster(request: pytest.FixtureRequest, config: ChaosConfig) -> Iterator[BrokerCluster]:
    """Private nodes, each in its own network namespace; namespaces and data removed after."""
    base = log_dir(request, config, str(request.fixturename))
    if not rabbitmq_available(config.rabbitmq_server):
        fail_setup(request, config, RabbitMQNotInstalled(config.rabbitmq_server))
    try:
        nodes = RabbitMQCluster(
            config.chaos_cluster_size,
            base,
            server_path=config.rabbitmq_server,
            allocator=allocator(config),
        )
    except NetnsUnavailable as exc:
        pytest.fail(f"pytest-chaos could not set up {request.fixturename!r}: {exc}", pytrace=False)
    with nodes:
        yield nodes
    if config.chaos_keep_logs is None:
        shutil.rmtree(base, ignore_errors=True)
