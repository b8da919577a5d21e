"""The sample system brought up for real: processes, proxies, a RabbitMQ node."""

from __future__ import annotations

import uuid

import httpx
import pytest

from fixtures.system import PROTECTED, System

pytestmark = [pytest.mark.rabbitmq, pytest.mark.timeout(180)]


def post(system: System, reaction_id: str) -> httpx.Response:
    body = {"post_id": "p1", "user_id": "u1", "kind": "like", "reaction_id": reaction_id}
    return httpx.post(f"{system.gateway_url}/reactions", json=body, timeout=10)


@pytest.mark.parametrize("mode, status", [("sync", 201), ("async", 202)])
def test_a_reaction_is_delivered_exactly_once(system: System, mode: str, status: int) -> None:
    system.set_mode(mode)
    rid = f"e2e-{mode}-{uuid.uuid4().hex[:8]}"
    response = post(system, rid)
    assert response.status_code == status, response.text
    system.wait_for("delivered", lambda: rid in system.delivered())
    system.wait_drained()
    assert system.delivered().count(rid) == 1
    [entry] = [d for d in system.ledger()["deliveries"] if d["reaction_id"] == rid]
    assert entry["via"] == mode


def test_broker_restart_during_traffic_loses_nothing(system: System) -> None:
    system.set_mode("async")
    accepted = []
    for i in range(30):
        if i == 10:
            system.broker.restart()
        rid = f"restart-{i}-{uuid.uuid4().hex[:6]}"
        if post(system, rid).status_code == 202:
            accepted.append(rid)
    assert len(accepted) == 30, "async mode must accept every reaction, broker or not"
    system.check_ledger(set(accepted)).assert_ok(allow_duplicates=False)


def test_worker_breaker_opens_on_provider_failure_and_closes_after(system: System) -> None:
    system.set_mode("async")
    system.push_faults(error_rate=1.0)
    ids = [f"breaker-{i}-{uuid.uuid4().hex[:6]}" for i in range(10)]
    for rid in ids:
        assert post(system, rid).status_code == 202
    system.wait_for("breaker open", lambda: system.metric("notifier_worker", "breaker_state") == 2)
    assert not set(ids) & set(system.delivered()), "a failing provider recorded a delivery"
    system.push_faults(error_rate=0.0)
    system.wait_for(
        "breaker closed", lambda: system.metric("notifier_worker", "breaker_state") == 0, 60
    )
    system.check_ledger(set(ids)).assert_ok()


def test_every_edge_has_its_own_proxy(system: System) -> None:
    names = set(system.api.proxies())
    assert {
        "gateway-reactions",
        "reactions-notifications",
        "notifications-push",
        "reactions-broker",
        "worker-broker",
        "worker-push",
    } <= names
    # Traffic really crosses them: a reaction in sync mode moves bytes on the sync edges.
    system.set_mode("sync")
    assert post(system, f"edge-{uuid.uuid4().hex[:8]}").status_code == 201
    for edge in ("gateway-reactions", "reactions-notifications", "notifications-push"):
        assert system.api.connections(edge), f"no live connection through {edge}"


def test_reset_turns_every_run_time_protection_on_but_the_gateway_breaker(system: System) -> None:
    system.protections("notifier_worker", dedupe=False, ack_after_push=False)
    system.protections("reactions", persistent=False)
    system.protections("gateway", timeouts=False, breaker=True)
    system.push_faults(delay_ms=5, concurrency=2)
    system.reset()
    for service in PROTECTED:
        switches = system.http.get(system.url(service) + "/admin/protections").json()
        # The gateway's breaker stays off in the steady state: experiments turn it on.
        expected = {name: (service, name) != ("gateway", "breaker") for name in switches}
        assert switches == expected, service
    faults = system.http.get(system.url("push_provider") + "/admin/faults").json()
    assert (faults["delay_ms"], faults["concurrency"]) == (0, 0)
    with pytest.raises(KeyError, match=r"push_provider.*has no protection switches"):
        system.protections("push_provider", dedupe=False)
