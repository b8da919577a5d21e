"""Tests of the shared helpers: settings parsing, protection switches, retries, AMQP parameters."""

import re
from collections.abc import Callable
from typing import Any

import httpx
import pika
import pytest
import tenacity
from starlette.applications import Starlette

from sample_system.common.amqp import connection_parameters
from sample_system.common.failover import BrokersUnreachable, Failover
from sample_system.common.protections import ProtectionError, Protections, Switches
from sample_system.common.retry import bounded_retrying, immediate_retrying
from sample_system.common.settings import Env, SettingsError
from sample_system.common.web import protections_routes
from sample_system.gateway import settings as gateway_settings
from sample_system.notifications import settings as notifications_settings
from sample_system.notifier_worker import settings as worker_settings
from sample_system.reactions import settings as reactions_settings
from tests.sample_system._fakes import FakeClock


def test_unset_and_blank_variables_give_the_default() -> None:
    env = Env({"B": "  "})
    assert env.integer("A", 3) == 3
    assert env.number("B", 1.5) == 1.5
    assert env.text("B", "x") == "x"


def test_values_are_parsed_and_bounded() -> None:
    env = Env({"N": "7", "F": "0.25", "C": "ASYNC", "ON": "on", "OFF": "0"})
    assert env.integer("N", 0, min=1, max=10) == 7
    assert env.number("F", 0.0, max=1.0) == 0.25
    assert env.choice("C", "sync", ("sync", "async")) == "async"
    assert env.flag("ON", False) is True
    assert env.flag("OFF", True) is False


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: e.integer("V", 1), r"V='x' is not an integer"),
        (lambda e: e.number("V", 1.0), r"V='x' is not a number"),
        (lambda e: e.choice("V", "a", ("a", "b")), r"V='x' is not one of a, b"),
        (lambda e: e.flag("V", True), r"V='x' is not a boolean"),
        (lambda e: e.url("V", "http://h", ("http",)), r"V='x' is not a http URL"),
    ],
)
def test_bad_values_name_the_variable(call: Callable[[Env], object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        call(Env({"V": "x"}))


def test_out_of_range_names_the_bounds() -> None:
    with pytest.raises(SettingsError, match=r"V=0 is out of range; expected 1..5"):
        Env({"V": "0"}).integer("V", 1, min=1, max=5)
    with pytest.raises(SettingsError, match=r"V=nan is out of range"):
        Env({"V": "nan"}).number("V", 1.0)


# --- protections: parsing, state, the shared helpers ---

SERVICES = {
    "gateway": (gateway_settings.Settings, gateway_settings.PROTECTIONS),
    "reactions": (reactions_settings.Settings, reactions_settings.PROTECTIONS),
    "notifications": (notifications_settings.Settings, notifications_settings.PROTECTIONS),
    "notifier_worker": (worker_settings.Settings, worker_settings.PROTECTIONS),
}
EVERY_SWITCH = [
    pytest.param(settings, switches, name, id=f"{service}-{name}")
    for service, (settings, switches) in SERVICES.items()
    for name in switches.names
]


@pytest.mark.parametrize(("settings", "switches", "name"), EVERY_SWITCH)
def test_every_protection_is_on_by_default_and_off_by_its_variable(
    settings: Any, switches: Switches, name: str
) -> None:
    assert all(settings.from_env({}).protections.values())
    assert settings().protections == switches.defaults()
    off = settings.from_env({switches.env_var(name): "off"}).protections
    assert off == {**switches.defaults(), name: False}
    with pytest.raises(SettingsError, match=rf"{switches.env_var(name)}='nope' is not a boolean"):
        settings.from_env({switches.env_var(name): "nope"})


def test_switch_variables_are_the_prefix_and_the_name() -> None:
    assert reactions_settings.PROTECTIONS.env_var("confirms") == "REACTIONS_CONFIRMS"
    assert worker_settings.PROTECTIONS.env_var("ack_after_push") == "WORKER_ACK_AFTER_PUSH"
    assert gateway_settings.PROTECTIONS.env_var("breaker") == "GATEWAY_BREAKER"
    assert notifications_settings.PROTECTIONS.env_var("timeouts") == "NOTIFICATIONS_TIMEOUTS"


SWITCHES = Switches("svc", "SVC_", ("alpha", "beta", "frozen"), frozenset({"frozen"}))


def test_update_is_partial_and_reports_what_changed() -> None:
    protections = Protections(SWITCHES)
    assert protections.update({"alpha": False}) == {"alpha"}
    assert protections.as_dict() == {"alpha": False, "beta": True, "frozen": True}
    assert protections.update({"alpha": False, "beta": True}) == set()
    protections.switch("alpha", True)
    assert protections["alpha"] is True


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"alpha": False, "gamma": True}, 400, "unknown protections ['gamma']"),
        ({"alpha": False, "beta": "off"}, 400, "'beta' must be true or false"),
        ([True], 400, "JSON object"),
        ({"alpha": False, "frozen": False}, 409, "frozen: start-up only; restart svc with "),
    ],
)
def test_a_bad_update_changes_nothing(body: object, status: int, fragment: str) -> None:
    protections = Protections(SWITCHES)
    with pytest.raises(ProtectionError, match=re.escape(fragment)) as caught:
        protections.update(body)
    assert caught.value.status == status
    assert protections.as_dict() == SWITCHES.defaults()


def test_a_start_up_only_switch_names_its_variable_and_accepts_its_current_value() -> None:
    protections = Protections(SWITCHES, {"frozen": False})
    with pytest.raises(ProtectionError, match="SVC_FROZEN=on"):
        protections.update({"frozen": True})
    assert protections.update({"frozen": False}) == set()


