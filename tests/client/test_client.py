"""Behaviour of every client method, sync and async, against a Toxiproxy and our server alike."""

from __future__ import annotations

import warnings

import httpx
import pytest

from chaos.client import (
    DEFAULT_URL,
    USER_AGENT,
    AddressInUse,
    ApiError,
    AsyncToxiproxy,
    InvalidStream,
    InvalidToxic,
    MissingField,
    Proxy,
    ProxyExists,
    ProxyNotFound,
    ServerIgnoredToxicsWarning,
    Toxic,
    ToxicExists,
    ToxicNotFound,
    Toxiproxy,
    UnsupportedByServer,
)

from .either import Api, settle

pytestmark = pytest.mark.timeout(10)

UPSTREAM = "127.0.0.1:1"  # never dialed: no connection goes through these proxies


async def test_version_is_a_nonempty_string(api: Api) -> None:
    version = await api.version()
    assert isinstance(version, str) and version


async def test_create_then_get_and_list(api: Api) -> None:
    created = await api.create_proxy("basic", UPSTREAM)
    assert (created.name, created.upstream, created.enabled, created.toxics) == (
        "basic",
        UPSTREAM,
        True,
        (),
    )
    assert created.host == "127.0.0.1" and created.port > 0  # port 0 resolved by the server
    assert await api.get_proxy("basic") == created
    assert (await api.proxies())["basic"] == created


async def test_created_disabled_keeps_listen_verbatim(api: Api) -> None:
    created = await api.create_proxy("off", UPSTREAM, listen="localhost:0", enabled=False)
    assert (created.listen, created.enabled) == ("localhost:0", False)


async def test_duplicate_name_raises_proxy_exists(api: Api) -> None:
    await api.create_proxy("twice", UPSTREAM)
    with pytest.raises(ProxyExists) as caught:
        await api.create_proxy("twice", UPSTREAM)
    assert (caught.value.status, caught.value.message) == (409, "proxy already exists")
    assert "POST /proxies" in str(caught.value)


async def test_missing_upstream_raises_missing_field(api: Api) -> None:
    with pytest.raises(MissingField, match="missing required field: upstream"):
        await api.create_proxy("no-upstream", "")


async def test_unknown_proxy_raises_proxy_not_found(api: Api) -> None:
    with pytest.raises(ProxyNotFound) as caught:
        await api.get_proxy("ghost")
    assert caught.value.path == "/proxies/ghost"
    with pytest.raises(ProxyNotFound):
        await api.delete_proxy("ghost")
    with pytest.raises(ProxyNotFound):
        await api.add_toxic("ghost", "latency")


async def test_name_with_a_space_round_trips(api: Api) -> None:
    await api.create_proxy("with space", UPSTREAM)
    assert (await api.get_proxy("with space")).name == "with space"
    await api.add_toxic("with space", "noop", name="a toxic")
    assert (await api.get_toxic("with space", "a toxic")).type == "noop"
    await api.delete_proxy("with space")
    assert "with space" not in await api.proxies()


async def test_disable_enable_and_update(api: Api) -> None:
    created = await api.create_proxy("flip", UPSTREAM)
    disabled = await api.disable("flip")
    assert disabled.enabled is False
    enabled = await api.enable(created)  # a Proxy works wherever a name does
    assert enabled.enabled is True and enabled.listen == created.listen
    moved = await api.update_proxy("flip", upstream="127.0.0.1:2")
    assert (moved.upstream, moved.listen, moved.enabled) == ("127.0.0.1:2", created.listen, True)


async def test_delete_then_gone(api: Api) -> None:
    await api.create_proxy("doomed", UPSTREAM)
    assert await api.delete_proxy("doomed") is None
    with pytest.raises(ProxyNotFound):
        await api.get_proxy("doomed")


async def test_listen_in_use_raises_address_in_use(api: Api) -> None:
    first = await api.create_proxy("holder", UPSTREAM)
    with pytest.raises(AddressInUse) as caught:
        await api.create_proxy("squatter", UPSTREAM, listen=first.listen)
    assert caught.value.status == 500
    assert caught.value.message.endswith(f"{first.listen}: bind: address already in use")
    with pytest.raises(ProxyNotFound):
        await api.get_proxy("squatter")


