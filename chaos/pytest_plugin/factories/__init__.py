"""Fixture factories: each returns a pytest fixture, so a second instance takes one line.

    from chaos.pytest_plugin import factories
    toxiproxy_server2 = factories.toxiproxy_server()
    rabbitmq_proc2 = factories.rabbitmq_proc(port_range="31000-31999")

Each backend has its module (`local`, `docker`, `external`); the factories here choose one from
the settings (`chaos.get_config`) and import it only then, so pika and the docker SDK load only
when a fixture that needs them runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chaos._timeline import Timeline, active
from chaos.pytest_plugin._stash import BROKERS, SKIPPED_QUEUES, TIMELINE, BrokerFigures
from chaos.pytest_plugin.factories._common import (
    ToxiproxyServer,
    allocator,
    config_for,
    fail_rollback,
    fail_setup,
    log_dir,
    substitute_port,
    xdist_workers,
)

if TYPE_CHECKING:
    import pika

    from chaos.client import Toxiproxy
    from chaos.experiment import ProxyHandle
    from chaos.runtime import Broker, ManagedProcess, Readiness
    from chaos.runtime.cluster import BrokerCluster
    from chaos.runtime.docker import DockerSession

__all__ = [
    "ToxiproxyServer",
    "chaos_timeline",
    "docker_session",
    "proxy",
    "rabbitmq",
    "rabbitmq_cluster",
    "rabbitmq_proc",
    "service",
    "toxiproxy",
    "toxiproxy_server",
]

Fixture = Callable[..., Any]


def docker_session(scope: str = "session") -> Fixture:
    """Fixture factory: the run's Docker network (see `chaos_docker`)."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload, untyped-decorator]
    def chaos_docker(request: pytest.FixtureRequest) -> Iterator[DockerSession]:
        """The run's Docker network; every container, network and volume of the run removed
        after. Skips the tests that need it, with the reason, when no Docker engine answers."""
        from chaos.pytest_plugin.factories import docker

        yield from docker.session(request)

    return chaos_docker  # type: ignore[no-any-return]


def toxiproxy_server(
    url: str | None = None, scope: str = "session", docker: str = "chaos_docker"
) -> Fixture:
    """Fixture factory: a proxy server; `url` uses a running one; `docker` names the session."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload, untyped-decorator]
    def toxiproxy_server(request: pytest.FixtureRequest) -> Iterator[ToxiproxyServer]:
        """A Toxiproxy-compatible server for the session: our `chaos-proxy` as a process (a
        container on the docker backend), or the one at --toxiproxy-url. `.url` is its API."""
        config = config_for(request, toxiproxy_url=url)
        if config.chaos_backend == "docker":
            from chaos.pytest_plugin.factories import docker as backend

            yield from backend.proxy_server(request, config, docker)
        elif config.toxiproxy_url:
            from chaos.pytest_plugin.factories import external

            yield from external.proxy_server(request, config)
        else:
            from chaos.pytest_plugin.factories import local

            yield from local.proxy_server(request, config)

    return toxiproxy_server  # type: ignore[no-any-return]


def chaos_timeline() -> Fixture:
    """Fixture factory: the test's fault timeline (see `chaos`)."""

    @pytest.fixture
    def chaos(request: pytest.FixtureRequest) -> Iterator[Timeline]:
        """The test's fault timeline: `with chaos.fault(kind, target, apply, rollback):` applies
        a fault for the block and always rolls it back. Built-in faults (a broker's or a
        service's `crashed()`, `paused()`, a proxy's toxics) land here too, whoever calls them;
        faults still open at teardown are rolled back."""
        timeline = Timeline()
        request.node.stash[TIMELINE] = timeline
        with active(timeline):
            yield timeline
        fail_rollback(timeline.rollback_all())

    return chaos


def toxiproxy(server: str = "toxiproxy_server", timeline: str = "chaos") -> Fixture:
    """Fixture factory: a client of the `server` fixture, its faults on `timeline`."""

    @pytest.fixture
    def toxiproxy(request: pytest.FixtureRequest) -> Iterator[Toxiproxy]:
        """A `chaos.client.Toxiproxy` client of the session's proxy server. Teardown rolls back
        open faults, resets the server and fails if a toxic survived (not on a server shared by
        xdist workers: a reset would remove the faults of other workers' tests)."""
        from chaos.client import Toxiproxy

        handle: ToxiproxyServer = request.getfixturevalue(server)
        tl: Timeline = request.getfixturevalue(timeline)
        config = config_for(request)
        marked = config.sources["toxiproxy_url"].startswith("marker")
        url = config.toxiproxy_url if marked and config.toxiproxy_url else handle.url
        shared = (handle.external or url != handle.url) and xdist_workers() > 1
        with Toxiproxy(url) as api:
            yield api
            # Faults left open (on handles made by hand too) are undone while this client is
            # open: the timeline's own teardown runs after ours.
            failures = tl.rollback_all()
            if not shared:
                api.reset()
                survivors = {
                    name: [t.name for t in p.toxics]
                    for name, p in api.proxies().items()
                    if p.toxics
                }
                if survivors:
                    failures.append(f"toxics survived the reset of {url}: {survivors}")
            fail_rollback(failures)

    return toxiproxy