def test_unknown_initial_values_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown svc protections \['gamma'\]"):
        Protections(SWITCHES, {"gamma": False})


async def test_protections_routes_answer_get_and_put() -> None:
    protections = Protections(SWITCHES)
    changes: list[set[str]] = []
    app = Starlette(routes=protections_routes(protections, changes.append))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.get("/admin/protections")).json() == SWITCHES.defaults()
        put = await client.put("/admin/protections", json={"beta": False})
        assert put.json() == {"alpha": True, "beta": False, "frozen": True}
        await client.put("/admin/protections", json={"beta": False})  # no change, no callback
        frozen = await client.put("/admin/protections", json={"frozen": False})
        assert frozen.status_code == 409
        assert frozen.json()["startup_only"] == ["frozen"]
        assert "SVC_FROZEN=off" in frozen.json()["error"]
        bad = await client.put("/admin/protections", content=b"{nope")
        assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    assert changes == [{"beta"}]


# --- retries: the protected policy and the regression ---


def failing(calls: list[float], clock: FakeClock) -> Callable[[], None]:
    def call() -> None:
        calls.append(clock.now)
        raise ConnectionError("down")

    return call


def test_bounded_retrying_backs_off_within_its_budget() -> None:
    clock, calls = FakeClock(), list[float]()
    retrying = bounded_retrying(
        attempts=10,
        max_s=0.35,
        wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
        retry=tenacity.retry_if_exception_type(ConnectionError),
        sleep=clock.sleep,
        clock=clock,
    )
    with pytest.raises(ConnectionError):
        retrying(failing(calls, clock))
    assert clock.sleeps == [0.1, 0.2]  # the next wait (0.4) would pass the 0.35 s budget
    assert len(calls) == 3


def test_immediate_retrying_is_the_naive_loop_bounded_only_by_attempts() -> None:
    clock, calls = FakeClock(), list[float]()
    retrying = immediate_retrying(
        attempts=10,
        retry=tenacity.retry_if_exception_type(ConnectionError),
        sleep=clock.sleep,
    )
    with pytest.raises(ConnectionError):
        retrying(failing(calls, clock))
    assert len(calls) == 10
    assert clock.now == 0.0  # no backoff, no jitter: every attempt at once
    with pytest.raises(ValueError, match="attempts=0"):
        immediate_retrying(attempts=0, retry=tenacity.retry_if_exception_type(ConnectionError))


def test_amqp_parameters_without_timeouts_are_pikas_defaults() -> None:
    url = "amqp://guest:guest@127.0.0.1:5672/%2F"
    on = connection_parameters(url, 1.0, 10)
    assert (on.socket_timeout, on.stack_timeout, on.blocked_connection_timeout) == (1.0, 2.0, 5.0)
    assert on.heartbeat == 10
    off = connection_parameters(url, 1.0, 10, timeouts=False)
    default = pika.URLParameters(url)
    assert (off.socket_timeout, off.stack_timeout, off.blocked_connection_timeout) == (
        default.socket_timeout,
        default.stack_timeout,
        None,
    )
    assert off.heartbeat is None  # the broker's proposal (60 s) applies
    assert on.connection_attempts == off.connection_attempts == 1


# --- several brokers: URL lists and failover ---


def test_a_url_list_is_split_on_commas_and_each_url_checked() -> None:
    env = Env({"U": "amqp://a:1/%2F, amqp://b:2/%2F"})
    assert env.urls("U", "amqp://d", ("amqp",)) == ("amqp://a:1/%2F", "amqp://b:2/%2F")
    assert Env({}).urls("U", "amqp://d", ("amqp",)) == ("amqp://d",)
    with pytest.raises(SettingsError, match=r"U='amqp://a,,amqp://b' holds an empty URL"):
        Env({"U": "amqp://a,,amqp://b"}).urls("U", "amqp://d", ("amqp",))
    with pytest.raises(SettingsError, match=r"U='http://b' is not a amqp URL"):
        Env({"U": "amqp://a,http://b"}).urls("U", "amqp://d", ("amqp",))


def test_failover_starts_after_the_node_last_used_and_goes_round_once() -> None:
    failover = Failover(["a", "b", "c"])
    tried: list[str] = []
    down = {"b"}

    def open_one(url: str) -> str:
        tried.append(url)
        if url in down:
            raise ConnectionRefusedError(url)
        return url

    assert failover.connect(open_one) == "a" and failover.current == "a"
    # The connection to a ended (its node died, most likely): b is tried next, then c.
    down.add("a")
    assert failover.connect(open_one) == "c"
    assert tried == ["a", "b", "c"]
    down.update({"c"})
    tried.clear()
    with pytest.raises(BrokersUnreachable, match=r"no broker of 3 .*ConnectionRefusedError"):
        failover.connect(open_one)
    assert tried == ["a", "b", "c"]  # once round, starting after c
    assert failover.order() == ["b", "c", "a"]  # and the next round starts after a


def test_failover_with_one_broker_raises_its_own_error() -> None:
    def refuse(url: str) -> str:
        raise ConnectionRefusedError(f"{url} refused")

    with pytest.raises(ConnectionRefusedError, match="only refused"):
        Failover(["only"]).connect(refuse)
    with pytest.raises(ValueError, match="at least one broker URL"):
        Failover([])


def test_failover_errors_name_host_and_port_never_the_credentials() -> None:
    failover = Failover(["amqp://guest:secret@h1:5001/%2F", "amqp://guest:secret@h2/%2F"])

    def refuse(url: str) -> str:
        raise ConnectionRefusedError("refused")

    with pytest.raises(BrokersUnreachable) as caught:
        failover.connect(refuse)
    assert "h1:5001" in str(caught.value) and "h2:5672" in str(caught.value)
    assert "secret" not in str(caught.value)