async def test_toxic_lifecycle(api: Api) -> None:
    await api.create_proxy("tox", UPSTREAM)
    latency = await api.add_toxic("tox", "latency", attributes={"latency": 100, "jitter": 10})
    assert latency == Toxic(
        "latency_downstream", "latency", "downstream", 1.0, {"latency": 100, "jitter": 10}
    )
    named = await api.add_toxic("tox", "bandwidth", "upstream", 0.5, {"rate": 7}, name="bw")
    assert (named.name, named.stream, named.toxicity, named.attributes) == (
        "bw",
        "upstream",
        0.5,
        {"rate": 7},
    )
    # upstream toxics are listed before downstream ones
    assert [t.name for t in await api.toxics("tox")] == ["bw", "latency_downstream"]
    assert (await api.get_proxy("tox")).toxics == (named, latency)
    assert await api.get_toxic("tox", "bw") == named

    merged = await api.update_toxic("tox", "latency_downstream", attributes={"latency": 1000})
    assert merged.attributes == {"latency": 1000, "jitter": 10}  # partial merge
    assert merged.toxicity == 1.0
    rolled = await api.update_toxic("tox", "latency_downstream", toxicity=0.25)
    assert (rolled.toxicity, rolled.attributes["latency"]) == (0.25, 1000)

    assert await api.remove_toxic("tox", "bw") is None
    with pytest.raises(ToxicNotFound):
        await api.remove_toxic("tox", "bw")
    with pytest.raises(ToxicNotFound):
        await api.update_toxic("tox", "bw", toxicity=1.0)
    assert [t.name for t in await api.toxics("tox")] == ["latency_downstream"]


async def test_toxic_names_are_unique_across_streams(api: Api) -> None:
    await api.create_proxy("dup", UPSTREAM)
    await api.add_toxic("dup", "latency", "upstream", name="x")
    with pytest.raises(ToxicExists, match="toxic already exists"):
        await api.add_toxic("dup", "latency", "downstream", name="x")


async def test_bad_toxic_type_and_stream(api: Api) -> None:
    await api.create_proxy("bad", UPSTREAM)
    with pytest.raises(InvalidToxic, match="invalid toxic type"):
        await api.add_toxic("bad", "teleport")
    with pytest.raises(InvalidStream, match="stream was invalid"):
        await api.add_toxic("bad", "latency", stream="sideways")


async def test_reset_enables_all_and_clears_toxics(api: Api) -> None:
    await api.create_proxy("r", UPSTREAM)
    await api.add_toxic("r", "latency")
    await api.disable("r")
    assert await api.reset() is None
    after = await api.get_proxy("r")
    assert (after.enabled, after.toxics) == (True, ())


async def test_populate_creates_and_keeps_identical(api: Api) -> None:
    entries = [
        {"name": "pa", "listen": "127.0.0.1:0", "upstream": UPSTREAM},
        {"name": "pb", "listen": "127.0.0.1:0", "upstream": UPSTREAM, "enabled": False},
    ]
    made = await api.populate(entries)
    assert [(p.name, p.enabled) for p in made] == [("pa", True), ("pb", False)]
    await api.add_toxic("pa", "noop")
    again = await api.populate([{"name": "pa", "listen": made[0].listen, "upstream": UPSTREAM}])
    assert [t.name for t in again[0].toxics] == ["noop_downstream"]  # kept, not replaced
    assert await api.populate([]) == []


async def test_populate_validation_creates_nothing(api: Api) -> None:
    entries = [{"name": "ok", "upstream": UPSTREAM}, {"name": "", "upstream": UPSTREAM}]
    with pytest.raises(MissingField, match="missing required field: name at proxy 2") as caught:
        await api.populate(entries)
    assert caught.value.proxies == ()
    assert "ok" not in await api.proxies()


async def test_populate_failure_reports_proxies_made_before_it(api: Api) -> None:
    holder = await api.create_proxy("holder2", UPSTREAM)
    entries = [
        {"name": "early", "listen": "127.0.0.1:0", "upstream": UPSTREAM},
        {"name": "late", "listen": holder.listen, "upstream": UPSTREAM},
    ]
    with pytest.raises(AddressInUse) as caught:
        await api.populate(entries)
    assert [p.name for p in caught.value.proxies] == ["early"]
    assert isinstance(caught.value.proxies[0], Proxy)
    names = await api.proxies()
    assert "early" in names and "late" not in names


async def test_create_with_toxics_born_with_them(api: Api, extended: bool) -> None:
    toxics = [
        {"type": "latency", "attributes": {"latency": 50}},
        Toxic("cut", "limit_data", "upstream", 1.0, {"bytes": 10}),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        created = await api.create_proxy("born", UPSTREAM, toxics=toxics)
    ignored = [w for w in caught if issubclass(w.category, ServerIgnoredToxicsWarning)]
    # Our server takes them in the create body; a real Toxiproxy drops them silently.
    assert len(ignored) == (0 if extended else 1)
    assert {t.name for t in created.toxics} == {"latency_downstream", "cut"}
    assert {t.name for t in await api.toxics("born")} == {"latency_downstream", "cut"}


async def test_create_with_a_bad_toxic_leaves_no_proxy(api: Api) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ServerIgnoredToxicsWarning)
        with pytest.raises(InvalidToxic):
            await api.create_proxy("half", UPSTREAM, toxics=[{"type": "teleport"}])
    with pytest.raises(ProxyNotFound):
        await api.get_proxy("half")


