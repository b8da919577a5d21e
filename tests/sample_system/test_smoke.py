"""Smoke test: the sync chain as processes: gateway -> reactions -> notifications -> push."""

from pathlib import Path

import httpx
import pytest

from tests.sample_system._procs import Service, free_port


@pytest.mark.timeout(90)
def test_sync_chain_delivers_exactly_once(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("push", "notifications", "reactions", "gateway")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    specs = [
        ("push_provider", {"PUSH_PORT": str(ports["push"])}, url["push"]),
        (
            "notifications",
            {"NOTIFICATIONS_PORT": str(ports["notifications"]), "PUSH_URL": url["push"]},
            url["notifications"],
        ),
        (
            "reactions",
            {
                "REACTIONS_PORT": str(ports["reactions"]),
                "REACTIONS_DB_PATH": str(tmp_path / "reactions.db"),
                "REACTIONS_MODE": "sync",
                "NOTIFICATIONS_URL": url["notifications"],
            },
            url["reactions"],
        ),
        (
            "gateway",
            {"GATEWAY_PORT": str(ports["gateway"]), "REACTIONS_URL": url["reactions"]},
            url["gateway"],
        ),
    ]
    services: list[Service] = []
    try:
        for package, env, base in specs:
            service = Service(package, env, tmp_path)
            services.append(service)
            service.wait_healthy(base)
        response = httpx.post(
            f"{url['gateway']}/reactions",
            json={"post_id": "p1", "user_id": "u1", "kind": "like", "reaction_id": "smoke-1"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert response.json() == {"reaction_id": "smoke-1", "notified": True}
        ledger = httpx.get(f"{url['push']}/ledger", timeout=5).json()
        assert ledger["counts"] == {"smoke-1": 1}
        assert ledger["deliveries"][0]["via"] == "sync"
        feed = httpx.get(f"{url['gateway']}/feed", params={"user_id": "u1"}, timeout=5)
        assert feed.status_code == 200
        assert "gateway_requests_total" in httpx.get(f"{url['gateway']}/metrics").text
    finally:
        for service in reversed(services):
            service.stop()
    assert all(s.proc.returncode is not None for s in services)
