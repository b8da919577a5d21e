"""Tests of the push provider: ledger, duplicates, injected faults and their validation."""

import asyncio
import inspect
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from sample_system.push_provider import Settings, create_app

PUSH = {"notification_id": "n1", "reaction_id": "r1", "recipient": "a", "via": "sync"}


class FakeSleep:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def client(sleeps: FakeSleep) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(seed=7), sleep=sleeps, clock=lambda: 1000.0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://push") as c:
        yield c


async def test_push_is_recorded_in_the_ledger(client: httpx.AsyncClient) -> None:
    response = await client.post("/push", json=PUSH)
    assert response.status_code == 200
    assert response.json() == {"delivered": True}
    ledger = (await client.get("/ledger")).json()
    assert ledger["counts"] == {"r1": 1}
    assert ledger["deliveries"] == [
        {
            "reaction_id": "r1",
            "notification_id": "n1",
            "recipient": "a",
            "via": "sync",
            "at": 1000.0,
            "attempt": 1,
        }
    ]


async def test_duplicates_are_recorded_with_attempt_numbers(client: httpx.AsyncClient) -> None:
    await client.post("/push", json=PUSH)
    await client.post("/push", json={**PUSH, "via": "async"})
    ledger = (await client.get("/ledger")).json()
    assert ledger["counts"] == {"r1": 2}
    assert [(d["via"], d["attempt"]) for d in ledger["deliveries"]] == [("sync", 1), ("async", 2)]


async def test_delivery_status_is_404_until_a_push_is_recorded(client: httpx.AsyncClient) -> None:
    missing = await client.get("/deliveries/n1")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "no delivery of 'n1'",
        "notification_id": "n1",
        "delivered": False,
    }
    await client.post("/push", json=PUSH)
    found = await client.get("/deliveries/n1")
    assert found.status_code == 200
    assert found.json() == {"notification_id": "n1", "delivered": True, "count": 1}
    assert (await client.get("/deliveries/n2")).status_code == 404  # only the id pushed