def proxy(client: str = "toxiproxy", timeline: str = "chaos") -> Fixture:
    """Fixture factory: makes proxies with the `client` fixture, faults on `timeline`."""

    @pytest.fixture
    def proxy(request: pytest.FixtureRequest) -> Iterator[Callable[..., ProxyHandle]]:
        """`proxy(upstream, name=None, listen=None)` makes a proxy in front of `upstream`
        ("host:port") and returns a `chaos.ProxyHandle`: connect to `.address`, and
        `with handle.latency(200):`, `.down()`, `.timeout()`, ... fault it for a block. Every
        proxy made is deleted at teardown. With the plugin's own local server, the default
        `listen` is a port reserved for the test outside the kernel's ephemeral range, so the
        proxy gets it back after `.down()`; otherwise the server chooses ("127.0.0.1:0")."""
        from chaos.client import ProxyNotFound
        from chaos.experiment import ProxyHandle

        api: Toxiproxy = request.getfixturevalue(client)
        tl: Timeline = request.getfixturevalue(timeline)
        config = config_for(request)
        own_local_server = config.toxiproxy_url is None and config.chaos_backend == "local"
        ports = allocator(config) if own_local_server else None
        made: list[str] = []

        def make(upstream: str, name: str | None = None, listen: str | None = None) -> ProxyHandle:
            name = name or f"{request.node.name[:40]}-{len(made) + 1}".replace("/", "_")
            if listen is None:
                listen = f"127.0.0.1:{ports.allocate() if ports else 0}"
            model = api.create_proxy(name, upstream=upstream, listen=listen)
            made.append(model.name)
            return ProxyHandle(api, model, tl)

        yield make
        # Faults left open are rolled back here, while their proxies exist and the client is
        # open: the timeline's own teardown runs after the client's, too late.
        failures = tl.rollback_all()
        for name in made:
            with contextlib.suppress(ProxyNotFound):
                api.delete_proxy(name)
        if ports:
            ports.release_all()
        fail_rollback(failures)

    return proxy


def rabbitmq_proc(
    server_path: str | None = None,
    port_range: str | None = None,
    scope: str = "session",
    docker: str = "chaos_docker",
) -> Fixture:
    """Fixture factory: a broker; `server_path`, `port_range` override the settings."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload, untyped-decorator]
    def rabbitmq_proc(request: pytest.FixtureRequest) -> Iterator[Broker]:
        """A private RabbitMQ node for the session (own ports, data dir and epmd; a container
        of --chaos-rabbitmq-image on the docker backend): `.amqp_url`, `.kill()`, `.pause()`,
        `.restart()`, `with .crashed():`, `with .paused():`, `.queue_depth(name)`."""
        config = config_for(request, rabbitmq_server=server_path, chaos_port_range=port_range)
        if config.chaos_backend == "docker":
            from chaos.pytest_plugin.factories import docker as backend

            brokers = backend.broker(request, config, docker)
        else:
            from chaos.pytest_plugin.factories import local

            brokers = local.broker(request, config)
        for node in brokers:
            yield node
            request.config.stash[BROKERS].append(
                BrokerFigures(node.node_name, node.boot_seconds or 0.0, node.recovery_seconds)
            )

    return rabbitmq_proc  # type: ignore[no-any-return]


def rabbitmq_cluster(
    size: int | None = None,
    server_path: str | None = None,
    scope: str = "session",
    docker: str = "chaos_docker",
) -> Fixture:
    """Fixture factory: a RabbitMQ cluster; `size`, `server_path` override the settings."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload, untyped-decorator]
    def rabbitmq_cluster(request: pytest.FixtureRequest) -> Iterator[BrokerCluster]:
        """A RabbitMQ cluster of --chaos-cluster-size nodes (3), formed by classic-config
        peer discovery, pause_minority: each local node in its own network namespace (one
        container per node on the docker backend). `.nodes[i]` has `.kill()`, `.stop()`,
        `.start()`, `.pause()`, `.resume()`, `.restart()`, `with .crashed():`,
        `with .paused():`; the cluster `.amqp_urls`, `.addresses`, `.partition(nodes)`,
        `.heal()`, `with .partitioned(nodes):`, `.leader(queue)`, `.cluster_status(node)`,
        `.view(node)`, `.restore()` (call it to share the cluster across tests)."""
        config = config_for(request, chaos_cluster_size=size, rabbitmq_server=server_path)
        if config.chaos_backend == "docker":
            from chaos.pytest_plugin.factories import docker as backend

            clusters = backend.cluster(request, config, docker)
        else:
            from chaos.pytest_plugin.factories import local

            clusters = local.cluster(request, config)
        for cluster in clusters:
            yield cluster
            for node in cluster.nodes:
                request.config.stash[BROKERS].append(
                    BrokerFigures(node.node_name, node.boot_seconds or 0.0, node.recovery_seconds)
                )

    return rabbitmq_cluster  # type: ignore[no-any-return]


