"""What the fixture factories of every backend share: settings, logs, ports, errors."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from chaos.pytest_plugin._config import ChaosConfig, get_config

if TYPE_CHECKING:
    from chaos.runtime import ManagedProcess, PortAllocator
    from chaos.runtime.docker import Container

__all__ = [
    "ToxiproxyServer",
    "alias",
    "allocator",
    "config_for",
    "fail_rollback",
    "fail_setup",
    "log_dir",
    "substitute_port",
    "xdist_workers",
]

PORT_FIELD = "{port}"


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


def config_for(request: pytest.FixtureRequest, **arguments: object) -> ChaosConfig:
    """`get_config(request)` with the factory's own arguments on top."""
    return get_config(request).override("factory argument", **arguments)


def log_dir(request: pytest.FixtureRequest, config: ChaosConfig, name: str) -> Path:
    """Where a started process keeps its files: --chaos-keep-logs, or pytest's temp dirs."""
    keep = config.chaos_keep_logs
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


def xdist_workers() -> int:
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def allocator(config: ChaosConfig) -> PortAllocator:
    from chaos.runtime import PortAllocator

    return PortAllocator(config.chaos_port_range)


def substitute_port(
    name: str, argv: Sequence[str], env: Mapping[str, str], port: int | None
) -> tuple[list[str], dict[str, str]]:
    """`argv` and `env` with `{port}` replaced by `port`; a clear error if the two disagree.

    Plain replacement, not `str.format`: other braces (JSON in an env value, a `python -c`
    script) stay as they are. The trap: a `-c` script's own `{port}` is replaced too.
    """
    places = [f"argv[{i}]={a!r}" for i, a in enumerate(argv) if PORT_FIELD in a]
    places += [f"env[{k!r}]={v!r}" for k, v in env.items() if PORT_FIELD in v]
    if port is None:
        if places:
            raise ValueError(
                f"service {name!r}: {', '.join(places)} asks for {PORT_FIELD}, but no port was "
                "allocated; hint: pass port=True"
            )
        return list(argv), dict(env)
    if not places:
        raise ValueError(
            f"service {name!r}: port=True allocated port {port}, but neither argv nor env "
            f"mentions {PORT_FIELD}, so the service cannot know it; hint: put {PORT_FIELD} where "
            f"the command takes its port, e.g. [..., '--port', '{PORT_FIELD}']"
        )
    number = str(port)
    return (
        [a.replace(PORT_FIELD, number) for a in argv],
        {k: v.replace(PORT_FIELD, number) for k, v in env.items()},
    )


def alias(fixturename: str, default_fixture: str, default_alias: str) -> str:
    """A network alias (and container role): a second fixture of a kind gets its own."""
    return default_alias if fixturename == default_fixture else fixturename.replace("_", "-")


_HINTS = {
    "PortExhausted": (
        "chaos_port_range",
        "widen --chaos-port-range ($CHAOS_PORT_RANGE, ini chaos_port_range) or stop whatever "
        "holds those ports",
    ),
    "RabbitMQNotInstalled": (
        "rabbitmq_server",
        "install it (`apt-get install -y rabbitmq-server` on Debian/Ubuntu) or point "
        "--rabbitmq-server (ini rabbitmq_server) at its rabbitmq-server script",
    ),
}


def fail_setup(request: pytest.FixtureRequest, config: ChaosConfig, exc: Exception) -> NoReturn:
    """Fail with the error, the setting behind it and where that came from; no traceback."""
    name, hint = _HINTS[type(exc).__name__]
    # The library's own hint names library arguments; this one names the plugin's settings.
    error = str(exc).split("; hint:")[0]
    raise pytest.fail.Exception(
        f"pytest-chaos could not set up {request.fixturename!r}: {error}\n"
        f"{name}={getattr(config, name)} (from {config.sources[name]}); hint: {hint}",
        pytrace=False,
    ) from None


def fail_rollback(failures: Iterable[str]) -> None:
    """Fail the test's teardown if any fault could not be rolled back."""
    failures = list(failures)
    if failures:
        pytest.fail("could not roll back faults: " + "; ".join(failures), pytrace=False)
