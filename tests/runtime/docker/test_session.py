"""DockerSession: labelled objects of one run, all removed at close, nothing of other runs."""

from __future__ import annotations

import pytest

import docker
from chaos.runtime.docker import MANAGED, RUN, DockerSession, ImageMissing, cleanup, leftovers


def test_close_removes_the_network_containers_and_volumes_of_the_run(
    docker_client: docker.DockerClient, sample_image: str
) -> None:
    session = DockerSession(docker_client).start()
    try:
        network = docker_client.networks.get(session.network_name)
        assert network.attrs["Labels"] == {
            MANAGED: "true",
            RUN: session.run,
            "io.chaos.role": "network",
        }
        volume = session.volume("data")
        session.create("idle", sample_image, command=["sleep", "60"]).start()
        assert session.leftovers() == {
            "containers": [session.name("idle")],
            "networks": [session.network_name],
            "volumes": [volume],
        }
    finally:
        removed = session.close()
    assert removed == {
        "containers": [session.name("idle")],
        "networks": [session.network_name],
        "volumes": [volume],
    }
    assert session.leftovers() == {"containers": [], "networks": [], "volumes": []}
    assert session.close() == {"containers": [], "networks": [], "volumes": []}  # idempotent


def test_cleanup_of_one_run_leaves_other_runs_alone(docker_client: docker.DockerClient) -> None:
    with DockerSession(docker_client) as mine, DockerSession(docker_client) as other:
        cleanup(docker_client, mine.run)
        assert leftovers(docker_client, mine.run)["networks"] == []
        assert leftovers(docker_client, other.run)["networks"] == [other.network_name]


def test_a_missing_image_names_the_setting_and_the_build_script(
    session: DockerSession,
) -> None:
    with pytest.raises(ImageMissing) as info:
        session.require_image("chaos-no-such-image:none", "chaos_proxy_image=chaos-no-such")
    message = str(info.value)
    assert "chaos-no-such-image:none" in message
    assert "chaos_proxy_image" in message
    assert "scripts/build-images.sh" in message
    with pytest.raises(ImageMissing, match="chaos-no-such-image:none"):
        session.create("x", "chaos-no-such-image:none")
