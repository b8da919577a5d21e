"""Markers for the runtime tests (the plugin registers them for good later)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rabbitmq: needs the local rabbitmq-server package")
