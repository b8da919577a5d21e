"""Docker fixtures for tests: skipped with the reason when no engine answers or an image is missing.

CI sets CHAOS_REQUIRE_DOCKER=1: there a missing engine or image fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker.errors
import pytest

import docker
from chaos.runtime.docker import DockerSession, connect, unavailable_reason

SAMPLE_IMAGE = os.environ.get("CHAOS_SAMPLE_IMAGE", "chaos-sample:local")
RABBITMQ_IMAGE = os.environ.get("CHAOS_RABBITMQ_IMAGE", "chaos-rabbitmq:local")


def _unusable(reason: str) -> None:
    if os.environ.get("CHAOS_REQUIRE_DOCKER"):
        pytest.fail(f"CHAOS_REQUIRE_DOCKER is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    reason = unavailable_reason()
    if reason is not None:
        _unusable(reason)
    client = connect()
    yield client
    client.close()


def require_image(client: docker.DockerClient, image: str) -> str:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        _unusable(f"image {image} is missing; build it with scripts/build-images.sh")
    return image


@pytest.fixture(scope="session")
def sample_image(docker_client: docker.DockerClient) -> str:
    return require_image(docker_client, SAMPLE_IMAGE)


@pytest.fixture(scope="session")
def rabbitmq_image(docker_client: docker.DockerClient) -> str:
    return require_image(docker_client, RABBITMQ_IMAGE)


@pytest.fixture
def session(docker_client: docker.DockerClient) -> Iterator[DockerSession]:
    with DockerSession(docker_client) as s:
        yield s
    assert s.leftovers() == {"containers": [], "networks": [], "volumes": []}
