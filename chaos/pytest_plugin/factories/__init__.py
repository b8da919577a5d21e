"""Fixture factories: each returns a pytest fixture, so a second instance takes one line.

from chaos.pytest_plugin import factories
toxiproxy_server2 = factories.toxiproxy_server()
rabbitmq_proc2 = factories.rabbitmq_proc(port_range="31000-31999")
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pika
import pytest

from chaos import __version__
from chaos.client import ProxyNotFound, Toxiproxy, ToxiproxyError
from chaos.experiment._faults import Timeline
from chaos.experiment._proxy_handle import ProxyHandle
from chaos.pytest_plugin._stash import BROKERS, DOCKER_RUNS, PROXY_SERVER, SETTINGS, TIMELINE
from chaos.runtime import Broker, HttpReady, ManagedProcess, PortAllocator, PortExhausted, Readiness
from chaos.runtime.docker import (
    Container,
    DockerRabbitMQ,
    DockerSession,
    ImageMissing,
    unavailable_reason,
)
from chaos.runtime.rabbitmq import RabbitMQNode, RabbitMQNotInstalled

__all__ = [
    "ToxiproxyServer",
    "chaos_timeline",
    "docker_session",
    "proxy",
    "rabbitmq",
    "rabbitmq_proc",
    "service",
    "toxiproxy",
    "toxiproxy_server",
]


def _settings(request: pytest.FixtureRequest, source: str, **overrides: Any) -> Any:
    """Session settings with marker values, then factory arguments, on top."""
    settings = request.config.stash[SETTINGS]
    marker = request.node.get_closest_marker("chaos") if request.scope == "function" else None
    if marker is not None:
        settings = settings.override("marker @pytest.mark.chaos", **marker.kwargs)
    return settings.override(source, **overrides)


def _log_dir(request: pytest.FixtureRequest, settings: Any, name: str) -> Path:
    keep = settings["chaos_keep_logs"]
    if keep is not None:
        # xdist workers share the option: each needs its own files (a broker's config and data).
        path = Path(keep) / os.environ.get("PYTEST_XDIST_WORKER", "") / name
        path.mkdir(parents=True, exist_ok=True)
        return path
    # pytest's temp dirs, not bare mkdtemp: the log a failure points to stays readable after the
    # run, and pytest prunes the dirs of older runs (a bare temp dir would pile up in /tmp).
    try:
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    except pytest.FixtureLookupError:  # -p no:tmpdir
        return Path(tempfile.mkdtemp(prefix=f"chaos-{name}-"))
    return factory.mktemp(f"chaos-{name}")


def _xdist_workers() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def _allocator(settings: Any) -> PortAllocator:
    return PortAllocator(settings["chaos_port_range"])


_HINTS = {
    PortExhausted: (
        "chaos_port_range",
        "widen --chaos-port-range ($CHAOS_PORT_RANGE, ini chaos_port_range) or stop whatever "
        "holds those ports",
    ),
    RabbitMQNotInstalled: (
        "rabbitmq_server",
        "install it (`apt-get install -y rabbitmq-server` on Debian/Ubuntu) or point "
        "--rabbitmq-server (ini rabbitmq_server) at its rabbitmq-server script",
    ),
}


def _fail_setup(request: pytest.FixtureRequest, settings: Any, exc: Exception) -> NoReturn:
    """Fail with the error, the setting behind it and where that came from; no traceback."""
    name, hint = _HINTS[type(exc)]
    # The library's own hint names library arguments; this one names the plugin's settings.
    error = str(exc).split("; hint:")[0]
    raise pytest.fail.Exception(
        f"pytest-chaos could not set up {request.fixturename!r}: {error}\n"
        f"{name}={settings[name]} (from {settings.sources[name]}); hint: {hint}",
        pytrace=False,
    ) from None


@dataclass
class ToxiproxyServer:
    """A running Toxiproxy-compatible server: a process, a container, or an external one.

    `listen_host` is where its proxies should listen and `peer_host` the name by which the
    services they front reach them: loopback for a process, the network alias for a container.
    """

    url: str
    process: ManagedProcess | Container | None = None
    listen_host: str = "127.0.0.1"
    peer_host: str = "127.0.0.1"
    boot_seconds: float = 0.0

    @property
    def external(self) -> bool:
        return self.process is None


def docker_session(scope: str = "session") -> Callable[..., Any]:
    """Fixture: a Docker network for this run; every labelled object of the run removed after.

    Skips the tests that need it, with the reason, when no Docker engine answers.
    """

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def fixture(request: pytest.FixtureRequest) -> Iterator[DockerSession]:
        reason = unavailable_reason()
        if reason is not None:
            pytest.skip(f"docker backend: {reason}")
        with DockerSession() as session:
            yield session
        left = session.leftovers()
        if any(left.values()):
            pytest.fail(f"docker objects of run {session.run} left after cleanup: {left}")
        request.config.stash[DOCKER_RUNS].append(session.run)  # for the summary: all removed

    return fixture


def _alias(fixturename: str, default_fixture: str, default_alias: str) -> str:
    """A network alias (and container role): a second fixture of a kind gets its own."""
    return default_alias if fixturename == default_fixture else fixturename.replace("_", "-")


def _docker_image(
    request: pytest.FixtureRequest, session: DockerSession, settings: Any, name: str
) -> str:
    image: str = settings[name]
    try:
        session.require_image(image, f"{name}={image}")
    except ImageMissing as exc:
        pytest.fail(
            f"pytest-chaos could not set up {request.fixturename!r}: {exc} "
            f"({name} from {settings.sources[name]})",
            pytrace=False,
        )
    return image


def _docker_toxiproxy(
    request: pytest.FixtureRequest, settings: Any, session_fixture: str
) -> Iterator[ToxiproxyServer]:
    """The proxy server as a container on the run's network, its API published on loopback."""
    if settings["toxiproxy_url"]:
        pytest.fail(
            f"--toxiproxy-url ({settings.sources['toxiproxy_url']}) cannot be combined with "
            "--chaos-backend docker: the proxy server must sit on the containers' network; "
            "hint: choose its image with --chaos-proxy-image instead",
            pytrace=False,
        )
    session: DockerSession = request.getfixturevalue(session_fixture)
    image = _docker_image(request, session, settings, "chaos_proxy_image")
    allocator = _allocator(settings)
    port = allocator.allocate()
    url_ = f"http://127.0.0.1:{port}"
    alias = _alias(request.fixturename, "toxiproxy_server", "toxiproxy")
    container = Container(
        session,
        alias,
        image,  # its own command: ours and Toxiproxy's images both serve on 0.0.0.0:8474
        aliases=[alias],
        ports={8474: port},
        readiness=HttpReady(f"{url_}/version"),
    )
    allocator.release(port)  # the engine's port forwarder binds it now
    with container:
        began = time.monotonic()
        container.start()
        boot = time.monotonic() - began
        request.config.stash[PROXY_SERVER] = {"url": url_, "external": False, "version": image}
        yield ToxiproxyServer(url_, container, "0.0.0.0", alias, boot)