async def test_extensions_unsupported_on_real_toxiproxy(api: Api, extended: bool) -> None:
    await api.create_proxy("ext", UPSTREAM)
    calls = [api.connections("ext"), api.cut_connections("ext"), api.openapi()]
    for call in calls:
        if extended:
            await call
            continue
        with pytest.raises(UnsupportedByServer) as caught:
            await call
        assert caught.value.status == 404 and caught.value.message == "404 page not found"


async def test_extensions_on_our_server(api: Api, extended: bool) -> None:
    if not extended:
        pytest.skip("pytest-chaos extension")
    await api.create_proxy("live", UPSTREAM)
    assert await api.connections("live") == []  # no traffic went through it
    assert await api.cut_connections("live") is None
    assert "openapi" in await api.openapi()
    with pytest.raises(ProxyNotFound):
        await api.connections("ghost")


async def test_http_toxics_with_typed_arguments(api: Api, extended: bool) -> None:
    proxy: Proxy = await api.create_proxy("web", UPSTREAM)
    if not extended:
        with pytest.raises(InvalidToxic):  # a real Toxiproxy has no HTTP toxics
            await api.add_http_error("web", 503, percentage=30)
        return
    error = await api.add_http_error("web", 429, percentage=30, path="/push", body="slow down")
    assert error.name == "http_error_downstream" and error.type == "http_error"
    assert error.attributes["status"] == 429 and error.attributes["percentage"] == 30
    assert error.attributes["count"] == 0  # not given: the server's default
    latency = await settle(
        proxy.add_http_latency(200, first_byte=True, method="GET", name="slow", stream="upstream")
    )
    assert (latency.name, latency.stream, latency.attributes["latency"]) == (
        "slow",
        "upstream",
        200,
    )
    assert latency.attributes["first_byte"] is True and latency.attributes["method"] == "GET"
    listed = {t.name: t.type for t in await api.toxics("web")}
    assert listed == {"http_error_downstream": "http_error", "slow": "http_latency"}


async def test_proxy_handle_convenience_methods(api: Api) -> None:
    proxy: Proxy = await api.create_proxy("handle", UPSTREAM)
    assert proxy.client is api.client
    toxic = await settle(proxy.add_toxic("latency", attributes={"latency": 5}))
    assert toxic.attributes["latency"] == 5
    updated = await settle(proxy.update_toxic(toxic.name, attributes={"jitter": 1}))
    assert updated.attributes == {"latency": 5, "jitter": 1}
    assert (await settle(proxy.disable())).enabled is False
    assert (await settle(proxy.enable())).enabled is True
    refreshed = await settle(proxy.refresh())
    assert refreshed.toxics == (updated,)
    await settle(proxy.remove_toxic(toxic.name))
    await settle(proxy.delete())
    with pytest.raises(ApiError):
        await settle(proxy.refresh())


# -- construction ------------------------------------------------------------------------------


def test_url_defaults_to_env_then_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    with Toxiproxy() as client:
        assert client.url == DEFAULT_URL
    monkeypatch.setenv("TOXIPROXY_URL", "http://10.0.0.7:9999/")
    with Toxiproxy() as client:
        assert client.url == "http://10.0.0.7:9999"
    with Toxiproxy("http://127.0.0.2:1") as client:  # an explicit url beats the environment
        assert client.url == "http://127.0.0.2:1"


def test_bare_host_port_is_accepted() -> None:
    with Toxiproxy("localhost:8474") as client:
        assert client.url == "http://localhost:8474"


@pytest.mark.parametrize("url", ["", "ftp://host:21", "http://", "http://host:notaport"])
def test_bad_url_fails_in_the_constructor(url: str) -> None:
    with pytest.raises(ValueError, match=f"url={url!r}"):
        Toxiproxy(url)
    with pytest.raises(ValueError, match=f"url={url!r}"):
        AsyncToxiproxy(url)


@pytest.mark.parametrize("timeout", [0, -1.0, True, "5"])
def test_bad_timeout_fails_in_the_constructor(timeout: object) -> None:
    with pytest.raises(ValueError, match=f"timeout={timeout!r}"):
        Toxiproxy(timeout=timeout)  # type: ignore[arg-type]


def test_user_agent_is_not_a_browser() -> None:
    assert USER_AGENT.startswith("pytest-chaos/") and "Mozilla" not in USER_AGENT


def test_context_managers_close_the_http_client() -> None:
    with Toxiproxy() as client:
        assert not client._http.is_closed
    assert client._http.is_closed
    assert repr(client) == f"Toxiproxy(url={client.url!r})"


async def test_async_context_manager_closes_the_http_client() -> None:
    async with AsyncToxiproxy() as client:
        assert not client._http.is_closed
    assert client._http.is_closed


def test_timeout_applies_to_every_call() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    with Toxiproxy(timeout=1.5, transport=httpx.MockTransport(handler)) as client:
        client.reset()
        client.delete_proxy("p")
    assert seen == [{"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}] * 2
