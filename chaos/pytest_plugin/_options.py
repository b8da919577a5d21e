"""Every plugin setting in one table; each is a CLI option and an ini key, resolved in one place.

Order of precedence: factory argument, then `@pytest.mark.chaos(...)`, then the CLI option,
then the environment variable (where one exists), then the ini value, then the default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaos.runtime.ports import parse_port_range
from chaos.runtime.rabbitmq import DEFAULT_RABBITMQ_SERVER

__all__ = ["OPTIONS", "Option", "Settings", "add_options", "resolve"]


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// URL such as http://127.0.0.1:8474, got {text!r}")
    return text.rstrip("/")


BACKENDS = ("local", "docker")


def _backend(text: str) -> str:
    if text not in BACKENDS:
        raise ValueError(f"unknown backend {text!r}; available: {', '.join(BACKENDS)}")
    return text


def _image(text: str) -> str:
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"expected an image name such as chaos-proxy:local, got {text!r}")
    return text


@dataclass(frozen=True)
class Option:
    """One setting: its name, CLI flag, ini key, environment variable and parser."""

    name: str
    flag: str
    help: str
    default: Any = None
    parse: Callable[[str], Any] = str
    env: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option(
        "toxiproxy_url",
        "--toxiproxy-url",
        "use this running Toxiproxy-compatible server (ours or a real Toxiproxy) instead of "
        "starting one",
        parse=_url,
        env="TOXIPROXY_URL",
    ),
    Option(
        "rabbitmq_server",
        "--rabbitmq-server",
        "path of the rabbitmq-server script",
        default=str(DEFAULT_RABBITMQ_SERVER),
    ),
    Option(
        "chaos_port_range",
        "--chaos-port-range",
        "ports for processes the plugin starts, LOW-HIGH (default: the kernel's choice)",
        parse=lambda text: (parse_port_range(text), text)[1],
        env="CHAOS_PORT_RANGE",
    ),
    Option(
        "chaos_keep_logs",
        "--chaos-keep-logs",
        "keep the logs of every process started in this directory",
        parse=Path,
    ),
    Option(
        "chaos_backend",
        "--chaos-backend",
        "where the proxy server, the broker and the sample services run: local (processes) "
        "or docker (containers on one network)",
        default="local",
        parse=_backend,
        env="CHAOS_BACKEND",
    ),
    Option(
        "chaos_proxy_image",
        "--chaos-proxy-image",
        "docker backend: image of the Toxiproxy-compatible server (ours, or "
        "ghcr.io/shopify/toxiproxy)",
        default="chaos-proxy:local",
        parse=_image,
        env="CHAOS_PROXY_IMAGE",
    ),
    Option(
        "chaos_rabbitmq_image",
        "--chaos-rabbitmq-image",
        "docker backend: image of the RabbitMQ broker (ours, or the official rabbitmq:3)",
        default="chaos-rabbitmq:local",
        parse=_image,
        env="CHAOS_RABBITMQ_IMAGE",
    ),
    Option(
        "chaos_sample_image",
        "--chaos-sample-image",
        "docker backend: image of the sample services",
        default="chaos-sample:local",
        parse=_image,
        env="CHAOS_SAMPLE_IMAGE",
    ),
    Option(
        "chaos_journal",
        "--chaos-journal",
        "write the experiments' JSON journal to this file",
        parse=Path,
    ),
    Option(
        "chaos_report",
        "--chaos-report",
        "write the experiments' self-contained HTML report to this file",
        parse=Path,
    ),
)
BY_NAME = {opt.name: opt for opt in OPTIONS}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaos", "pytest-chaos: fault proxies, RabbitMQ, processes")
    for opt in OPTIONS:
        env = f" [env {opt.env}]" if opt.env else ""
        group.addoption(opt.flag, dest=opt.name, default=None, help=opt.help + env)
        parser.addini(opt.name, help=opt.help, default=None)


@dataclass(frozen=True)
class Settings:
    """Resolved values and where each came from (shown in the report header)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def override(self, source: str, **overrides: Any) -> Settings:
        """These settings with factory-argument or marker values on top (None = not given)."""
        values, sources = dict(self.values), dict(self.sources)
        for name, raw in overrides.items():
            if name not in BY_NAME:
                raise TypeError(
                    f"unknown pytest-chaos setting {name!r} (from {source}); "
                    f"known: {', '.join(BY_NAME)}"
                )
            if raw is not None:
                values[name] = _parse(BY_NAME[name], raw, source)
                sources[name] = source
        return Settings(values, sources)


def _parse(opt: Option, raw: Any, source: str) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return opt.parse(raw)
    except ValueError as exc:
        raise pytest.UsageError(f"invalid {opt.flag} value {raw!r} (from {source}): {exc}") from exc


def resolve(config: pytest.Config, environ: Mapping[str, str]) -> Settings:
    """CLI, then environment, then ini, then default, for every option."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for opt in OPTIONS:
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
            values[opt.name] = opt.default
            sources[opt.name] = "default"
    return Settings(values, sources)