def toxiproxy_server(
    url: str | None = None, scope: str = "session", docker: str = "chaos_docker"
) -> Callable[..., Any]:
    """Fixture: our proxy server as a process (a container on the docker backend), or `url`.

    `docker` names the `docker_session` fixture used on the docker backend.
    """

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def fixture(request: pytest.FixtureRequest) -> Iterator[ToxiproxyServer]:
        settings = _settings(request, "factory argument", toxiproxy_url=url)
        if settings["chaos_backend"] == "docker":
            yield from _docker_toxiproxy(request, settings, docker)
            return
        external = settings["toxiproxy_url"]
        if external:
            try:
                with Toxiproxy(external, timeout=5) as api:
                    version = api.version()
            except ToxiproxyError as exc:
                pytest.fail(
                    f"the Toxiproxy server at {external} (from "
                    f"{settings.sources['toxiproxy_url']}) is unreachable: {exc}; start it, or "
                    "drop --toxiproxy-url/TOXIPROXY_URL to let pytest-chaos start its own",
                    pytrace=False,
                )
            if _xdist_workers() > 1:
                warnings.warn(
                    pytest.PytestWarning(
                        f"{external} is shared by {_xdist_workers()} xdist workers, so "
                        "pytest-chaos does not reset it after each test (that would remove the "
                        "faults of tests running on other workers); faults made through `proxy` "
                        "are still rolled back and its proxies deleted, toxics added with the "
                        "bare `toxiproxy` client are not; drop --toxiproxy-url to give each "
                        "worker its own server"
                    ),
                    stacklevel=1,
                )
            request.config.stash[PROXY_SERVER] = {
                "url": external,
                "external": True,
                "version": version,
            }
            yield ToxiproxyServer(external)
            return
        allocator = _allocator(settings)
        try:
            port = allocator.allocate()
        except PortExhausted as exc:
            _fail_setup(request, settings, exc)
        url_ = f"http://127.0.0.1:{port}"
        process = ManagedProcess(
            "chaos-proxy",
            [sys.executable, "-m", "chaos.proxy.cli", "-host", "127.0.0.1", "-port", str(port)],
            log_path=_log_dir(request, settings, "chaos-proxy") / "chaos-proxy.log",
            readiness=HttpReady(f"{url_}/version"),
            start_timeout=30.0,
        )
        allocator.release(port)  # the server binds it now; the reservation only kept others off
        with process:
            began = time.monotonic()
            process.start()
            boot = time.monotonic() - began
            request.config.stash[PROXY_SERVER] = {
                "url": url_,
                "external": False,
                "version": f"chaos-proxy {__version__}",
            }
            yield ToxiproxyServer(url_, process, boot_seconds=boot)

    return fixture