def rabbitmq(proc: str = "rabbitmq_proc") -> Fixture:
    """Fixture factory: a pika connection to the `proc` broker fixture."""

    @pytest.fixture
    def rabbitmq(request: pytest.FixtureRequest) -> Iterator[pika.BlockingConnection]:
        """A `pika.BlockingConnection` to the session's broker. After the test the broker runs
        (resumed or started if the test left it paused or dead) and its shared queues are
        deleted; exclusive queues of connections still open are left to close with them, and
        the summary names them."""
        import pika

        node: Broker = request.getfixturevalue(proc)
        connection = pika.BlockingConnection(node.connection_parameters())
        try:
            yield connection
        finally:
            # The node is shared: a test that froze or crashed it, then failed before undoing
            # that, must not fail every later test (nor hang this close for a minute).
            if node.running:
                node.resume()  # SIGCONT: a no-op unless the test left it paused
            else:
                node.start()
            with contextlib.suppress(Exception):  # the test may have crashed the broker
                connection.close()
            node.delete_all_queues()
            skipped = node.list_queues(exclusive=True)
            if skipped:
                request.node.user_properties.append(("chaos_exclusive_queues_left", skipped))
                request.config.stash[SKIPPED_QUEUES].append((request.node.nodeid, skipped))

    return rabbitmq


def service() -> Fixture:
    """Fixture factory: starts supervised processes (see `service`)."""

    @pytest.fixture
    def service(request: pytest.FixtureRequest) -> Iterator[Callable[..., ManagedProcess]]:
        """`service(name, argv, ready=None, env=None, cwd=None, timeout=30.0, port=False)`
        starts `argv` as a supervised process (its own process group, never leaked) and waits
        until every readiness check passes (`chaos.TcpReady(host, port)`, `chaos.HttpReady(url)`,
        `chaos.CallableReady(fn)`, or a list). `env` adds to the environment; the log is kept
        under pytest's temp dir (--chaos-keep-logs to choose). `port=True` allocates a free
        port (within --chaos-port-range), puts it where argv items and env values say
        `{port}`, waits for TCP on it unless `ready` is given, and keeps it as `.port`.
        Returns the `ManagedProcess`: `.kill()`, `.pause()`, `.restart()`, `with .crashed():`,
        `with .paused():`, `with .children_crashed():`. Every process started is stopped after
        the test, and its port released."""
        from chaos.runtime import ManagedProcess, PortExhausted, TcpReady

        config = config_for(request)
        ports = allocator(config)
        started: list[ManagedProcess] = []

        def start(
            name: str,
            argv: Sequence[str],
            ready: Readiness | Sequence[Readiness] | None = None,
            env: Mapping[str, str] | None = None,
            cwd: str | Path | None = None,
            timeout: float = 30.0,
            *,
            port: bool = False,
        ) -> ManagedProcess:
            number = None
            if port:
                try:
                    number = ports.allocate()  # held until teardown: a crashed service rebinds it
                except PortExhausted as exc:
                    fail_setup(request, config, exc)
                if ready is None:
                    ready = TcpReady("127.0.0.1", number)
            argv, env = substitute_port(name, argv, env or {}, number)
            process = ManagedProcess(
                name,
                argv,
                env=env,
                cwd=cwd,
                readiness=ready,
                start_timeout=timeout,
                log_path=log_dir(request, config, "services") / f"{name}.log",
                port=number,
            )
            started.append(process)
            return process.start()

        try:
            yield start
        finally:
            try:
                for process in reversed(started):
                    process.stop()
            finally:
                ports.release_all()

    return service
