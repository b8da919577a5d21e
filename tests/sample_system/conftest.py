"""Shared fixtures of the sample-system tests."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests that start a private RabbitMQ node."""
    config.addinivalue_line(
        "markers", "rabbitmq: needs a local rabbitmq-server (starts its own node)"
    )
