"""Tests of the notifier-worker's message handling: poison, dedupe, breaker, retries, metrics."""

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pika
import pika.exceptions
import pybreaker
import pytest

from sample_system.common.ids import notification_id_for
from sample_system.common.protections import Protections
from sample_system.notifier_worker.consumer import Consumer
from sample_system.notifier_worker.dedupe import ProcessedIds
from sample_system.notifier_worker.handler import Decision, Handler, make_retrying, parse_event
from sample_system.notifier_worker.httpserver import start_http
from sample_system.notifier_worker.metrics import BreakerListener, WorkerMetrics
from sample_system.notifier_worker.pusher import Pusher, PushFailed, PushRejected
from sample_system.notifier_worker.settings import PROTECTIONS, Settings
from tests.sample_system._fakes import FakeClock, httpx_timeouts

EVENT = {"reaction_id": "r1", "post_id": "p1", "user_id": "u1", "kind": "like"}
BODY = json.dumps(EVENT).encode()
BODY2 = json.dumps({**EVENT, "reaction_id": "r2"}).encode()


class Provider:
    """A mocked push provider: pushes answer a queue of statuses (then 200), and each 200 is
    recorded (then ``after_push`` runs); a delivery lookup answers from those records, unless
    ``lookup_statuses`` (a queue too) says otherwise."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.calls: list[dict[str, str]] = []
        self.timeouts: list[object] = []
        self.delivered: Counter[str] = Counter()
        self.lookup_statuses: list[int] = []
        self.lookups: list[str] = []
        self.lookup_timeouts: list[object] = []
        self.after_push: Callable[[], None] = lambda: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/deliveries/"):
            return self.lookup(request)
        self.calls.append(json.loads(request.content))
        self.timeouts.append(request.extensions["timeout"])
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.delivered[self.calls[-1]["notification_id"]] += 1
            self.after_push()
        return httpx.Response(status, json={"delivered": status == 200})

    def lookup(self, request: httpx.Request) -> httpx.Response:
        notification_id = request.url.path.removeprefix("/deliveries/")
        self.lookups.append(notification_id)
        self.lookup_timeouts.append(request.extensions["timeout"])
        if self.lookup_statuses:
            return httpx.Response(self.lookup_statuses.pop(0), json={"error": "injected"})
        count = self.delivered[notification_id]
        if not count:
            return httpx.Response(
                404, json={"notification_id": notification_id, "delivered": False}
            )
        body = {"notification_id": notification_id, "delivered": True, "count": count}
        return httpx.Response(200, json=body)


class World:
    """A handler wired to a mocked provider, a real breaker and a fake clock."""

    def __init__(
        self,
        tmp_path: Path,
        fail_max: int = 3,
        reset_timeout: float = 60.0,
        max_s: float = 30.0,
        **off: bool,
    ) -> None:
        self.protections = Protections(PROTECTIONS, off)
        self.provider = Provider()
        self.clock = FakeClock()
        self.metrics = WorkerMetrics()
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            exclude=[PushRejected],
            listeners=[BreakerListener(self.metrics.breaker)],
        )
        self.processed = ProcessedIds(str(tmp_path / "worker.db"))
        client = httpx.Client(
            base_url="http://push.test",
            transport=httpx.MockTransport(self.provider),
            timeout=2.0,
        )
        retrying = make_retrying(
            attempts=3,
            max_s=max_s,
            backoff_s=0.1,
            backoff_max_s=1.0,
            jitter_s=0.0,
            on_retry=self.metrics.retries.inc,
            sleep=self.clock.sleep,
            clock=self.clock,
            protections=self.protections,
        )
        self.pusher = Pusher(client, self.protections, self.metrics.push_calls.inc)
        self.handler = Handler(
            self.processed,
            self.pusher,
            self.pusher.delivered,
            self.breaker,
            retrying,
            self.metrics,
            self.protections,
        )

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        value = self.metrics.registry.get_sample_value(name, labels or {})
        return 0.0 if value is None else value


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_new_message_is_pushed_async_and_acked(world: World) -> None:
    outcome = world.handler.handle(BODY, "r1")
    assert (outcome.decision, outcome.reason) == (Decision.ACK, "pushed")
    assert world.provider.calls == [
        {
            "notification_id": notification_id_for("r1"),
            "reaction_id": "r1",
            "recipient": "author-of-p1",
            "via": "async",
        }
    ]


def test_duplicate_message_is_acked_without_a_push(world: World) -> None:
    world.handler.handle(BODY, "r1")
    outcome = world.handler.handle(BODY, "r1")
    assert (outcome.decision, outcome.reason) == (Decision.ACK, "duplicate")
    assert len(world.provider.calls) == 1


def test_dedupe_survives_a_restart(tmp_path: Path) -> None:
    World(tmp_path).handler.handle(BODY, "r1")
    restarted = World(tmp_path)
    assert restarted.handler.handle(BODY, "r1").reason == "duplicate"
    assert restarted.provider.calls == []


class Killed(BaseException):
    """The worker dying by SIGKILL: nothing after it runs, not even an except clause."""


def kill() -> None:
    raise Killed


def test_a_worker_killed_after_the_provider_recorded_its_push_does_not_push_it_again(
    tmp_path: Path,
) -> None:
    first = World(tmp_path)
    first.provider.after_push = kill  # delivered, but the worker dies before it records so
    with pytest.raises(Killed):
        first.handler.handle(BODY, "r1")
    assert first.processed.state("r1") == "pending"
    restarted = World(tmp_path)  # same database, same provider
    restarted.provider.delivered = first.provider.delivered
    outcome = restarted.handler.handle(BODY, "r1")  # the broker's redelivery
    assert (outcome.decision, outcome.reason) == (Decision.ACK, "duplicate_in_doubt")
    assert restarted.provider.calls == []
    assert restarted.provider.lookups == [notification_id_for("r1")]
    assert restarted.processed.state("r1") == "done"
    assert restarted.handler.handle(BODY, "r1").reason == "duplicate"
    assert len(restarted.provider.lookups) == 1  # done: no lookup any more


def test_a_pending_message_the_provider_does_not_hold_is_pushed_once(world: World) -> None:
    world.processed.begin("r1")  # the worker died before its push reached the provider
    outcome = world.handler.handle(BODY, "r1")
    assert (outcome.decision, outcome.reason) == (Decision.ACK, "pushed")
    assert world.provider.lookups == [notification_id_for("r1")]
    assert [call["reaction_id"] for call in world.provider.calls] == ["r1"]
    assert world.processed.state("r1") == "done"
    assert world.handler.handle(BODY, "r1").reason == "duplicate"
    assert len(world.provider.calls) == 1


def test_a_new_message_is_pushed_without_a_lookup(world: World) -> None:
    seen_state: list[object] = []
    world.provider.after_push = lambda: seen_state.append(world.processed.state("r1"))
    assert world.handler.handle(BODY, "r1").reason == "pushed"
    assert seen_state == ["pending"]  # recorded before the push went out
    assert world.provider.lookups == []


def test_a_pending_message_whose_lookup_fails_is_requeued_without_a_push(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, fail_max=10)
    world.processed.begin("r1")
    world.provider.lookup_statuses = [503] * 3
    outcome = world.handler.handle(BODY, "r1")
    assert (outcome.decision, outcome.reason) == (Decision.REQUEUE, "retries_exhausted")
    assert world.provider.calls == []
    assert len(world.provider.lookups) == 3  # retried like a push, with its backoff
    assert world.clock.sleeps == [0.1, 0.2]
    assert world.processed.state("r1") == "pending"


def test_failed_lookups_open_the_breaker_so_an_outage_pauses_consumption(tmp_path: Path) -> None:
    world = World(tmp_path, fail_max=3)
    world.processed.begin("r1")
    world.provider.lookup_statuses = [503] * 3
    outcome = world.handler.handle(BODY, "r1")
    assert (outcome.decision, outcome.reason, outcome.pause) == (
        Decision.REQUEUE,
        "breaker_open",
        True,
    )
    assert world.breaker.current_state == "open"
    assert world.handler.handle(BODY, "r1").reason == "breaker_open"  # no lookup sent
    assert len(world.provider.lookups) == 3


def test_dedupe_off_neither_looks_up_nor_records(tmp_path: Path) -> None:
    world = World(tmp_path, dedupe=False)
    world.processed.begin("r1")  # left by a run with dedupe on
    world.provider.delivered[notification_id_for("r1")] = 1
    assert world.handler.handle(BODY, "r1").reason == "pushed"
    assert world.handler.handle(BODY2, "r2").reason == "pushed"
    assert world.provider.lookups == []
    assert world.provider.delivered[notification_id_for("r1")] == 2  # delivered twice
    assert world.processed.state("r1") == "pending"
    assert world.processed.state("r2") is None


def test_processed_id_states_survive_reopening_the_database(tmp_path: Path) -> None:
    path = str(tmp_path / "worker.db")
    killed = ProcessedIds(path)  # never closed, as after a SIGKILL
    killed.begin("m1")
    killed.begin("m2")
    killed.mark("m2")
    killed.mark("m3")  # done without a begin first
    reopened = ProcessedIds(path)
    assert [reopened.state(m) for m in ("m1", "m2", "m3", "m4")] == [
        "pending",
        "done",
        "done",
        None,
    ]
    reopened.begin("m2")  # a begin never takes a done id back to pending
    reopened.mark("m1")
    assert (reopened.state("m1"), reopened.state("m2")) == ("done", "done")
    assert reopened._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert reopened._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    reopened.close()
    killed.close()


def test_a_database_of_the_old_schema_opens_and_its_ids_are_done(tmp_path: Path) -> None:
    path = tmp_path / "worker.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE processed (message_id TEXT PRIMARY KEY, at REAL)")
    old.execute("INSERT INTO processed VALUES ('r1', 1.0)")
    old.commit()
    old.close()
    world = World(tmp_path)
    assert world.processed.state("r1") == "done"
    assert world.handler.handle(BODY, "r1").reason == "duplicate"
    assert world.handler.handle(BODY2, "r2").reason == "pushed"
    assert world.provider.calls == [world.provider.calls[0]]
    assert world.provider.calls[0]["reaction_id"] == "r2"
    world.processed.close()
    again = ProcessedIds(str(path))  # migrated already: opens as it is
    assert (again.state("r1"), again.state("r2")) == ("done", "done")


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", json.dumps({**EVENT, "post_id": None}).encode(), b"\xff\xfe"],
)
def test_poison_is_dead_lettered_without_a_push(world: World, body: bytes) -> None:
    assert parse_event(body) is None
    outcome = world.handler.handle(body, "x")
    assert outcome.decision is Decision.DEAD_LETTER
    assert world.provider.calls == []


def test_transient_failures_are_retried_with_backoff(world: World) -> None:
    world.provider.statuses = [503, 503]
    outcome = world.handler.handle(BODY, "r1")
    assert outcome.decision is Decision.ACK
    assert len(world.provider.calls) == 3
    assert world.clock.sleeps == [0.1, 0.2]
    assert world.metric("worker_push_retries_total") == 2


def test_push_calls_count_every_call_sent_and_none_the_breaker_stops(tmp_path: Path) -> None:
    world = World(tmp_path, fail_max=3)
    world.provider.statuses = [503] * 3
    world.handler.handle(BODY, "r1")  # three failed calls open the breaker
    assert world.handler.handle(BODY, "r2").reason == "breaker_open"
    assert len(world.provider.calls) == 3
    assert world.metric("worker_push_calls_total") == 3


def test_exhausted_retries_requeue_without_marking_processed(tmp_path: Path) -> None:
    world = World(tmp_path, fail_max=10)
    world.provider.statuses = [500] * 3
    outcome = world.handler.handle(BODY, "r1")
    assert (outcome.decision, outcome.reason, outcome.pause) == (
        Decision.REQUEUE,
        "retries_exhausted",
        False,
    )
    assert world.processed.state("r1") == "pending"  # not done: its redelivery is looked up
    assert world.handler.handle(BODY, "r1").reason == "pushed"  # redelivery succeeds
    assert world.provider.lookups == [notification_id_for("r1")]
    assert world.processed.state("r1") == "done"


def test_provider_refusal_is_dead_lettered_and_not_counted_by_the_breaker(world: World) -> None:
    world.provider.statuses = [400] * 5
    for _ in range(5):
        assert world.handler.handle(BODY, "r1").decision is Decision.DEAD_LETTER
    assert world.breaker.current_state == "closed"
    assert world.clock.sleeps == []


def test_breaker_opens_fails_fast_and_recovers(world: World) -> None:
    world.provider.statuses = [503] * 3
    tripped = world.handler.handle(BODY, "r1")
    assert (tripped.decision, tripped.reason, tripped.pause) == (
        Decision.REQUEUE,
        "breaker_open",
        True,
    )
    assert world.breaker.current_state == "open"
    calls = len(world.provider.calls)
    # Open: fail fast, no call, no retry sleep.
    sleeps = list(world.clock.sleeps)
    assert world.handler.handle(BODY, "r1").reason == "breaker_open"
    assert len(world.provider.calls) == calls
    assert world.clock.sleeps == sleeps
    assert world.processed.state("r1") == "pending"
    # pybreaker times its open state on the wall clock; skip the wait through its public API.
    world.breaker.half_open()
    assert world.handler.handle(BODY, "r1").reason == "pushed"
    assert world.breaker.current_state == "closed"
    assert world.metric("breaker_state") == 0
    assert world.metric("breaker_transitions_total", {"from": "closed", "to": "open"}) == 1
    assert world.metric("breaker_transitions_total", {"from": "half-open", "to": "closed"}) == 1
    assert world.metric("breaker_rejected_total") == 2


def test_breaker_state_gauge_reads_open(world: World) -> None:
    world.provider.statuses = [503] * 3
    world.handler.handle(BODY, "r1")
    assert world.metric("breaker_state") == 2


def test_pusher_maps_transport_errors_to_push_failed() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    pusher = Pusher(httpx.Client(base_url="http://p", transport=httpx.MockTransport(refuse)))
    with pytest.raises(PushFailed, match="ConnectError"):
        pusher(EVENT)
    with pytest.raises(PushFailed, match="ConnectError"):
        pusher.delivered(EVENT)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, True), (404, False), (400, PushFailed), (500, PushFailed), (503, PushFailed)],
)
def test_pusher_delivered_reads_the_delivery_status(
    status: int, expected: bool | type[Exception]
) -> None:
    paths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(f"{request.method} {request.url.path}")
        return httpx.Response(status, json={})

    pusher = Pusher(httpx.Client(base_url="http://p", transport=httpx.MockTransport(answer)))
    if isinstance(expected, bool):
        assert pusher.delivered(EVENT) is expected
    else:
        with pytest.raises(expected, match=str(status)):
            pusher.delivered(EVENT)
    assert paths == [f"GET /deliveries/{notification_id_for('r1')}"]


def test_settings_from_env() -> None:
    settings = Settings.from_env({"WORKER_PREFETCH": "3", "WORKER_BREAKER_FAIL_MAX": "2"})
    assert (settings.prefetch, settings.breaker_fail_max) == (3, 2)
    with pytest.raises(ValueError, match="WORKER_PREFETCH=0 is out of range"):
        Settings.from_env({"WORKER_PREFETCH": "0"})
    with pytest.raises(ValueError, match="AMQP_URL='http://x' is not a amqp/amqps URL"):
        Settings.from_env({"AMQP_URL": "http://x"})


# --- the consumer loop, against a fake pika connection ---


class FakeMethod:
    def __init__(self, tag: int) -> None:
        self.delivery_tag = tag


class FakeProps:
    def __init__(self, message_id: str | None) -> None:
        self.message_id = message_id


class FakeChannel:
    """Delivers queued messages to the active consumer; records how each was settled."""

    def __init__(self, conn: "FakeConnection") -> None:
        self.conn = conn
        self.callback: Callable[..., None] | None = None
        self.consumes = 0
        self.cancels = 0
        self.settled: list[tuple[str, str]] = []
        self.auto_acks: list[bool] = []
        self.declared: dict[str, dict[str, object]] = {}
        self.pending_on_cancel: list[object] = []
        self.prefetch = 0
        self.tags: list[str] = []

    @property
    def consumer_tags(self) -> list[str]:
        return list(self.tags)

    def exchange_declare(self, **kwargs: object) -> None: ...
    def queue_bind(self, **kwargs: object) -> None: ...

    def queue_declare(self, queue: str, **kwargs: object) -> None:
        self.declared[queue] = kwargs

    def basic_qos(self, prefetch_count: int) -> None:
        self.prefetch = prefetch_count

    def basic_consume(
        self, queue: str, callback: Callable[..., None], auto_ack: bool = False
    ) -> str:
        self.consumes += 1
        self.callback = callback
        self.auto_acks.append(auto_ack)
        self.tags.append(f"ctag-{self.consumes}")
        return self.tags[-1]

    def basic_cancel(self, tag: str) -> list[object]:
        self.cancels += 1
        self.callback = None
        self.tags.remove(tag)
        pending, self.pending_on_cancel = self.pending_on_cancel, []
        return pending

    def basic_ack(self, tag: int) -> None:
        self.settled.append(("ack", self.conn.ids[tag]))

    def basic_nack(self, tag: int, requeue: bool) -> None:
        assert requeue
        mid = self.conn.ids[tag]
        self.settled.append(("requeue", mid))
        self.conn.queue.append((mid, self.conn.bodies[tag]))

    def basic_reject(self, tag: int, requeue: bool) -> None:
        assert not requeue
        self.settled.append(("dead_letter", self.conn.ids[tag]))


class FakeConnection:
    """A broker queue plus a clock that each poll advances; stops the consumer when told."""

    def __init__(self, clock: FakeClock, stop: "threading.Event", max_polls: int) -> None:
        self.clock, self.stop, self.max_polls = clock, stop, max_polls
        self.queue: list[tuple[str, bytes]] = []
        self.ids: dict[int, str] = {}
        self.bodies: dict[int, bytes] = {}
        self.polls = 0
        self.is_open = True
        self.chan = FakeChannel(self)

    def channel(self) -> FakeChannel:
        return self.chan

    def process_data_events(self, time_limit: float) -> None:
        self.polls += 1
        self.clock.now += time_limit
        if self.chan.callback and self.queue:
            mid, body = self.queue.pop(0)
            tag = len(self.ids) + 1
            self.ids[tag], self.bodies[tag] = mid, body
            self.chan.callback(self.chan, FakeMethod(tag), FakeProps(mid), body)
        if self.polls >= self.max_polls or (not self.queue and self.chan.callback):
            self.stop.set()

    def close(self) -> None:
        self.is_open = False


def test_consumer_settles_messages_and_pauses_while_the_breaker_is_open(tmp_path: Path) -> None:
    world = World(tmp_path, fail_max=2)
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=200)
    conn.queue = [
        ("r1", BODY),
        ("bad", b"nope"),
        ("r2", json.dumps({**EVENT, "reaction_id": "r2"}).encode()),
    ]
    settings = Settings(open_pause_s=1.0, prefetch=4)
    world.provider.statuses = [503, 503]  # r1's two attempts trip the breaker
    consumer = Consumer(
        settings, world.handler, world.metrics, stop, clock=world.clock, connect=lambda: conn
    )
    world.breaker.reset_timeout = 0  # the trial call may go through as soon as the pause ends
    consumer.run()
    assert conn.chan.prefetch == 4
    assert conn.chan.settled[0] == ("requeue", "r1")  # breaker opened: requeued, not processed
    assert conn.chan.cancels >= 1 and conn.chan.consumes >= 2  # paused, then resumed
    assert ("dead_letter", "bad") in conn.chan.settled
    assert ("ack", "r1") in conn.chan.settled and ("ack", "r2") in conn.chan.settled
    assert world.processed.state("r1") == world.processed.state("r2") == "done"
    assert world.metric("worker_requeued_total", {"reason": "breaker_open"}) == 1
    assert world.metric("worker_dead_lettered_total") == 1
    assert world.metric("consumer_connected") == 0  # the loop ended and closed the connection
    assert not conn.is_open


def consumer_for(world: World, conn: FakeConnection, stop: threading.Event) -> Consumer:
    return Consumer(
        Settings(),
        world.handler,
        world.metrics,
        stop,
        clock=world.clock,
        connect=lambda: conn,
        protections=world.protections,
    )


def test_the_consumer_acks_and_counts_a_message_found_delivered(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.processed.begin("r1")
    world.provider.delivered[notification_id_for("r1")] = 1
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=20)
    conn.queue = [("r1", BODY), ("r2", BODY2)]
    consumer_for(world, conn, stop).run()
    assert conn.chan.settled == [("ack", "r1"), ("ack", "r2")]
    assert world.metric("worker_acked_total", {"reason": "duplicate_in_doubt"}) == 1
    assert world.metric("worker_acked_total", {"reason": "pushed"}) == 1
    assert [call["reaction_id"] for call in world.provider.calls] == ["r2"]


# --- protections: each switch off ships the regression ---


@pytest.mark.parametrize("ack_after_push", [True, False])
def test_ack_after_push_off_auto_acks_and_loses_what_is_not_pushed(
    tmp_path: Path, ack_after_push: bool
) -> None:
    world = World(tmp_path, fail_max=10, ack_after_push=ack_after_push)
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=50)
    conn.queue = [("r1", BODY), ("r2", BODY2)]
    world.provider.statuses = [503] * 3  # r1's first delivery exhausts its retries
    consumer_for(world, conn, stop).run()
    pushed = [call["reaction_id"] for call in world.provider.calls]
    if ack_after_push:
        assert conn.chan.auto_acks == [False]
        assert conn.chan.settled == [("requeue", "r1"), ("ack", "r2"), ("ack", "r1")]
        assert pushed == ["r1"] * 3 + ["r2", "r1"]
    else:
        assert conn.chan.auto_acks == [True]
        assert conn.chan.settled == []  # the broker forgot both messages when it sent them
        assert pushed == ["r1"] * 3 + ["r2"]  # r1 is never tried again: lost
        assert world.metric("worker_lost_total", {"reason": "retries_exhausted"}) == 1
    assert world.metric("worker_acked_total", {"reason": "pushed"}) == (2 if ack_after_push else 1)


def test_ack_after_push_switched_at_run_time_resubscribes_with_auto_ack(tmp_path: Path) -> None:
    world = World(tmp_path)
    stop = threading.Event()

    class Flipping(FakeConnection):
        def process_data_events(self, time_limit: float) -> None:
            super().process_data_events(time_limit)
            if self.polls == 1:
                world.protections.switch("ack_after_push", False)
                self.chan.pending_on_cancel = ["a prefetched message"]

    conn = Flipping(world.clock, stop, max_polls=50)
    conn.queue = [("r1", BODY), ("r2", BODY2)]
    consumer_for(world, conn, stop).run()
    assert conn.chan.auto_acks == [False, True]
    assert conn.chan.settled == [("ack", "r1")]  # r2 came through the auto_ack subscription
    assert world.metric("worker_acked_total", {"reason": "pushed"}) == 2
    # The manual-ack subscription's cancel returned nothing lost (pika nacks those itself) ...
    assert world.metric("worker_lost_total", {"reason": "cancelled"}) == 0


def test_cancelling_an_auto_ack_subscription_loses_its_undispatched_messages(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, ack_after_push=False)
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=50)
    conn.queue = [("r1", BODY)]
    conn.chan.pending_on_cancel = ["m1", "m2"]  # what pika hands back on cancel
    consumer_for(world, conn, stop).run()
    assert world.metric("worker_lost_total", {"reason": "cancelled"}) == 2


@pytest.mark.parametrize(("dedupe", "pushes"), [(True, 1), (False, 2)])
def test_dedupe_off_pushes_a_redelivered_message_again(
    tmp_path: Path, dedupe: bool, pushes: int
) -> None:
    world = World(tmp_path, dedupe=dedupe)
    world.handler.handle(BODY, "r1")
    redelivered = world.handler.handle(BODY, "r1")
    assert redelivered.decision is Decision.ACK
    assert redelivered.reason == ("duplicate" if dedupe else "pushed")
    assert len(world.provider.calls) == pushes
    assert world.processed.state("r1") == ("done" if dedupe else None)
    assert world.provider.lookups == []  # a done id needs none; dedupe off never looks


@pytest.mark.parametrize("breaker", [True, False])
def test_breaker_off_keeps_calling_a_failing_provider(tmp_path: Path, breaker: bool) -> None:
    world = World(tmp_path, fail_max=3, breaker=breaker)
    world.provider.statuses = [503] * 6
    reasons = [world.handler.handle(BODY, "r1").reason for _ in range(2)]
    if breaker:
        assert reasons == ["breaker_open", "breaker_open"]
        assert len(world.provider.calls) == 3  # the second message fails fast
        assert world.breaker.current_state == "open"
    else:
        assert reasons == ["retries_exhausted", "retries_exhausted"]
        assert len(world.provider.calls) == 6
        assert world.breaker.current_state == "closed"  # never consulted


@pytest.mark.parametrize(("backoff", "calls", "waited"), [(True, 2, 0.1), (False, 3, 0.0)])
def test_retry_backoff_off_retries_at_once_with_no_budget(
    tmp_path: Path, backoff: bool, calls: int, waited: float
) -> None:
    world = World(tmp_path, fail_max=10, max_s=0.15, retry_backoff=backoff)
    world.provider.statuses = [503] * 3
    assert world.handler.handle(BODY, "r1").reason == "retries_exhausted"
    assert len(world.provider.calls) == calls  # on: the 0.2 s wait would pass the 0.15 s budget
    assert world.clock.now == pytest.approx(waited)
    assert world.metric("worker_push_retries_total") == calls - 1


@pytest.mark.parametrize(
    ("requeue", "transient"), [(True, Decision.REQUEUE), (False, Decision.DEAD_LETTER)]
)
def test_requeue_transient_off_dead_letters_transient_failures(
    tmp_path: Path, requeue: bool, transient: Decision
) -> None:
    world = World(tmp_path, fail_max=4, requeue_transient=requeue)
    world.provider.statuses = [503] * 4
    exhausted = world.handler.handle(BODY, "r1")  # 3 failures
    tripped = world.handler.handle(BODY, "r1")  # the 4th opens the breaker
    assert (exhausted.reason, exhausted.decision) == ("retries_exhausted", transient)
    assert (tripped.reason, tripped.decision, tripped.pause) == ("breaker_open", transient, True)
    # Poison and refusals are dead-lettered either way.
    assert world.handler.handle(b"nope", "x").decision is Decision.DEAD_LETTER
    world.breaker.close()
    world.provider.statuses = [400]
    assert world.handler.handle(BODY, "r1").decision is Decision.DEAD_LETTER


class CountingStop(threading.Event):
    """A stop event whose waits return at once, set after ``limit`` of them."""

    def __init__(self, limit: int, on_wait: Callable[[int], None] = lambda n: None) -> None:
        super().__init__()
        self.limit, self.on_wait, self.waits = limit, on_wait, 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        self.on_wait(self.waits)
        if self.waits >= self.limit:
            self.set()
        return self.is_set()


def run_against_a_dead_broker(world: World, stop: threading.Event) -> int:
    attempts = []

    def connect() -> FakeConnection:
        attempts.append(1)
        raise ConnectionRefusedError("broker down")

    Consumer(
        Settings(),
        world.handler,
        world.metrics,
        stop,
        connect=connect,
        protections=world.protections,
    ).run()
    return len(attempts)


@pytest.mark.parametrize(("reconnect", "attempts"), [(True, 4), (False, 1)])
def test_reconnect_off_never_opens_a_second_connection(
    tmp_path: Path, reconnect: bool, attempts: int
) -> None:
    world = World(tmp_path, reconnect=reconnect)
    assert run_against_a_dead_broker(world, CountingStop(limit=4)) == attempts


def test_reconnect_switched_back_on_at_run_time_reconnects(tmp_path: Path) -> None:
    world = World(tmp_path, reconnect=False)

    def on_wait(n: int) -> None:
        if n == 3:
            world.protections.switch("reconnect", True)

    assert run_against_a_dead_broker(world, CountingStop(limit=5, on_wait=on_wait)) == 3


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        (True, httpx_timeouts(2.0)),
        (False, httpx_timeouts(None)),
    ],
)
def test_push_timeout_is_removed_with_the_switch(
    tmp_path: Path, timeouts: bool, expected: object
) -> None:
    world = World(tmp_path, timeouts=timeouts)
    world.handler.handle(BODY, "r1")
    assert world.provider.timeouts == [expected]
    world.processed.begin("r2")
    world.handler.handle(BODY2, "r2")
    assert world.provider.lookup_timeouts == [expected]  # the lookup follows the same rule


@pytest.mark.parametrize(
    ("timeouts", "socket_timeout", "heartbeat"), [(True, 2.0, 30), (False, 10.0, None)]
)
def test_consumer_connection_timeouts_follow_the_switch(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    timeouts: bool,
    socket_timeout: float,
    heartbeat: int | None,
) -> None:
    world = World(tmp_path, timeouts=timeouts)
    seen: list[pika.URLParameters] = []

    def blocking_connection(params: pika.URLParameters) -> None:
        seen.append(params)
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(pika, "BlockingConnection", blocking_connection)
    stop = CountingStop(limit=1)
    Consumer(Settings(), world.handler, world.metrics, stop, protections=world.protections).run()
    (params,) = seen
    assert (params.socket_timeout, params.heartbeat) == (socket_timeout, heartbeat)


@pytest.mark.parametrize("durable", [True, False])
def test_durable_queue_switch_decides_the_work_queue_declaration(
    tmp_path: Path, durable: bool
) -> None:
    world = World(tmp_path, durable_queue=durable)
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=1)
    consumer_for(world, conn, stop).run()
    assert conn.chan.declared["notifications"]["durable"] is durable
    assert conn.chan.declared["notifications.dlq"]["durable"] is True


@pytest.fixture
def worker_http() -> Iterator[tuple[str, Protections, list[set[str]]]]:
    protections = Protections(PROTECTIONS)
    changes: list[set[str]] = []
    server = start_http(
        "127.0.0.1",
        0,
        WorkerMetrics().registry,
        lambda: {"status": "ok"},
        protections,
        changes.append,
    )
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", protections, changes
    finally:
        server.shutdown()
        server.server_close()


def test_worker_protections_endpoint(
    worker_http: tuple[str, Protections, list[set[str]]],
) -> None:
    url, protections, changes = worker_http
    with httpx.Client(base_url=url, timeout=5) as http:
        assert http.get("/admin/protections").json() == PROTECTIONS.defaults()
        put = http.put("/admin/protections", json={"dedupe": False, "breaker": False})
        assert put.status_code == 200
        assert put.json() == {**PROTECTIONS.defaults(), "dedupe": False, "breaker": False}
        assert protections["dedupe"] is False
        refused = http.put("/admin/protections", json={"durable_queue": False})
        assert refused.status_code == 409
        assert "WORKER_DURABLE_QUEUE=off" in refused.json()["error"]
        assert http.put("/admin/protections", content=b"{nope").status_code == 400
        assert http.put("/admin/protections", json={"colour": True}).status_code == 400
        assert http.put("/admin/other", json={}).status_code == 404
        assert http.get("/health").json() == {"status": "ok"}
    assert changes == [{"dedupe", "breaker"}]


# --- on a cluster: queue type, broker cancels, failover ---


def test_a_consumer_cancelled_by_the_broker_reconnects_and_consumes_again(
    tmp_path: Path,
) -> None:
    """A classic queue whose node died cancels its consumers; the connection stays open."""
    world = World(tmp_path)
    stop = threading.Event()

    class Cancelling(FakeConnection):
        def process_data_events(self, time_limit: float) -> None:
            if self.polls == 0:
                self.chan.tags.clear()  # basic.cancel from the broker: pika drops the tag
                self.chan.callback = None
                self.polls += 1
                return
            super().process_data_events(time_limit)

    first = Cancelling(world.clock, stop, max_polls=50)
    second = FakeConnection(world.clock, stop, max_polls=50)
    second.queue = [("r1", BODY)]
    connections = iter([first, second])
    Consumer(
        Settings(reconnect_backoff_s=0.01),
        world.handler,
        world.metrics,
        stop,
        clock=world.clock,
        connect=lambda: next(connections),
        protections=world.protections,
    ).run()
    assert not first.is_open  # given up on, closed
    assert second.chan.settled == [("ack", "r1")]


def test_the_consumer_declares_the_queue_type_of_its_settings(tmp_path: Path) -> None:
    world = World(tmp_path)
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=5)
    settings = Settings.from_env({"WORKER_QUEUE_TYPE": "quorum"})
    Consumer(settings, world.handler, world.metrics, stop, connect=lambda: conn).run()
    assert conn.chan.declared["notifications"]["arguments"]["x-queue-type"] == "quorum"  # type: ignore[index]
    assert conn.chan.declared["notifications.dlq"]["arguments"] == {"x-queue-type": "quorum"}
    with pytest.raises(ValueError, match="WORKER_QUEUE_TYPE=quorum needs WORKER_DURABLE_QUEUE"):
        Settings.from_env({"WORKER_QUEUE_TYPE": "quorum", "WORKER_DURABLE_QUEUE": "off"})


def test_the_consumer_fails_over_to_the_next_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(tmp_path)
    stop = threading.Event()
    conn = FakeConnection(world.clock, stop, max_polls=5)
    conn.queue = [("r1", BODY)]
    ports: list[int] = []

    def blocking_connection(params: pika.URLParameters) -> FakeConnection:
        ports.append(params.port)
        if params.port == 5001:
            raise pika.exceptions.AMQPConnectionError("node 1 is down")
        return conn

    monkeypatch.setattr(pika, "BlockingConnection", blocking_connection)
    urls = ",".join(f"amqp://guest:guest@127.0.0.1:{p}/%2F" for p in (5001, 5002))
    settings = Settings.from_env({"AMQP_URL": urls})
    Consumer(settings, world.handler, world.metrics, stop, clock=world.clock).run()
    assert ports == [5001, 5002]
    assert conn.chan.settled == [("ack", "r1")]
