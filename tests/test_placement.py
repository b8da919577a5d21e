"""Placements: how the proxy, the services and the tests address each other, per backend."""

from __future__ import annotations

from pathlib import Path

from chaos.placement import DockerPlacement, LocalPlacement
from chaos.runtime import PortAllocator


class FakeSession:
    """What DockerPlacement asks of a DockerSession before anything starts."""

    network_name = "chaos-test"

    def __init__(self) -> None:
        self.volumes: list[str] = []

    def volume(self, role: str) -> str:
        self.volumes.append(role)
        return f"chaos-test-{role}"

    def name(self, role: str) -> str:
        return f"chaos-test-{role}"


def test_local_processes_share_loopback(tmp_path: Path) -> None:
    placement = LocalPlacement(tmp_path, PortAllocator("31000-31099"))
    placement.reserve("push_provider")
    port = placement.ports["push_provider"]
    assert 31000 <= port <= 31099
    assert placement.upstream("push_provider") == f"127.0.0.1:{port}"
    assert placement.url("push_provider") == f"http://127.0.0.1:{port}"
    assert placement.data_path("reactions") == str(tmp_path / "reactions.sqlite3")
    assert (placement.proxy_listen, placement.proxy_host) == ("127.0.0.1:0", "127.0.0.1")
    process = placement.handle("push_provider", {"LOG_LEVEL": "INFO"}, "")
    assert process.env["PUSH_PORT"] == str(port)
    assert process.argv[-2:] == ["-m", "sample_system.push_provider"]


def test_containers_are_reached_by_alias_inside_and_published_port_outside() -> None:
    session = FakeSession()
    placement = DockerPlacement(
        session,  # type: ignore[arg-type]
        "chaos-sample:local",
        allocator=PortAllocator("31100-31199"),
    )
    placement.reserve("notifier_worker")
    published = placement.ports["notifier_worker"]
    assert placement.upstream("notifier_worker") == "notifier-worker:8000"  # no "_" in host names
    assert placement.url("notifier_worker") == f"http://127.0.0.1:{published}"
    assert placement.data_path("notifier_worker") == "/data/notifier_worker.sqlite3"
    assert (placement.proxy_listen, placement.proxy_host) == ("0.0.0.0:0", "toxiproxy")
    container = placement.handle("notifier_worker", {"AMQP_URL": "amqp://x"}, "-variant")
    assert container.name == "chaos-test-notifier-worker-variant"
    assert container.aliases == ["notifier-worker"]  # a variant takes over the alias
    assert container.env["WORKER_HOST"] == "0.0.0.0"
    assert container.env["WORKER_PORT"] == "8000"
    assert container.env["AMQP_URL"] == "amqp://x"
    assert container.ports == {8000: published}
    assert container.volumes == {"chaos-test-notifier-worker-data": "/data"}
    assert container.command == ["python", "-m", "sample_system.notifier_worker"]
