"""Integration tests of the async path against a private RabbitMQ node and real processes.

push_provider + reactions (async) + notifier_worker, each its own process; the broker is stopped
and restarted, the provider fails on demand, poison is published by hand.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pika
import pika.exceptions
import pytest

from sample_system.reactions.publisher import PikaLink
from tests.sample_system._procs import Service, free_port
from tests.sample_system._rabbit import RABBITMQ_SERVER, RabbitNode

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(
        not RABBITMQ_SERVER.exists(), reason=f"{RABBITMQ_SERVER} is absent (apt rabbitmq-server)"
    ),
]


def eventually(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` (other processes' state; there is no event to wait on) until true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s}s: {what}")


@dataclass
class System:
    node: RabbitNode
    push: str
    reactions: str
    worker: str
    services: dict[str, Service]

    def react(self, reaction_id: str) -> httpx.Response:
        body = {"post_id": "p1", "user_id": "u1", "kind": "like", "reaction_id": reaction_id}
        return httpx.post(f"{self.reactions}/reactions", json=body, timeout=10)

    def counts(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.push}/ledger", timeout=5).json()["counts"])

    def worker_metric(self, name: str) -> float:
        for line in httpx.get(f"{self.worker}/metrics", timeout=5).text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"metric {name} not exposed by the worker")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    base: Path = tmp_path_factory.mktemp("async-system")
    node = RabbitNode(base / "rabbit")
    services: dict[str, Service] = {}
    ports = {name: free_port() for name in ("push", "reactions", "worker")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        node.start()
        specs = {
            "push_provider": {"PUSH_PORT": str(ports["push"])},
            "reactions": {
                "REACTIONS_PORT": str(ports["reactions"]),
                "REACTIONS_DB_PATH": str(base / "reactions.db"),
                "REACTIONS_MODE": "async",
                "AMQP_URL": node.url,
                "REACTIONS_BROKER_COOLDOWN_S": "0.5",
                "REACTIONS_DRAIN_BACKOFF_MAX_S": "1.0",
            },
            "notifier_worker": {
                "WORKER_PORT": str(ports["worker"]),
                "WORKER_DB_PATH": str(base / "worker.db"),
                "AMQP_URL": node.url,
                "PUSH_URL": url["push"],
                "WORKER_BREAKER_FAIL_MAX": "3",
                "WORKER_BREAKER_RESET_S": "1.0",
                "WORKER_RETRY_ATTEMPTS": "2",
                "WORKER_RETRY_BACKOFF_S": "0.05",
                "WORKER_OPEN_PAUSE_S": "0.5",
                "WORKER_RECONNECT_BACKOFF_MAX_S": "1.0",
            },
        }
        health = {"push_provider": url["push"], "reactions": url["reactions"]}
        health["notifier_worker"] = url["worker"]
        for package, env in specs.items():
            services[package] = Service(package, env, base)
            services[package].wait_healthy(health[package])
        yield System(node, url["push"], url["reactions"], url["worker"], services)
    finally:
        for service in services.values():
            service.stop()
        node.close()


@pytest.mark.timeout(120)
def test_async_reactions_are_delivered_exactly_once(system: System) -> None:
    ids = [f"ok-{i}" for i in range(20)]
    for rid in ids:
        response = system.react(rid)
        assert response.status_code == 202, response.text
        assert response.json() == {"reaction_id": rid, "queued": "broker"}
    eventually(lambda: all(system.counts().get(r) for r in ids), 30, "all 20 delivered")
    counts = system.counts()
    assert {r: counts[r] for r in ids} == dict.fromkeys(ids, 1)
    assert system.worker_metric("consumer_connected") == 1


@pytest.mark.timeout(120)
def test_poison_is_dead_lettered(system: System) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(system.node.url))
    try:
        channel = connection.channel()
        channel.basic_publish("", "notifications", b"definitely not json")
        channel.basic_publish("", "notifications", json.dumps({"reaction_id": "x"}).encode())

        def dlq_depth() -> int:
            ok = channel.queue_declare("notifications.dlq", passive=True)
            return int(ok.method.message_count)

        eventually(lambda: dlq_depth() >= 2, 30, "2 poison messages in notifications.dlq")
    finally:
        connection.close()
    assert system.worker_metric("worker_dead_lettered_total") >= 2


@pytest.mark.timeout(180)
def test_broker_outage_is_absorbed_by_the_outbox(system: System) -> None:
    system.node.stop()
    ids = [f"outage-{i}" for i in range(10)]
    started = time.monotonic()
    for rid in ids:
        response = system.react(rid)
        assert response.status_code == 202, response.text
        assert response.json()["queued"] == "outbox"
    assert time.monotonic() - started < 60  # generous: the point is "no hang", not speed
    assert httpx.get(f"{system.reactions}/admin/outbox").json() == {"size": 10, "enabled": True}
    system.node.start()
    eventually(
        lambda: httpx.get(f"{system.reactions}/admin/outbox").json()["size"] == 0,
        60,
        "outbox drained after the broker came back",
    )
    eventually(lambda: all(system.counts().get(r) for r in ids), 60, "outage reactions delivered")
    counts = system.counts()
    assert {r: counts[r] for r in ids} == dict.fromkeys(ids, 1)
    eventually(lambda: system.worker_metric("consumer_connected") == 1, 30, "worker reconnected")


@pytest.mark.timeout(180)
def test_open_breaker_requeues_and_nothing_is_lost(system: System) -> None:
    faults = f"{system.push}/admin/faults"
    httpx.put(faults, json={"error_rate": 1.0}).raise_for_status()
    try:
        ids = [f"breaker-{i}" for i in range(5)]
        for rid in ids:
            assert system.react(rid).status_code == 202
        eventually(lambda: system.worker_metric("breaker_state") == 2, 30, "breaker open")
        assert not any(system.counts().get(r) for r in ids)
    finally:
        httpx.put(faults, json={"error_rate": 0.0}).raise_for_status()
    eventually(lambda: all(system.counts().get(r) for r in ids), 60, "delivered after recovery")
    counts = system.counts()
    assert {r: counts[r] for r in ids} == dict.fromkeys(ids, 1)
    eventually(lambda: system.worker_metric("breaker_state") == 0, 30, "breaker closed again")


# --- protections against the real broker: what confirms, persistence and durability buy ---


@pytest.mark.timeout(60)
@pytest.mark.parametrize("confirms", [True, False])
def test_without_confirms_a_message_the_broker_drops_counts_as_published(
    system: System, confirms: bool
) -> None:
    queue = f"probe-confirms-{str(confirms).lower()}"
    link = PikaLink(system.node.url, queue, 2.0, 10, confirms=confirms)
    admin = pika.BlockingConnection(pika.URLParameters(system.node.url))
    try:
        admin.channel().queue_delete(queue)  # nothing routes the next message: the broker drops it
        if confirms:
            with pytest.raises(pika.exceptions.UnroutableError):
                link.publish("m1", b"{}", persistent=True)
        else:
            assert link.publish("m1", b"{}", persistent=True) is None  # no confirm to wait for
    finally:
        link.close()
        admin.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("dedupe", "pushes"), [(True, 1), (False, 2)])
def test_a_reaction_published_twice_is_pushed_twice_without_dedupe(
    system: System, dedupe: bool, pushes: int
) -> None:
    switches = f"{system.worker}/admin/protections"
    assert httpx.put(switches, json={"dedupe": dedupe}, timeout=5).json()["dedupe"] is dedupe
    try:
        rid, sentinel = f"twice-{dedupe}", f"after-twice-{dedupe}"
        for reaction_id in (rid, rid, sentinel):  # reactions publishes a repeated id again
            assert system.react(reaction_id).status_code == 202
        # One consumer handles messages in order: once the sentinel is in, both copies were seen.
        eventually(lambda: system.counts().get(sentinel) == 1, 30, "sentinel delivered")
        assert system.counts()[rid] == pushes
    finally:
        httpx.put(switches, json={"dedupe": True}, timeout=5).raise_for_status()


@pytest.mark.timeout(180)
def test_persistence_and_durability_decide_what_survives_a_broker_restart(
    system: System,
) -> None:
    """(persistent, durable): only both together keep a message across a restart."""
    cases = {"both": (True, True), "transient": (False, True), "non-durable": (True, False)}
    for name, (persistent, durable) in cases.items():
        link = PikaLink(system.node.url, f"probe-{name}", 2.0, 10, durable=durable)
        try:
            link.publish("m1", b"{}", persistent=persistent)
        finally:
            link.close()
    system.node.stop()
    system.node.start()
    connection = pika.BlockingConnection(pika.URLParameters(system.node.url))

    def depth(queue: str) -> int | None:
        try:
            ok = connection.channel().queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            assert exc.reply_code == 404, exc
            return None  # the queue itself is gone
        return int(ok.method.message_count)

    try:
        survived = {name: depth(f"probe-{name}") for name in cases}
    finally:
        connection.close()
    assert survived == {"both": 1, "transient": 0, "non-durable": None}
    eventually(lambda: system.worker_metric("consumer_connected") == 1, 30, "worker reconnected")
