"""Tests of the reactions service: store, sync notify, async publish, outbox, drainer, publisher."""

import json
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from pathlib import Path

import httpx
import pytest

from sample_system.reactions import Settings, create_app
from sample_system.reactions.drainer import Drainer
from sample_system.reactions.publisher import Publisher, PublisherBusy, PublishError
from sample_system.reactions.store import Store

REACTION = {"post_id": "p1", "user_id": "u1", "kind": "like"}


class FakeLink:
    """A broker channel that records confirmed messages and fails on demand."""

    def __init__(self, broker: "FakeBroker", confirms: bool) -> None:
        self.broker = broker
        self.confirms = confirms
        self.closed = False

    def publish(self, message_id: str, body: bytes, *, persistent: bool) -> None:
        if self.broker.publish_failures:
            self.broker.publish_failures -= 1
            raise ConnectionResetError("connection reset by peer")
        self.broker.confirmed.append((message_id, body))
        self.broker.persistent.append(persistent)

    def idle(self) -> None:
        if self.broker.drop_idle:
            raise ConnectionResetError("heartbeat missed")

    def close(self) -> None:
        self.closed = True


class FakeBroker:
    """Hands out FakeLinks; ``down`` makes connecting fail; records each link's options."""

    def __init__(self) -> None:
        self.down = False
        self.publish_failures = 0
        self.drop_idle = False
        self.connects = 0
        self.confirmed: list[tuple[str, bytes]] = []
        self.persistent: list[bool] = []
        self.links: list[dict[str, bool]] = []

    def connect(self, *, confirms: bool, timeouts: bool) -> FakeLink:
        self.connects += 1
        if self.down:
            raise ConnectionRefusedError("broker down")
        self.links.append({"confirms": confirms, "timeouts": timeouts})
        return FakeLink(self, confirms)