def chaos_timeline() -> Callable[..., Any]:
    """Fixture: the test's fault timeline; faults still open at teardown are rolled back."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Iterator[Timeline]:
        timeline = Timeline()
        request.node.stash[TIMELINE] = timeline
        yield timeline
        failures = timeline.rollback_all()
        if failures:
            pytest.fail("could not roll back faults: " + "; ".join(failures), pytrace=False)

    return fixture


def toxiproxy(server: str = "toxiproxy_server", timeline: str = "chaos") -> Callable[..., Any]:
    """Fixture: a client of `server`; teardown resets the server and fails if a toxic survived.

    Not a server shared by xdist workers: a reset would remove the faults of other workers' tests.
    """

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Iterator[Toxiproxy]:
        handle: ToxiproxyServer = request.getfixturevalue(server)
        tl: Timeline = request.getfixturevalue(timeline)
        settings = _settings(request, "factory argument")
        url = (
            settings["toxiproxy_url"]
            if settings.sources["toxiproxy_url"].startswith("marker")
            else handle.url
        )
        shared = (handle.external or url != handle.url) and _xdist_workers() > 1
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
            if failures:
                pytest.fail("could not roll back faults: " + "; ".join(failures), pytrace=False)

    return fixture


def proxy(client: str = "toxiproxy", timeline: str = "chaos") -> Callable[..., Any]:
    """Fixture: `proxy(upstream, name=None)` makes a proxy; every one is deleted at teardown."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Iterator[Callable[..., ProxyHandle]]:
        api: Toxiproxy = request.getfixturevalue(client)
        tl: Timeline = request.getfixturevalue(timeline)
        made: list[str] = []

        def make(
            upstream: str, name: str | None = None, listen: str = "127.0.0.1:0"
        ) -> ProxyHandle:
            name = name or f"{request.node.name[:40]}-{len(made) + 1}".replace("/", "_")
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
        if failures:
            pytest.fail("could not roll back faults: " + "; ".join(failures), pytrace=False)

    return fixture


def rabbitmq_proc(
    server_path: str | None = None,
    port_range: str | None = None,
    scope: str = "session",
    docker: str = "chaos_docker",
) -> Callable[..., Any]:
    """Fixture: a private RabbitMQ node (own ports, data dir and epmd); kill/pause/restart it.

    On the docker backend, a container of the `chaos_rabbitmq_image` setting, same handle.
    """

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def fixture(request: pytest.FixtureRequest) -> Iterator[Broker]:
        settings = _settings(
            request, "factory argument", rabbitmq_server=server_path, chaos_port_range=port_range
        )
        if settings["chaos_backend"] == "docker":
            session: DockerSession = request.getfixturevalue(docker)
            image = _docker_image(request, session, settings, "chaos_rabbitmq_image")
            # Roles name containers: a second broker fixture gets its own.
            broker = DockerRabbitMQ(
                session,
                image,
                alias=_alias(request.fixturename, "rabbitmq_proc", "rabbitmq"),
                allocator=_allocator(settings),
            )
            with broker:
                yield broker
            request.config.stash[BROKERS].append(broker)
            return
        base = _log_dir(request, settings, request.fixturename)  # two nodes, two dirs
        allocator = _allocator(settings)
        try:
            node = RabbitMQNode(base, server_path=settings["rabbitmq_server"], allocator=allocator)
        except (PortExhausted, RabbitMQNotInstalled) as exc:
            allocator.release_all()  # the ports it got before the range ran out
            shutil.rmtree(base, ignore_errors=True)
            _fail_setup(request, settings, exc)
        with node:
            node.start()
            yield node
        request.config.stash[BROKERS].append(node)
        if settings["chaos_keep_logs"] is None:
            shutil.rmtree(base, ignore_errors=True)

    return fixture


def rabbitmq(proc: str = "rabbitmq_proc") -> Callable[..., Any]:
    """Fixture: a pika connection to the node; after the test, the node runs and has no queue."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Iterator[pika.BlockingConnection]:
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

    return fixture


def service() -> Callable[..., Any]:
    """Fixture: `service(name, argv, ready=...)` starts a supervised process, stopped after."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> Iterator[Callable[..., ManagedProcess]]:
        settings = _settings(request, "factory argument")
        started: list[ManagedProcess] = []

        def start(
            name: str,
            argv: Sequence[str],
            ready: Readiness | Sequence[Readiness] | None = None,
            env: Mapping[str, str] | None = None,
            cwd: str | Path | None = None,
            timeout: float = 30.0,
        ) -> ManagedProcess:
            process = ManagedProcess(
                name,
                list(argv),
                env=env,
                cwd=cwd,
                readiness=ready,
                start_timeout=timeout,
                log_path=_log_dir(request, settings, "services") / f"{name}.log",
            )
            started.append(process)
            return process.start()

        try:
            yield start
        finally:
            for process in reversed(started):
                process.stop()

    return fixture
