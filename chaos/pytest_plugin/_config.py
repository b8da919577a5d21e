"""Every plugin setting in one table (the fields of `ChaosConfig`), resolved in one place.

Order of precedence: factory argument, then `@pytest.mark.chaos(...)`, then the CLI option,
then the environment variable (where one exists), then the ini value, then the default.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from chaos.runtime.ports import parse_port_range

__all__ = [
    "BACKENDS",
    "CONFIG",
    "ChaosConfig",
    "Option",
    "add_options",
    "get_config",
    "options",
    "resolve",
]

BACKENDS = ("local", "docker")
Backend = Literal["local", "docker"]
# Debian's path; the runtime module that uses it imports pika, too heavy to load here.
DEFAULT_RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// URL such as http://127.0.0.1:8474, got {text!r}")
    return text.rstrip("/")


def _backend(text: str) -> str:
    if text not in BACKENDS:
        raise ValueError(f"unknown backend {text!r}; available: {', '.join(BACKENDS)}")
    return text


def _image(text: str) -> str:
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"expected an image name such as chaos-proxy:local, got {text!r}")
    return text


def _port_range(text: str) -> str:
    parse_port_range(text)  # raises ValueError naming the problem
    return text


def _cluster_size(text: str) -> int:
    size = int(text)
    if size < 1:
        raise ValueError(f"a cluster needs at least 1 node, got {size}")
    return size


def _packages(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class Option:
    """How one setting is given: CLI flag, ini key (the field name), environment, parser."""

    name: str
    flag: str
    help: str
    parse: Callable[[str], Any]
    env: str | None


def _option(
    flag: str,
    help: str,
    default: Any = None,
    parse: Callable[[str], Any] = str,
    env: str | None = None,
) -> Any:
    return field(default=default, metadata={"flag": flag, "help": help, "parse": parse, "env": env})


@dataclass(frozen=True)
class ChaosConfig:
    """The resolved settings of a test; `sources` says where each value came from."""

    toxiproxy_url: str | None = _option(
        "--toxiproxy-url",
        "use this running Toxiproxy-compatible server (ours or a real Toxiproxy) instead of "
        "starting one",
        parse=_url,
        env="TOXIPROXY_URL",
    )
    rabbitmq_server: str = _option(
        "--rabbitmq-server", "path of the rabbitmq-server script", DEFAULT_RABBITMQ_SERVER
    )
    chaos_port_range: str | None = _option(
        "--chaos-port-range",
        "ports for processes the plugin starts, LOW-HIGH (default: below the kernel's ephemeral "
        "range, 20000-32767 on a default Linux, so a restarted broker gets its port back)",
        parse=_port_range,
        env="CHAOS_PORT_RANGE",
    )
    chaos_keep_logs: Path | None = _option(
        "--chaos-keep-logs", "keep the logs of every process started in this directory", parse=Path
    )
    chaos_backend: Backend = _option(
        "--chaos-backend",
        "where the proxy server, the broker and the services run: local (processes) or docker "
        "(containers on one network)",
        "local",
        parse=_backend,
        env="CHAOS_BACKEND",
    )
    chaos_proxy_image: str = _option(
        "--chaos-proxy-image",
        "docker backend: image of the Toxiproxy-compatible server (ours, or "
        "ghcr.io/shopify/toxiproxy)",
        "chaos-proxy:local",
        parse=_image,
        env="CHAOS_PROXY_IMAGE",
    )
    chaos_rabbitmq_image: str = _option(
        "--chaos-rabbitmq-image",
        "docker backend: image of the RabbitMQ broker (ours, or the official rabbitmq:3)",
        "chaos-rabbitmq:local",
        parse=_image,
        env="CHAOS_RABBITMQ_IMAGE",
    )
    chaos_sample_image: str = _option(
        "--chaos-sample-image",
        "docker backend: image of the repo's sample services",
        "chaos-sample:local",
        parse=_image,
        env="CHAOS_SAMPLE_IMAGE",
    )
    chaos_cluster_size: int = _option(
        "--chaos-cluster-size",
        "nodes of the rabbitmq_cluster fixture (classic-config discovery, pause_minority)",
        3,
        parse=_cluster_size,
        env="CHAOS_CLUSTER_SIZE",
    )
    chaos_journal: Path | None = _option(
        "--chaos-journal", "write the experiments' JSON journal to this file", parse=Path
    )
    chaos_report: Path | None = _option(
        "--chaos-report",
        "write the experiments' self-contained HTML report to this file",
        parse=Path,
    )
    chaos_packages: tuple[str, ...] = _option(
        "--chaos-packages",
        "comma-separated distributions whose versions the journal records, besides pytest-chaos "
        "and its own dependencies (e.g. the libraries of the system under test)",
        (),
        parse=_packages,
    )
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Where each value came from: "default", "ini ...", "command line ...", "marker ..."."""

    def values(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of every setting, in table order."""
        for opt in options():
            yield opt.name, getattr(self, opt.name)

    def override(self, source: str, **overrides: Any) -> ChaosConfig:
        """These settings with factory-argument or marker values on top (None = not given)."""
        known = {opt.name: opt for opt in options()}
        changes: dict[str, Any] = {}
        sources = dict(self.sources)
        for name, raw in overrides.items():
            if name not in known:
                raise TypeError(
                    f"unknown pytest-chaos setting {name!r} (from {source}); "
                    f"known: {', '.join(known)}"
                )
            if raw is not None:
                changes[name] = _parse(known[name], raw, source)
                sources[name] = source
        return dataclasses.replace(self, **changes, sources=sources)


CONFIG: pytest.StashKey[ChaosConfig] = pytest.StashKey()
"""The session's resolved settings in `config.stash`."""


@functools.cache
def options() -> tuple[Option, ...]:
    """The table: one `Option` per setting, in field order."""
    return tuple(
        Option(
            f.name, f.metadata["flag"], f.metadata["help"], f.metadata["parse"], f.metadata["env"]
        )
        for f in dataclasses.fields(ChaosConfig)
        if "flag" in f.metadata
    )


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos", "pytest-chaos: fault proxies, RabbitMQ, processes")
    for opt in options():
        env = f" [env {opt.env}]" if opt.env else ""
        group.addoption(opt.flag, dest=opt.name, default=None, help=opt.help + env)
        parser.addini(opt.name, help=opt.help, default=None)


def _parse(opt: Option, raw: Any, source: str) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return opt.parse(raw)
    except ValueError as exc:
        raise pytest.UsageError(f"invalid {opt.flag} value {raw!r} (from {source}): {exc}") from exc


def resolve(config: pytest.Config, environ: Mapping[str, str]) -> ChaosConfig:
    """CLI, then environment, then ini, then default, for every option."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for opt in options():
        for source, raw in (
            (f"command line {opt.flag}", config.getoption(opt.name)),
            (f"environment ${opt.env}", environ.get(opt.env) if opt.env else None),
            (f"ini {opt.name}", config.getini(opt.name)),
        ):
            if raw not in (None, ""):
                values[opt.name] = _parse(opt, raw, source)
                sources[opt.name] = source
                break
        else:
            sources[opt.name] = "default"
    return ChaosConfig(**values, sources=sources)


def get_config(request: pytest.FixtureRequest) -> ChaosConfig:
    """The settings a fixture of this test sees: the session's, with the test's marker on top.

    `@pytest.mark.chaos(...)` applies to function-scoped fixtures only: a session fixture is
    shared by tests with different markers.
    """
    config = request.config.stash[CONFIG]
    marker = request.node.get_closest_marker("chaos") if request.scope == "function" else None
    if marker is not None:
        config = config.override("marker @pytest.mark.chaos", **marker.kwargs)
    return config
