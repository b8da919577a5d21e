"""A Toxiproxy-compatible server that is already running (`--toxiproxy-url`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from chaos.client import Toxiproxy, ToxiproxyError
from chaos.pytest_plugin._config import ChaosConfig
from chaos.pytest_plugin._stash import PROXY_SERVER, ProxyServerInfo
from chaos.pytest_plugin.factories._common import ToxiproxyServer, xdist_workers

__all__ = ["proxy_server"]


def proxy_server(request: pytest.FixtureRequest, config: ChaosConfig) -> Iterator[ToxiproxyServer]:
    """The server at `toxiproxy_url`, checked to answer; nothing is started or stopped."""
    url = config.toxiproxy_url
    assert url is not None
    try:
        with Toxiproxy(url, timeout=5) as api:
            version = api.version()
    except ToxiproxyError as exc:
        pytest.fail(
            f"the Toxiproxy server at {url} (from {config.sources['toxiproxy_url']}) is "
            f"unreachable: {exc}; start it, or drop --toxiproxy-url/TOXIPROXY_URL to let "
            "pytest-chaos start its own",
            pytrace=False,
        )
    if xdist_workers() > 1:
        warnings.warn(
            pytest.PytestWarning(
                f"{url} is shared by {xdist_workers()} xdist workers, so pytest-chaos does not "
                "reset it after each test (that would remove the faults of tests running on "
                "other workers); faults made through `proxy` are still rolled back and its "
                "proxies deleted, toxics added with the bare `toxiproxy` client are not; drop "
                "--toxiproxy-url to give each worker its own server"
            ),
            stacklevel=1,
        )
    request.config.stash[PROXY_SERVER] = ProxyServerInfo(url, True, version)
    yield ToxiproxyServer(url)
