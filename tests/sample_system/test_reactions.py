"""Tests of the reactions service: store, sync notify, async publish, outbox, drainer, publisher."""

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from pathlib import Path

import httpx
import pika
import pika.exceptions
import pytest

from sample_system.common.protections import Protections
from sample_system.reactions import Settings, create_app
from sample_system.reactions.app import default_publisher
from sample_system.reactions.drainer import Drainer
from sample_system.reactions.metrics import ReactionsMetrics
from sample_system.reactions.publisher import PikaLink, Publisher, PublisherBusy, PublishError
from sample_system.reactions.settings import PROTECTIONS
from sample_system.reactions.store import Store
from tests.sample_system._fakes import FakeClock, httpx_timeouts

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


def make_publisher(
    broker: FakeBroker, clock: FakeClock, protections: Protections | None = None, **kwargs: float
) -> Publisher:
    options = {"attempts": 3, "max_s": 60.0, "backoff_s": 0.1, "backoff_max_s": 1.0}
    options.update(kwargs)
    return Publisher(
        broker.connect,
        protections=protections,
        sleep=clock.sleep,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


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
        self.bodies: list[bytes] = []
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
        self.bodies.append(body)
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
        self.timeouts: list[object] = []
        self.behaviour: Handler = lambda request: httpx.Response(200, json={"notified": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        self.timeouts.append(request.extensions["timeout"])
        return self.behaviour(request)


@pytest.fixture
def notifications() -> Notifications:
    return Notifications()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@contextlib.asynccontextmanager
async def app_client(
    settings: Settings, notifications: Notifications, publisher: FakePublisher
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, transport=httpx.MockTransport(notifications), publisher=publisher)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://reactions"
    ) as c:
        yield c


@pytest.fixture
async def client(
    tmp_path: Path, notifications: Notifications, publisher: FakePublisher
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(db_path=str(tmp_path / "reactions.db"), notifications_url="http://n.test")
    async with app_client(settings, notifications, publisher) as c:
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


# --- protections: each switch off ships the regression ---


def switched(**off: bool) -> Protections:
    return Protections(PROTECTIONS, off)


def publish(publisher: Publisher, message_id: str) -> None:
    future = publisher.submit(message_id, b"{}")
    publisher.run_once(0)
    future.result(timeout=0)


def test_confirms_off_opens_the_channel_without_confirm_mode_and_a_change_reopens_it() -> None:
    broker, clock, protections = FakeBroker(), FakeClock(), switched()
    publisher = make_publisher(broker, clock, protections)
    publish(publisher, "r1")
    protections.switch("confirms", False)
    publish(publisher, "r2")
    assert [link["confirms"] for link in broker.links] == [True, False]
    publish(publisher, "r3")
    assert broker.connects == 2  # reopened once for the change, not per message


def test_persistent_off_publishes_transient_messages() -> None:
    broker, clock, protections = FakeBroker(), FakeClock(), switched()
    publisher = make_publisher(broker, clock, protections)
    publish(publisher, "r1")
    protections.switch("persistent", False)
    publish(publisher, "r2")
    assert broker.persistent == [True, False]


def test_reconnect_off_never_opens_a_second_connection() -> None:
    broker, clock, protections = FakeBroker(), FakeClock(), switched(reconnect=False)
    publisher = make_publisher(broker, clock, protections)
    publish(publisher, "r1")  # the first connection is allowed
    broker.drop_idle = True
    publisher.run_once(0)  # the connection dies while idle
    broker.drop_idle = False
    future = publisher.submit("r2", b"{}")
    publisher.run_once(0)
    with pytest.raises(PublishError, match="r2 failed after retries"):
        future.result(timeout=0)
    assert broker.connects == 1
    protections.switch("reconnect", True)
    clock.now += 10  # past the cooldown that r2's failure started
    publish(publisher, "r3")
    assert broker.connects == 2


def test_reconnect_off_after_a_failed_first_connection_gives_up_for_good() -> None:
    broker, clock = FakeBroker(), FakeClock()
    broker.down = True
    publisher = make_publisher(broker, clock, switched(reconnect=False))
    future = publisher.submit("r1", b"{}", probe=True)
    publisher.run_once(0)
    with pytest.raises(PublishError):
        future.result(timeout=0)
    broker.down = False
    probe = publisher.submit("r2", b"{}", probe=True)
    publisher.run_once(0)
    with pytest.raises(PublishError, match="reconnect is off"):
        probe.result(timeout=0)
    assert broker.connects == 1


@pytest.mark.parametrize(("backoff", "connects", "sleeps"), [(True, 2, [0.1]), (False, 3, [])])
def test_retry_backoff_off_retries_at_once_past_the_budget(
    backoff: bool, connects: int, sleeps: list[float]
) -> None:
    broker, clock = FakeBroker(), FakeClock()
    broker.down = True
    protections = switched(retry_backoff=backoff)
    publisher = make_publisher(broker, clock, protections, attempts=3, max_s=0.15)
    future = publisher.submit("r1", b"{}")
    publisher.run_once(0)
    with pytest.raises(PublishError):
        future.result(timeout=0)
    assert broker.connects == connects  # on: the 0.2 s wait would pass the 0.15 s budget
    assert [s for s in clock.sleeps if s] == sleeps


def test_timeouts_switch_reaches_the_amqp_connection() -> None:
    broker, clock, protections = FakeBroker(), FakeClock(), switched(timeouts=False)
    publish(make_publisher(broker, clock, protections), "r1")
    assert broker.links == [{"confirms": True, "timeouts": False}]


# --- PikaLink over a fake pika connection ---


class FakePikaChannel:
    def __init__(self, fail_declare: Exception | None = None) -> None:
        self.confirm_mode = False
        self.declared: dict[str, dict[str, object]] = {}
        self.published: list[pika.BasicProperties] = []
        self.fail_declare = fail_declare

    def confirm_delivery(self) -> None:
        self.confirm_mode = True

    def exchange_declare(self, **kwargs: object) -> None: ...

    def queue_bind(self, **kwargs: object) -> None: ...

    def queue_declare(self, queue: str, **kwargs: object) -> None:
        if self.fail_declare and not queue.endswith(".dlq"):
            raise self.fail_declare
        self.declared[queue] = kwargs

    def basic_publish(self, **kwargs: object) -> None:
        properties = kwargs["properties"]
        assert isinstance(properties, pika.BasicProperties)
        self.published.append(properties)


class FakePikaConnection:
    """Stands in for pika.BlockingConnection; remembers the parameters it was given."""

    made: list["FakePikaConnection"] = []
    fail_declare: Exception | None = None

    down_ports: set[int] = set()  # connecting to these fails, as to a dead node

    def __init__(self, params: pika.URLParameters) -> None:
        if params.port in self.down_ports:
            raise pika.exceptions.AMQPConnectionError(f"port {params.port} refused")
        self.params = params
        self.chan = FakePikaChannel(self.fail_declare)
        self.is_open = True
        FakePikaConnection.made.append(self)

    def channel(self) -> FakePikaChannel:
        return self.chan

    def close(self) -> None:
        self.is_open = False


@pytest.fixture
def fake_pika(monkeypatch: pytest.MonkeyPatch) -> type[FakePikaConnection]:
    FakePikaConnection.made = []
    FakePikaConnection.fail_declare = None
    FakePikaConnection.down_ports = set()
    monkeypatch.setattr(pika, "BlockingConnection", FakePikaConnection)
    return FakePikaConnection


URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.mark.parametrize("confirms", [True, False])
def test_pika_link_enters_confirm_mode_only_with_confirms(
    fake_pika: type[FakePikaConnection], confirms: bool
) -> None:
    PikaLink(URL, "q", 1.0, 10, confirms=confirms)
    assert fake_pika.made[0].chan.confirm_mode is confirms


@pytest.mark.parametrize(("persistent", "mode"), [(True, 2), (False, 1)])
def test_pika_link_sets_the_delivery_mode(
    fake_pika: type[FakePikaConnection], persistent: bool, mode: int
) -> None:
    PikaLink(URL, "q", 1.0, 10).publish("r1", b"{}", persistent=persistent)
    (properties,) = fake_pika.made[0].chan.published
    assert (properties.delivery_mode, properties.message_id) == (mode, "r1")


def test_durable_queue_off_declares_a_transient_work_queue_from_the_service_settings(
    tmp_path: Path, fake_pika: type[FakePikaConnection]
) -> None:
    settings = Settings.from_env(
        {"REACTIONS_DURABLE_QUEUE": "off", "REACTIONS_DB_PATH": str(tmp_path / "db")}
    )
    protections = Protections(PROTECTIONS, settings.protections)
    metrics = ReactionsMetrics(lambda: 0)
    publisher = default_publisher(settings, metrics, protections)
    publish(publisher, "r1")
    declared = fake_pika.made[0].chan.declared
    assert declared["notifications"]["durable"] is False
    assert declared["notifications.dlq"]["durable"] is True
    assert fake_pika.made[0].params.socket_timeout == settings.amqp_timeout_s


def test_a_queue_declared_with_the_other_durability_fails_with_a_hint(
    fake_pika: type[FakePikaConnection],
) -> None:
    fake_pika.fail_declare = pika.exceptions.ChannelClosedByBroker(
        406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q'"
    )
    with pytest.raises(RuntimeError, match=r"durable=False .*rabbitmqctl delete_queue q"):
        PikaLink(URL, "q", 1.0, 10, durable=False)
    assert not fake_pika.made[0].is_open


def publisher_from_env(tmp_path: Path, **env: str) -> Publisher:
    settings = Settings.from_env({"REACTIONS_DB_PATH": str(tmp_path / "db"), **env})
    protections = Protections(PROTECTIONS, settings.protections)
    return default_publisher(settings, ReactionsMetrics(lambda: 0), protections)


def test_the_default_queue_is_classic_declared_as_before_queue_types(
    tmp_path: Path, fake_pika: type[FakePikaConnection]
) -> None:
    publish(publisher_from_env(tmp_path), "r1")
    declared = fake_pika.made[0].chan.declared
    assert declared["notifications"]["arguments"] == {
        "x-dead-letter-exchange": "notifications.dlx",
        "x-dead-letter-routing-key": "notifications.dlq",
    }
    assert declared["notifications.dlq"]["arguments"] is None
    assert fake_pika.made[0].params.port == 5672


def test_queue_type_quorum_declares_the_work_queue_and_its_dlq_quorum(
    tmp_path: Path, fake_pika: type[FakePikaConnection]
) -> None:
    publish(publisher_from_env(tmp_path, REACTIONS_QUEUE_TYPE="quorum"), "r1")
    declared = fake_pika.made[0].chan.declared
    assert declared["notifications"]["arguments"]["x-queue-type"] == "quorum"  # type: ignore[index]
    assert declared["notifications.dlq"]["arguments"] == {"x-queue-type": "quorum"}
    assert fake_pika.made[0].chan.confirm_mode


def test_a_quorum_queue_cannot_be_made_transient() -> None:
    with pytest.raises(ValueError, match="REACTIONS_QUEUE_TYPE=quorum needs REACTIONS_DURABLE"):
        Settings.from_env({"REACTIONS_QUEUE_TYPE": "quorum", "REACTIONS_DURABLE_QUEUE": "off"})
    with pytest.raises(ValueError, match="REACTIONS_QUEUE_TYPE='stream' is not one of"):
        Settings.from_env({"REACTIONS_QUEUE_TYPE": "stream"})


CLUSTER = ",".join(f"amqp://guest:guest@127.0.0.1:{port}/%2F" for port in (5001, 5002, 5003))


def test_the_publisher_fails_over_to_the_next_node_with_confirms_on(
    tmp_path: Path, fake_pika: type[FakePikaConnection]
) -> None:
    publisher = publisher_from_env(tmp_path, AMQP_URL=CLUSTER)
    publish(publisher, "r1")
    first = fake_pika.made[-1]
    assert first.params.port == 5001
    # Node 1 dies: its connection fails the next publish; the retry opens node 2's.
    fake_pika.down_ports = {5001}
    first.chan.basic_publish = lambda **kwargs: (_ for _ in ()).throw(  # type: ignore[method-assign]
        pika.exceptions.StreamLostError("node 1 died")
    )
    publish(publisher, "r2")
    second = fake_pika.made[-1]
    assert second.params.port == 5002 and second.chan.confirm_mode
    assert [p.message_id for p in second.chan.published] == ["r2"]


def test_a_publisher_with_every_node_down_names_each_one(
    tmp_path: Path, fake_pika: type[FakePikaConnection]
) -> None:
    fake_pika.down_ports = {5001, 5002, 5003}
    publisher = publisher_from_env(tmp_path, AMQP_URL=CLUSTER, REACTIONS_PUBLISH_ATTEMPTS="1")
    future = publisher.submit("r1", b"{}")
    publisher.run_once(0)
    with pytest.raises(PublishError, match=r"no broker of 3 .*127.0.0.1:5001.*127.0.0.1:5003"):
        future.result(timeout=0)


# --- the drainer ---


@pytest.mark.parametrize(("after_confirm", "left"), [(True, 1), (False, 0)])
def test_delete_after_confirm_off_loses_the_row_when_its_publish_fails(
    tmp_path: Path, after_confirm: bool, left: int
) -> None:
    store, publisher = Store(str(tmp_path / "db")), FakePublisher()
    store.outbox_add("a", b"{}")
    drainer = Drainer(store, publisher, protections=switched(delete_after_confirm=after_confirm))
    publisher.fail = True
    assert drainer.drain_once() == 0.2
    assert publisher.submitted == [("a", True)]
    assert store.outbox_size() == left  # off: deleted before the confirm that never came


class PendingPublisher(FakePublisher):
    """Never resolves on its own: the test resolves ``futures`` when it wants."""

    def __init__(self) -> None:
        super().__init__()
        self.futures: list[Future[None]] = []

    def submit(self, message_id: str, body: bytes, *, probe: bool = False) -> "Future[None]":
        self.submitted.append((message_id, probe))
        self.bodies.append(body)
        self.futures.append(Future())
        return self.futures[-1]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("timeouts", [True, False])
def test_drainer_confirm_wait_has_a_limit_only_with_timeouts(
    tmp_path: Path, timeouts: bool
) -> None:
    store, publisher = Store(str(tmp_path / "db")), PendingPublisher()
    store.outbox_add("a", b"{}")
    drainer = Drainer(
        store, publisher, protections=switched(timeouts=timeouts), confirm_timeout_s=0.01
    )
    result: list[float | None] = []
    worker = threading.Thread(target=lambda: result.append(drainer.drain_once()))
    worker.start()
    worker.join(0.5)  # far past the 0.01 s confirm timeout
    if timeouts:
        assert result == [0.2] and store.outbox_size() == 1
        assert publisher.futures[0].cancelled()
    else:
        assert worker.is_alive() and result == []  # still waiting on the confirm
        publisher.futures[0].set_result(None)
        worker.join(5)
        assert result == [0.0] and store.outbox_size() == 0


# --- the app ---


async def test_protections_endpoint_shares_the_outbox_switch_and_refuses_durability(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/admin/protections")).json() == PROTECTIONS.defaults()
    put = await client.put("/admin/protections", json={"outbox": False, "confirms": False})
    assert put.json() == {**PROTECTIONS.defaults(), "outbox": False, "confirms": False}
    assert (await client.get("/admin/outbox")).json()["enabled"] is False
    await client.put("/admin/outbox", json={"enabled": True})
    assert (await client.get("/admin/protections")).json()["outbox"] is True
    refused = await client.put("/admin/protections", json={"durable_queue": False})
    assert refused.status_code == 409
    assert "REACTIONS_DURABLE_QUEUE=off" in refused.json()["error"]
    assert refused.json()["startup_only"] == ["durable_queue"]
    unknown = await client.put("/admin/protections", json={"dedupe": False})
    assert unknown.status_code == 400 and "unknown protections" in unknown.json()["error"]


async def test_outbox_off_at_start_up_makes_a_broker_failure_a_503(
    tmp_path: Path, publisher: FakePublisher
) -> None:
    settings = Settings.from_env(
        {
            "REACTIONS_OUTBOX": "off",
            "REACTIONS_MODE": "async",
            "REACTIONS_DB_PATH": str(tmp_path / "db"),
        }
    )
    publisher.fail = True
    async with app_client(settings, Notifications(), publisher) as c:
        response = await c.post("/reactions", json={**REACTION, "reaction_id": "r1"})
        assert response.status_code == 503
        assert (await c.get("/admin/outbox")).json() == {"size": 0, "enabled": False}


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        (True, httpx_timeouts(2.0, pool=1.0)),
        (False, httpx_timeouts(None)),
    ],
)
async def test_notify_timeouts_are_removed_with_the_switch(
    client: httpx.AsyncClient, notifications: Notifications, timeouts: bool, expected: object
) -> None:
    await client.put("/admin/protections", json={"timeouts": timeouts})
    assert (await client.post("/reactions", json=REACTION)).status_code == 201
    assert notifications.timeouts == [expected]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("timeouts", [True, False])
async def test_a_request_waits_for_its_confirm_without_limit_only_when_timeouts_are_off(
    tmp_path: Path, timeouts: bool
) -> None:
    publisher = PendingPublisher()
    settings = Settings(db_path=str(tmp_path / "db"), mode="async", publish_timeout_s=0.01)
    async with app_client(settings, Notifications(), publisher) as c:
        await c.put("/admin/protections", json={"timeouts": timeouts})
        request = asyncio.create_task(c.post("/reactions", json={**REACTION, "reaction_id": "r"}))
        await asyncio.sleep(0.2)  # far past the 0.01 s publish timeout
        if timeouts:
            assert request.done()
            assert (await request).json() == {"reaction_id": "r", "queued": "outbox"}
        else:
            assert not request.done()  # still waiting on the confirm
            publisher.futures[0].set_result(None)
            assert (await request).json() == {"reaction_id": "r", "queued": "broker"}


async def test_the_published_event_carries_the_reaction_id(
    client: httpx.AsyncClient, publisher: FakePublisher
) -> None:
    await client.put("/admin/mode", json={"mode": "async"})
    await client.post("/reactions", json={**REACTION, "reaction_id": "r7"})
    (body,) = publisher.bodies
    event = json.loads(body)
    assert {k: event[k] for k in ("reaction_id", "post_id", "user_id", "kind")} == {
        **REACTION,
        "reaction_id": "r7",
    }
    assert isinstance(event["created_at"], float)
