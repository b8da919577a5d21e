"""Tests of the notifications service against a mocked push provider."""

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from sample_system.common.ids import notification_id_for
from sample_system.notifications import Settings, create_app
from tests.sample_system._fakes import httpx_timeouts

NOTIFY = {"reaction_id": "r1", "post_id": "p1", "user_id": "u1", "kind": "like"}
Handler = Callable[[httpx.Request], httpx.Response]


class Provider:
    """A mocked push provider whose behaviour each test sets."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.behaviour: Handler = lambda request: httpx.Response(200, json={"delivered": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.behaviour(request)


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
async def client(provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(push_url="http://push.test"), transport=httpx.MockTransport(provider))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as c:
        yield c


async def test_notify_pushes_with_a_deterministic_notification_id(
    client: httpx.AsyncClient, provider: Provider
) -> None:
    response = await client.post("/notify", json=NOTIFY)
    assert response.status_code == 200
    assert response.json() == {"notified": True, "notification_id": notification_id_for("r1")}
    (sent,) = provider.requests
    assert str(sent.url) == "http://push.test/push"
    assert json.loads(sent.content) == {
        "notification_id": notification_id_for("r1"),
        "reaction_id": "r1",
        "recipient": "author-of-p1",
        "via": "sync",
    }
    assert notification_id_for("r1") == notification_id_for("r1") != notification_id_for("r2")


async def test_provider_error_is_a_502(client: httpx.AsyncClient, provider: Provider) -> None:
    provider.behaviour = lambda request: httpx.Response(503, json={"delivered": False})
    response = await client.post("/notify", json=NOTIFY)
    assert response.status_code == 502
    assert "503" in response.json()["error"]


async def test_provider_timeout_is_a_504(client: httpx.AsyncClient, provider: Provider) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    provider.behaviour = slow
    response = await client.post("/notify", json=NOTIFY)
    assert response.status_code == 504
    assert "ReadTimeout" in response.json()["error"]


async def test_unreachable_provider_is_a_502(client: httpx.AsyncClient, provider: Provider) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    provider.behaviour = refused
    response = await client.post("/notify", json=NOTIFY)
    assert response.status_code == 502
    assert "ConnectError" in response.json()["error"]


async def test_bad_body_is_a_400_without_a_push(
    client: httpx.AsyncClient, provider: Provider
) -> None:
    response = await client.post("/notify", json={"reaction_id": "r1"})
    assert response.status_code == 400
    assert "post_id" in response.json()["error"]
    assert provider.requests == []


async def test_metrics_count_outcomes(client: httpx.AsyncClient, provider: Provider) -> None:
    await client.post("/notify", json=NOTIFY)
    provider.behaviour = lambda request: httpx.Response(500)
    await client.post("/notify", json=NOTIFY)
    text = (await client.get("/metrics")).text
    assert 'notify_requests_total{outcome="delivered"} 1.0' in text
    assert 'notify_requests_total{outcome="provider_error"} 1.0' in text
    assert (await client.get("/health")).json() == {"status": "ok"}


def test_settings_reject_a_bad_push_url() -> None:
    with pytest.raises(ValueError, match=r"PUSH_URL='push:80' is not a http/https URL"):
        Settings.from_env({"PUSH_URL": "push:80"})
    assert Settings.from_env({"PUSH_URL": "http://h:1/"}).push_url == "http://h:1"


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        (True, httpx_timeouts(2.0, pool=1.0)),
        (False, httpx_timeouts(None)),
    ],
)
async def test_timeouts_off_removes_the_limit_on_a_push(
    client: httpx.AsyncClient, provider: Provider, timeouts: bool, expected: object
) -> None:
    assert (await client.get("/admin/protections")).json() == {"timeouts": True}
    put = await client.put("/admin/protections", json={"timeouts": timeouts})
    assert put.json() == {"timeouts": timeouts}
    assert (await client.post("/notify", json=NOTIFY)).status_code == 200
    (sent,) = provider.requests
    assert sent.extensions["timeout"] == expected


async def test_timeouts_off_at_start_up(provider: Provider) -> None:
    settings = Settings.from_env({"NOTIFICATIONS_TIMEOUTS": "off", "PUSH_URL": "http://push.test"})
    app = create_app(settings, transport=httpx.MockTransport(provider))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as c:
        await c.post("/notify", json=NOTIFY)
        assert (await c.get("/admin/protections")).json() == {"timeouts": False}
    assert provider.requests[0].extensions["timeout"]["read"] is None
