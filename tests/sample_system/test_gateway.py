"""Tests of the gateway: forwarding, error mapping, bounded concurrency, the async breaker."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from sample_system.gateway import Settings, create_app
from sample_system.gateway.breaker import AsyncBreaker, BreakerOpen
from sample_system.gateway.feed import build_feed
from sample_system.gateway.settings import PROTECTIONS
from tests.sample_system._fakes import httpx_timeouts

REACTION = {"post_id": "p1", "user_id": "u1", "kind": "like"}
Behaviour = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Reactions:
    """A mocked reactions service with an async, per-test behaviour."""

    def __init__(self) -> None:
        self.calls = 0

        async def ok(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            return httpx.Response(201, json={"reaction_id": body.get("reaction_id", "x")})

        self.behaviour: Behaviour = ok

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.behaviour(request)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reactions() -> Reactions:
    return Reactions()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def gateway(reactions: Reactions, clock: FakeClock, **settings: object) -> httpx.AsyncClient:
    app = create_app(
        Settings(reactions_url="http://r.test", **settings),  # type: ignore[arg-type]
        transport=httpx.MockTransport(reactions),
        clock=clock,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


@pytest.fixture
async def client(reactions: Reactions, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway(reactions, clock) as c:
        yield c


async def test_forwards_status_and_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/reactions", json={**REACTION, "reaction_id": "r1"})
    assert response.status_code == 201
    assert response.json() == {"reaction_id": "r1"}


async def test_passes_client_errors_through(
    client: httpx.AsyncClient, reactions: Reactions
) -> None:
    async def bad(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "field 'kind' missing"})

    reactions.behaviour = bad
    response = await client.post("/reactions", json={})
    assert response.status_code == 400
    assert response.json() == {"error": "field 'kind' missing"}


@pytest.mark.parametrize(
    ("exc", "status"), [(httpx.ReadTimeout("slow"), 504), (httpx.ConnectError("refused"), 502)]
)
async def test_maps_transport_errors(
    client: httpx.AsyncClient, reactions: Reactions, exc: Exception, status: int
) -> None:
    async def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    reactions.behaviour = fail
    response = await client.post("/reactions", json=REACTION)
    assert response.status_code == status
    assert type(exc).__name__ in response.json()["error"]


async def test_feed_is_local_and_deterministic(
    client: httpx.AsyncClient, reactions: Reactions
) -> None:
    first = (await client.get("/feed", params={"user_id": "u1"})).json()
    second = (await client.get("/feed", params={"user_id": "u1"})).json()
    assert first == second == {"user_id": "u1", "items": build_feed("u1")}
    assert len(first["items"]) == 10
    assert build_feed("u2") != build_feed("u1")
    assert reactions.calls == 0
    assert (await client.get("/feed")).status_code == 400


@pytest.mark.timeout(10)
async def test_a_planted_feed_delay_slows_that_share_of_feed_reads(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/admin/feed-delay")).json() == {"ms": 0, "percentage": 0.0}
    put = await client.put("/admin/feed-delay", json={"ms": 200, "percentage": 100})
    assert put.json() == {"ms": 200, "percentage": 100.0}
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert (await client.get("/feed", params={"user_id": "u1"})).status_code == 200
    assert loop.time() - began >= 0.2
    await client.put("/admin/feed-delay", json={"ms": 200, "percentage": 0})
    began = loop.time()
    await client.get("/feed", params={"user_id": "u1"})
    assert loop.time() - began < 0.2


@pytest.mark.timeout(10)
async def test_slow_reactions_starve_the_feed(reactions: Reactions, clock: FakeClock) -> None:
    release = asyncio.Event()

    async def stuck(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(201, json={})

    reactions.behaviour = stuck
    async with gateway(reactions, clock, max_concurrency=2, queue_timeout_ms=50) as c:
        held = [asyncio.create_task(c.post("/reactions", json=REACTION)) for _ in range(2)]
        while reactions.calls < 2:  # both slots taken by calls parked in the mock
            await asyncio.sleep(0)
        feed = await c.get("/feed", params={"user_id": "u1"})
        assert feed.status_code == 503
        assert "overloaded" in feed.json()["error"]
        release.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [201, 201]
        assert (await c.get("/feed", params={"user_id": "u1"})).status_code == 200
        metrics = (await c.get("/metrics")).text
    assert 'gateway_overloaded_total{endpoint="feed"} 1.0' in metrics
    assert 'gateway_requests_total{endpoint="feed",status="503"} 1.0' in metrics


async def test_breaker_opens_answers_with_fallback_and_recovers(
    reactions: Reactions, clock: FakeClock
) -> None:
    async def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, json={"error": "notifications unreachable"})

    reactions.behaviour = broken
    async with gateway(reactions, clock, breaker_fail_max=2, breaker_reset_s=10.0) as c:
        assert [(await c.post("/reactions", json=REACTION)).status_code for _ in range(2)] == [
            502,
            502,
        ]
        fallback = await c.post("/reactions", json=REACTION)
        assert fallback.status_code == 503
        assert fallback.json() == {"error": "breaker open", "fallback": True}
        assert reactions.calls == 2
        assert (await c.get("/admin/breaker")).json()["state"] == "open"
        clock.now = 10.0
        reactions.behaviour = Reactions().behaviour
        trial = await c.post("/reactions", json={**REACTION, "reaction_id": "r9"})
        assert trial.status_code == 201
        assert (await c.get("/admin/breaker")).json()["state"] == "closed"
        metrics = (await c.get("/metrics")).text
    assert 'breaker_transitions_total{from="closed",to="open"} 1.0' in metrics
    assert 'breaker_transitions_total{from="open",to="half-open"} 1.0' in metrics
    assert 'breaker_transitions_total{from="half-open",to="closed"} 1.0' in metrics
    assert "breaker_state 0.0" in metrics
    assert "breaker_rejected_total 1.0" in metrics


async def test_breaker_is_switchable_at_run_time(
    client: httpx.AsyncClient, reactions: Reactions
) -> None:
    assert (await client.get("/admin/breaker")).json() == {
        "enabled": True,
        "fail_max": 5,
        "reset_timeout_s": 5.0,
        "state": "closed",
    }
    put = await client.put("/admin/breaker", json={"fail_max": 1})
    assert put.json()["enabled"] is True and put.json()["fail_max"] == 1

    async def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(504, json={})

    reactions.behaviour = broken
    await client.post("/reactions", json=REACTION)
    assert (await client.post("/reactions", json=REACTION)).json()["fallback"] is True
    await client.put("/admin/breaker", json={"enabled": False})
    assert (await client.post("/reactions", json=REACTION)).status_code == 504
    assert (await client.get("/admin/protections")).json()["breaker"] is False


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/admin/breaker", {"enabled": "yes"}, "enabled"),
        ("/admin/breaker", {"fail_max": 0}, "fail_max"),
        ("/admin/breaker", {"reset_timeout_s": -1}, "reset_timeout_s"),
        ("/admin/breaker", {"colour": 1}, "unknown"),
        (
            "/admin/feed-delay",
            {"ms": -1, "percentage": 10},
            "field 'ms' must be an integer >= 0, got -1",
        ),
        (
            "/admin/feed-delay",
            {"ms": 1.5, "percentage": 10},
            "field 'ms' must be an integer >= 0, got 1.5",
        ),
        (
            "/admin/feed-delay",
            {"ms": 100, "percentage": 101},
            "field 'percentage' must be a number within 0..100",
        ),
        (
            "/admin/feed-delay",
            {"ms": 100},
            "field 'percentage' must be a number within 0..100, got None",
        ),
    ],
)
async def test_bad_admin_config_is_rejected(
    client: httpx.AsyncClient, path: str, body: dict[str, object], fragment: str
) -> None:
    response = await client.put(path, json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_async_breaker_allows_one_trial_at_a_time() -> None:
    clock = FakeClock()
    transitions: list[tuple[str, str]] = []
    breaker = AsyncBreaker(
        1, 5.0, clock=clock, on_transition=lambda o, n: transitions.append((o, n))
    )
    breaker.before_call()
    breaker.failure()
    with pytest.raises(BreakerOpen):
        breaker.before_call()
    clock.now = 5.0
    breaker.before_call()  # the trial
    with pytest.raises(BreakerOpen, match="trial"):
        breaker.before_call()
    breaker.failure()  # failed trial: open again, for a fresh timeout
    assert breaker.state == "open"
    clock.now = 9.0
    with pytest.raises(BreakerOpen):
        breaker.before_call()
    assert transitions == [("closed", "open"), ("open", "half-open"), ("half-open", "open")]


def test_async_breaker_counts_consecutive_failures_only() -> None:
    breaker = AsyncBreaker(2, 1.0, clock=FakeClock())
    for _ in range(3):
        breaker.before_call()
        breaker.failure()
        breaker.before_call()
        breaker.success()
    assert breaker.state == "closed"


def test_async_breaker_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="fail_max=0"):
        AsyncBreaker(0, 1.0)
    with pytest.raises(ValueError, match="reset_timeout_s=-1"):
        AsyncBreaker(1, -1)


def test_settings_from_env() -> None:
    settings = Settings.from_env({"GATEWAY_BREAKER": "off", "GATEWAY_MAX_CONCURRENCY": "4"})
    assert (settings.protections["breaker"], settings.max_concurrency) == (False, 4)
    with pytest.raises(ValueError, match="GATEWAY_BREAKER='maybe' is not a boolean"):
        Settings.from_env({"GATEWAY_BREAKER": "maybe"})


# --- protections: each switch off ships the regression ---


async def test_breaker_is_on_by_default_and_off_by_the_protections_endpoint(
    client: httpx.AsyncClient, reactions: Reactions
) -> None:
    async def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, json={})

    reactions.behaviour = broken
    statuses = [(await client.post("/reactions", json=REACTION)).status_code for _ in range(6)]
    assert statuses == [502] * 5 + [503]  # the default fail_max is 5
    assert (await client.get("/admin/protections")).json() == PROTECTIONS.defaults()
    await client.put("/admin/protections", json={"breaker": False})
    statuses = [(await client.post("/reactions", json=REACTION)).status_code for _ in range(6)]
    assert statuses == [502] * 6
    assert reactions.calls == 11
    on = await client.put("/admin/protections", json={"breaker": True})
    assert on.json()["breaker"] is True
    assert (await client.get("/admin/breaker")).json()["state"] == "closed"  # a new breaker


@pytest.mark.timeout(10)
async def test_bounded_concurrency_off_lets_every_request_in(
    reactions: Reactions, clock: FakeClock
) -> None:
    release = asyncio.Event()

    async def stuck(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(201, json={})

    reactions.behaviour = stuck
    off = {"bounded_concurrency": False}
    async with gateway(reactions, clock, max_concurrency=2, protections=off) as c:
        held = [asyncio.create_task(c.post("/reactions", json=REACTION)) for _ in range(5)]
        for _ in range(1000):  # let the five requests run up to the stuck mock
            await asyncio.sleep(0)
        assert reactions.calls == 5  # all at once: no slot to wait for
        assert (await c.get("/feed", params={"user_id": "u1"})).status_code == 200
        assert "gateway_inflight 5.0" in (await c.get("/metrics")).text
        release.set()
        assert [r.status_code for r in await asyncio.gather(*held)] == [201] * 5
        metrics = (await c.get("/metrics")).text
    assert "gateway_overloaded_total{" not in metrics  # no request was refused


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        (True, httpx_timeouts(5.0)),
        (False, httpx_timeouts(None)),
    ],
)
async def test_timeouts_off_removes_the_limit_on_a_call_to_reactions(
    client: httpx.AsyncClient, reactions: Reactions, timeouts: bool, expected: object
) -> None:
    seen: list[object] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(201, json={})

    reactions.behaviour = record
    await client.put("/admin/protections", json={"timeouts": timeouts})
    await client.post("/reactions", json=REACTION)
    assert seen == [expected]