async def test_delivery_status_counts_every_delivery_of_the_notification(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/push", json=PUSH)
    await client.post("/push", json={**PUSH, "via": "async"})
    assert (await client.get("/deliveries/n1")).json()["count"] == 2
    await client.delete("/ledger")
    assert (await client.get("/deliveries/n1")).status_code == 404


async def test_delivery_status_is_not_subject_to_injected_faults(
    client: httpx.AsyncClient, sleeps: FakeSleep
) -> None:
    await client.post("/push", json=PUSH)
    await client.put("/admin/faults", json={"error_rate": 1.0, "delay_ms": 250})
    assert (await client.post("/push", json=PUSH)).status_code == 503  # pushes do fail
    assert sleeps.calls == [0.25]
    for _ in range(3):
        response = await client.get("/deliveries/n1")
        assert (response.status_code, response.json()["count"]) == (200, 1)
    assert (await client.get("/deliveries/n2")).status_code == 404
    assert sleeps.calls == [0.25]  # the reads waited for nothing


async def test_delivery_status_does_not_wait_for_a_push_slot() -> None:
    release = asyncio.Event()

    async def held(seconds: float) -> None:
        await release.wait()

    app = create_app(Settings(), sleep=held)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://push") as c:
        await c.put("/admin/faults", json={"delay_ms": 100, "concurrency": 1})
        push = asyncio.create_task(c.post("/push", json=PUSH))
        for _ in range(50):  # let the push take the only slot
            await asyncio.sleep(0)
        read = await asyncio.wait_for(c.get("/deliveries/n1"), timeout=5)
        assert read.status_code == 404  # answered while the push holds the slot
        release.set()
        assert (await push).status_code == 200
        assert (await c.get("/deliveries/n1")).json()["count"] == 1


async def test_delete_clears_the_ledger(client: httpx.AsyncClient) -> None:
    await client.post("/push", json=PUSH)
    assert (await client.delete("/ledger")).status_code == 204
    assert (await client.get("/ledger")).json() == {
        "deliveries": [],
        "counts": {},
        "delivered_at": {},
    }


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({**PUSH, "via": "carrier-pigeon"}, "'via'"),
        ({k: v for k, v in PUSH.items() if k != "reaction_id"}, "reaction_id"),
        ({**PUSH, "notification_id": ""}, "notification_id"),
    ],
)
async def test_bad_push_body_is_rejected(
    client: httpx.AsyncClient, body: dict[str, str], fragment: str
) -> None:
    response = await client.post("/push", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert (await client.get("/ledger")).json()["counts"] == {}


async def test_non_json_push_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/push", content=b"{nope")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


async def test_error_rate_one_fails_every_call_and_records_nothing(
    client: httpx.AsyncClient,
) -> None:
    put = await client.put("/admin/faults", json={"error_rate": 1.0, "status": 500})
    assert put.json() == {"error_rate": 1.0, "delay_ms": 0, "status": 500, "concurrency": 0}
    for _ in range(3):
        response = await client.post("/push", json=PUSH)
        assert response.status_code == 500
        assert response.json()["delivered"] is False
    assert (await client.get("/ledger")).json()["counts"] == {}


async def test_partial_error_rate_is_reproducible_for_a_seed() -> None:
    async def outcomes() -> list[int]:
        app = create_app(Settings(seed=42, error_rate=0.5))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://push") as c:
            return [(await c.post("/push", json=PUSH)).status_code for _ in range(40)]

    first, second = await outcomes(), await outcomes()
    assert first == second
    assert 5 < first.count(503) < 35  # both outcomes occur at rate 0.5


async def test_delay_is_applied_through_the_injected_sleep(
    client: httpx.AsyncClient, sleeps: FakeSleep
) -> None:
    await client.put("/admin/faults", json={"delay_ms": 250})
    assert (await client.post("/push", json=PUSH)).status_code == 200
    assert sleeps.calls == [0.25]


async def test_partial_fault_update_keeps_other_fields(client: httpx.AsyncClient) -> None:
    await client.put("/admin/faults", json={"error_rate": 0.25})
    await client.put("/admin/faults", json={"delay_ms": 10})
    assert (await client.get("/admin/faults")).json() == {
        "error_rate": 0.25,
        "delay_ms": 10,
        "status": 503,
        "concurrency": 0,
    }


async def test_concurrency_serves_that_many_pushes_at_once_the_others_wait() -> None:
    release = asyncio.Event()
    sleeping: list[float] = []

    async def held(seconds: float) -> None:
        sleeping.append(seconds)
        await release.wait()

    app = create_app(Settings(), sleep=held)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://push") as c:
        await c.put("/admin/faults", json={"delay_ms": 100, "concurrency": 1})
        pushes = [
            asyncio.create_task(c.post("/push", json={**PUSH, "reaction_id": f"r{i}"}))
            for i in range(3)
        ]
        for _ in range(50):  # let every request reach the provider
            await asyncio.sleep(0)
        assert sleeping == [0.1]  # one served, two waiting their turn
        release.set()
        assert [(await p).status_code for p in pushes] == [200, 200, 200]
        assert sleeping == [0.1, 0.1, 0.1]
        await c.put("/admin/faults", json={"concurrency": 0})  # no limit again
        assert (await c.get("/admin/faults")).json()["concurrency"] == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"error_rate": 1.5}, "error_rate"),
        ({"error_rate": True}, "error_rate"),
        ({"delay_ms": -1}, "delay_ms"),
        ({"delay_ms": 1.5}, "delay_ms"),
        ({"status": 200}, "status"),
        ({"concurrency": -1}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"concurrency": 1.5}, "concurrency"),
        ({"colour": "red"}, "unknown"),
    ],
)
async def test_bad_fault_values_are_rejected(
    client: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    response = await client.put("/admin/faults", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert (await client.get("/admin/faults")).json()["error_rate"] == 0.0


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    await client.post("/push", json=PUSH)
    text = (await client.get("/metrics")).text
    assert 'push_requests_total{outcome="delivered"} 1.0' in text
    assert "push_deliveries_total 1.0" in text
    assert "push_latency_seconds_count 1.0" in text


def test_settings_from_env_reports_the_bad_variable() -> None:
    assert Settings.from_env({"PUSH_PORT": "9", "PUSH_ERROR_RATE": "0.5"}).error_rate == 0.5
    with pytest.raises(ValueError, match=r"PUSH_ERROR_RATE=2.0 is out of range"):
        Settings.from_env({"PUSH_ERROR_RATE": "2"})
    with pytest.raises(ValueError, match=r"PUSH_PORT='abc' is not an integer"):
        Settings.from_env({"PUSH_PORT": "abc"})


async def test_ledger_gives_the_wall_clock_time_of_every_delivery_per_reaction() -> None:
    times = iter([1000.25, 1001.5, 1002.75])
    app = create_app(Settings(), clock=lambda: next(times))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://push") as c:
        await c.post("/push", json=PUSH)
        await c.post("/push", json={**PUSH, "reaction_id": "r2", "notification_id": "n2"})
        await c.post("/push", json={**PUSH, "via": "async"})  # r1 again: a duplicate
        ledger = (await c.get("/ledger")).json()
    assert ledger["delivered_at"] == {"r1": [1000.25, 1002.75], "r2": [1001.5]}
    assert ledger["counts"] == {"r1": 2, "r2": 1}


async def test_a_failed_push_has_no_delivery_time(client: httpx.AsyncClient) -> None:
    await client.put("/admin/faults", json={"error_rate": 1.0})
    await client.post("/push", json=PUSH)
    assert (await client.get("/ledger")).json()["delivered_at"] == {}


def test_the_production_clock_is_the_wall_clock() -> None:
    # Delivery lag compares this time with the moment a client saw its 202.
    assert inspect.signature(create_app).parameters["clock"].default is time.time