class FakeClock:
    """A monotonic clock that advances only when told (or when the fake sleep runs)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_publisher(broker: FakeBroker, clock: FakeClock, **kwargs: float) -> Publisher:
    options = {"attempts": 3, "max_s": 60.0, "backoff_s": 0.1, "backoff_max_s": 1.0}
    options.update(kwargs)
    return Publisher(broker.connect, sleep=clock.sleep, clock=clock, **options)  # type: ignore[arg-type]


# --- publisher (driven by run_once, no thread) ---


def test_publisher_confirms_a_message() -> None:
    broker, clock = FakeBroker(), FakeClock()
    publisher = make_publisher(broker, clock)
    future = publisher.submit("r1", b"{}")
    assert publisher.run_once(0) is True
    assert future.result(timeout=0) is None
    assert broker.confirmed == [("r1", b"{}")]
    assert publisher.connected


def test_publisher_retries_with_exponential_backoff_and_reconnects() -> None:
    broker, clock = FakeBroker(), FakeClock()
    broker.publish_failures = 2
    publisher = make_publisher(broker, clock)
    future = publisher.submit("r1", b"{}")
    publisher.run_once(0)
    future.result(timeout=0)
    assert clock.sleeps == [0.1, 0.2]
    assert broker.connects == 3  # a failed publish drops the link; the retry reconnects


def test_publisher_gives_up_after_its_attempts_then_cools_down() -> None:
    broker, clock = FakeBroker(), FakeClock()
    broker.down = True
    publisher = make_publisher(broker, clock, cooldown_s=5.0)
    future = publisher.submit("r1", b"{}")
    publisher.run_once(0)
    with pytest.raises(PublishError, match="r1 failed after retries"):
        future.result(timeout=0)
    assert broker.connects == 3
    # While cooling down a request does not touch the broker at all ...
    second = publisher.submit("r2", b"{}")
    publisher.run_once(0)
    with pytest.raises(PublishError, match="cooling down"):
        second.result(timeout=0)
    assert broker.connects == 3
    # ... but a probe from the drainer does, and its success ends the cooldown.
    broker.down = False
    probe = publisher.submit("r3", b"{}", probe=True)
    publisher.run_once(0)
    probe.result(timeout=0)
    third = publisher.submit("r4", b"{}")
    publisher.run_once(0)
    third.result(timeout=0)
    assert [m for m, _ in broker.confirmed] == ["r3", "r4"]


def test_publisher_stops_retrying_when_the_time_budget_is_spent() -> None:
    broker, clock = FakeBroker(), FakeClock()
    broker.down = True
    publisher = make_publisher(broker, clock, attempts=100, max_s=1.0, backoff_s=0.4)
    future = publisher.submit("r1", b"{}")
    publisher.run_once(0)
    with pytest.raises(PublishError):
        future.result(timeout=0)
    assert sum(clock.sleeps) <= 1.0 + 1.0  # budget plus at most one backoff wait
    assert broker.connects < 10


def test_publisher_skips_a_job_its_waiter_gave_up_on() -> None:
    broker, clock = FakeBroker(), FakeClock()
    publisher = make_publisher(broker, clock)
    future = publisher.submit("r1", b"{}")
    assert future.cancel()
    publisher.run_once(0)
    assert broker.confirmed == []


def test_publisher_queue_is_bounded() -> None:
    publisher = make_publisher(FakeBroker(), FakeClock(), queue_size=1)
    publisher.submit("r1", b"{}")
    with pytest.raises(PublisherBusy, match="queue is full"):
        publisher.submit("r2", b"{}")


def test_publisher_drops_a_connection_that_dies_while_idle() -> None:
    broker, clock = FakeBroker(), FakeClock()
    publisher = make_publisher(broker, clock)
    publisher.submit("r1", b"{}")
    publisher.run_once(0)
    broker.drop_idle = True
    assert publisher.run_once(0) is False
    assert not publisher.connected


def test_publisher_constructor_rejects_bad_bounds() -> None:
    with pytest.raises(ValueError, match="queue_size=0"):
        Publisher(FakeBroker().connect, queue_size=0)
    with pytest.raises(ValueError, match="attempts=0"):
        Publisher(FakeBroker().connect, attempts=0)


@pytest.mark.timeout(10)
def test_publisher_thread_serves_submissions() -> None:
    broker = FakeBroker()
    publisher = Publisher(broker.connect, idle_s=0.05)
    publisher.start()
    try:
        futures = [publisher.submit(f"r{i}", b"{}") for i in range(5)]
        for future in futures:
            future.result(timeout=5)
    finally:
        publisher.stop()
    assert [m for m, _ in broker.confirmed] == [f"r{i}" for i in range(5)]


# --- fake publisher for the drainer and the app ---


class FakePublisher:
    """Resolves each submission at once, as ``outcome`` says."""

    def __init__(self) -> None:
        self.fail = False
        self.submitted: list[tuple[str, bool]] = []
        self.started = self.stopped = False

    @property
    def connected(self) -> bool:
        return not self.fail

    def start(self) -> None:
        self.started = True

    def stop(self, timeout_s: float = 5.0) -> None:
        self.stopped = True

    def submit(self, message_id: str, body: bytes, *, probe: bool = False) -> "Future[None]":
        self.submitted.append((message_id, probe))
        future: Future[None] = Future()
        if self.fail:
            future.set_exception(PublishError("broker down"))
        else:
            future.set_result(None)
        return future


def test_drainer_publishes_in_order_and_deletes_only_after_confirm(tmp_path: Path) -> None:
    store, publisher = Store(str(tmp_path / "db")), FakePublisher()
    for rid in ("a", "b"):
        store.outbox_add(rid, b"{}")
    drainer = Drainer(store, publisher, backoff_s=0.5, backoff_max_s=2.0)
    publisher.fail = True
    assert [drainer.drain_once() for _ in range(3)] == [0.5, 1.0, 2.0]
    assert store.outbox_size() == 2
    assert drainer.drain_once() == 2.0  # capped
    publisher.fail = False
    assert drainer.drain_once() == 0.0
    assert drainer.drain_once() == 0.0
    assert drainer.drain_once() is None
    assert [m for m, probe in publisher.submitted if not publisher.fail] == ["a"] * 4 + ["a", "b"]
    assert all(probe for _, probe in publisher.submitted)
    assert store.outbox_size() == 0
    publisher.fail = True
    store.outbox_add("c", b"{}")
    assert drainer.drain_once() == 0.5  # a success reset the backoff


def test_drainer_rejects_bad_backoff(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="backoff_s"):
        Drainer(Store(str(tmp_path / "db")), FakePublisher(), backoff_s=0)


@pytest.mark.timeout(10)
def test_drainer_thread_empties_the_outbox_once_woken(tmp_path: Path) -> None:
    store, publisher = Store(str(tmp_path / "db")), FakePublisher()
    drained = threading.Event()
    original = store.outbox_delete

    def delete(seq: int) -> None:
        original(seq)
        drained.set()

    store.outbox_delete = delete  # type: ignore[method-assign]
    drainer = Drainer(store, publisher, poll_s=30.0)
    drainer.start()
    try:
        store.outbox_add("a", b"{}")
        drainer.wake()
        assert drained.wait(5), "the drainer did not publish the woken row"
    finally:
        drainer.stop()
    assert store.outbox_size() == 0


# --- the app ---

Handler = Callable[[httpx.Request], httpx.Response]


class Notifications:
    """A mocked notifications service."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, str]] = []
        self.behaviour: Handler = lambda request: httpx.Response(200, json={"notified": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return self.behaviour(request)


@pytest.fixture
def notifications() -> Notifications:
    return Notifications()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
async def client(
    tmp_path: Path, notifications: Notifications, publisher: FakePublisher
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(db_path=str(tmp_path / "reactions.db"), notifications_url="http://n.test")
    app = create_app(settings, transport=httpx.MockTransport(notifications), publisher=publisher)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reactions"
    ) as c:
        yield c


async def test_sync_mode_notifies_and_answers_201(
    client: httpx.AsyncClient, notifications: Notifications
) -> None:
    response = await client.post("/reactions", json={**REACTION, "reaction_id": "r1"})
    assert response.status_code == 201
    assert response.json() == {"reaction_id": "r1", "notified": True}
    assert notifications.bodies == [{**REACTION, "reaction_id": "r1"}]


async def test_missing_reaction_id_gets_a_uuid(client: httpx.AsyncClient) -> None:
    response = await client.post("/reactions", json=REACTION)
    assert response.status_code == 201
    assert len(response.json()["reaction_id"]) == 36


@pytest.mark.parametrize(
    ("exc", "status"),
    [(httpx.ReadTimeout("slow"), 504), (httpx.ConnectError("refused"), 502)],
)
async def test_sync_failures_map_to_gateway_errors(
    client: httpx.AsyncClient, notifications: Notifications, exc: Exception, status: int
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    notifications.behaviour = fail
    response = await client.post("/reactions", json={**REACTION, "reaction_id": "r1"})
    assert response.status_code == status
    assert response.json()["reaction_id"] == "r1"
    assert type(exc).__name__ in response.json()["error"]


async def test_sync_upstream_504_stays_504(
    client: httpx.AsyncClient, notifications: Notifications
) -> None:
    notifications.behaviour = lambda request: httpx.Response(504, json={"error": "timeout"})
    response = await client.post("/reactions", json=REACTION)
    assert response.status_code == 504


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"post_id": "p1", "user_id": "u1"}, "kind"),
        ({**REACTION, "reaction_id": 5}, "reaction_id"),
        ({**REACTION, "user_id": ""}, "user_id"),
    ],
)
async def test_bad_body_is_a_400(
    client: httpx.AsyncClient, notifications: Notifications, body: dict[str, object], fragment: str
) -> None:
    response = await client.post("/reactions", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert notifications.bodies == []


async def test_async_mode_publishes_to_the_broker(
    client: httpx.AsyncClient, publisher: FakePublisher, notifications: Notifications
) -> None:
    assert (await client.put("/admin/mode", json={"mode": "async"})).json() == {"mode": "async"}
    response = await client.post("/reactions", json={**REACTION, "reaction_id": "r1"})
    assert response.status_code == 202
    assert response.json() == {"reaction_id": "r1", "queued": "broker"}
    assert publisher.submitted == [("r1", False)]
    assert notifications.bodies == []
    assert (await client.get("/admin/outbox")).json() == {"size": 0, "enabled": True}


async def test_async_mode_falls_back_to_the_outbox(
    client: httpx.AsyncClient, publisher: FakePublisher
) -> None:
    await client.put("/admin/mode", json={"mode": "async"})
    publisher.fail = True
    first = await client.post("/reactions", json={**REACTION, "reaction_id": "r1"})
    assert first.status_code == 202
    assert first.json() == {"reaction_id": "r1", "queued": "outbox"}
    # Behind a non-empty outbox, later events queue there without touching the publisher.
    publisher.fail = False
    second = await client.post("/reactions", json={**REACTION, "reaction_id": "r2"})
    assert second.json()["queued"] == "outbox"
    assert publisher.submitted == [("r1", False)]
    assert (await client.get("/admin/outbox")).json() == {"size": 2, "enabled": True}
    health = (await client.get("/health")).json()
    assert health["status"] == "ok"
    assert health["outbox"] == 2
    metrics = (await client.get("/metrics")).text
    assert "reactions_outbox_size 2.0" in metrics
    assert 'reactions_requests_total{mode="async",outcome="outbox"} 2.0' in metrics
    assert 'reactions_mode{mode="async"} 1.0' in metrics


async def test_without_the_outbox_a_broker_failure_is_a_503(
    client: httpx.AsyncClient, publisher: FakePublisher
) -> None:
    await client.put("/admin/mode", json={"mode": "async"})
    off = await client.put("/admin/outbox", json={"enabled": False})
    assert off.json() == {"size": 0, "enabled": False}
    publisher.fail = True
    response = await client.post("/reactions", json={**REACTION, "reaction_id": "r1"})
    assert response.status_code == 503
    assert "outbox is off" in response.json()["error"]
    assert (await client.get("/admin/outbox")).json()["size"] == 0
    bad = await client.put("/admin/outbox", json={"enabled": "no"})
    assert bad.status_code == 400 and "'enabled'" in bad.json()["error"]


async def test_mode_switch_rejects_unknown_modes(client: httpx.AsyncClient) -> None:
    response = await client.put("/admin/mode", json={"mode": "carrier-pigeon"})
    assert response.status_code == 400
    assert "carrier-pigeon" in response.json()["error"]
    assert (await client.get("/admin/mode")).json() == {"mode": "sync"}


def test_reactions_survive_in_the_store(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    assert store.add_reaction("r1", "p1", "u1", "like") is True
    assert store.add_reaction("r1", "p1", "u1", "like") is False
    store.outbox_add("r1", b"x")
    store.close()
    reopened = Store(str(tmp_path / "db"))
    assert reopened.reaction_count() == 1
    head = reopened.outbox_head()
    assert head is not None and (head.reaction_id, head.body) == ("r1", b"x")


def test_store_error_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="REACTIONS_DB_PATH"):
        Store(str(tmp_path / "missing-dir" / "db"))


def test_settings_parse_the_mode() -> None:
    assert Settings.from_env({"REACTIONS_MODE": "ASYNC"}).mode == "async"
    with pytest.raises(ValueError, match="REACTIONS_MODE='fast' is not one of sync, async"):
        Settings.from_env({"REACTIONS_MODE": "fast"})
