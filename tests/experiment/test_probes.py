"""chaos.experiment._probes: the sampler on a fake clock, the Prometheus reader on real text."""

from __future__ import annotations

import json
import math

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from chaos.experiment._clock import FakeClock
from chaos.experiment._probes import (
    Gap,
    HintedProbe,
    MetricNotFound,
    ProbeError,
    Sampler,
    hints_of,
    http_metric,
    probe,
    prometheus_value,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def exposition() -> str:
    """Real Prometheus text, as a service built on prometheus_client serves it."""
    registry = CollectorRegistry()
    reactions = Counter("reactions", "reactions", ["status", "mode"], registry=registry)
    reactions.labels("ok", "sync").inc(3)
    reactions.labels("ok", "async").inc(4)
    reactions.labels("error", "sync").inc(2)
    Gauge("outbox_depth", "depth", registry=registry).set(17)
    latency = Histogram("push_seconds", "push", registry=registry, buckets=(0.1, 1.0))
    latency.observe(0.05)
    latency.observe(0.5)
    return generate_latest(registry).decode()


# -- prometheus_value -------------------------------------------------------------------------


def test_gauge_value(exposition: str) -> None:
    assert prometheus_value(exposition, "outbox_depth") == 17.0


def test_counter_by_full_name_and_without_total_suffix(exposition: str) -> None:
    assert prometheus_value(exposition, "reactions_total", {"status": "ok", "mode": "sync"}) == 3.0
    assert prometheus_value(exposition, "reactions", {"status": "error"}) == 2.0


def test_partial_labels_sum_the_matching_samples(exposition: str) -> None:
    assert prometheus_value(exposition, "reactions_total", {"status": "ok"}) == 7.0
    assert prometheus_value(exposition, "reactions_total") == 9.0


def test_histogram_bucket_and_count(exposition: str) -> None:
    assert prometheus_value(exposition, "push_seconds_bucket", {"le": "0.1"}) == 1.0
    assert prometheus_value(exposition, "push_seconds_count") == 2.0
    assert prometheus_value(exposition, "push_seconds_sum") == pytest.approx(0.55)


def test_hand_written_text_with_escaped_labels() -> None:
    text = 'queue_messages{queue="notify \\"main\\""} 12\nqueue_messages{queue="dlq"} 1\n'
    assert prometheus_value(text, "queue_messages", {"queue": 'notify "main"'}) == 12.0


def test_missing_metric_names_what_exists(exposition: str) -> None:
    with pytest.raises(MetricNotFound, match=r"no sample 'nope'.*samples present: .*outbox_depth"):
        prometheus_value(exposition, "nope")
    with pytest.raises(MetricNotFound, match=r"'outbox_depth' exists with labels \[\{\}\]"):
        prometheus_value(exposition, "outbox_depth", {"queue": "x"})


def test_unparseable_text_is_a_probe_error() -> None:
    with pytest.raises(ProbeError, match="cannot parse") as info:
        prometheus_value("this is { not metrics", "x")
    assert isinstance(info.value.__cause__, ValueError)


# -- http_metric ------------------------------------------------------------------------------


def test_http_metric_fetches_and_reads(exposition: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text=exposition)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        probe = http_metric("http://svc/metrics", "reactions", {"mode": "async"}, client=client)
        assert probe() == 4.0
    assert seen == ["http://svc/metrics"]


def test_http_metric_translates_transport_and_status_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/down":
            raise httpx.ConnectError("Connection refused")
        return httpx.Response(503)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ProbeError, match="GET http://svc/down for metric 'x' failed"):
            http_metric("http://svc/down", "x", client=client)()
        with pytest.raises(ProbeError, match="503"):
            http_metric("http://svc/metrics", "x", client=client)()
    with pytest.raises(ValueError, match=r"timeout.*got 0"):
        http_metric("http://svc/metrics", "x", timeout=0)


# -- probe: display hints --------------------------------------------------------------------

BREAKER = {2: "open", 0: "closed", 1: "half-open"}


def test_a_hinted_probe_reads_like_its_function_and_carries_its_hints() -> None:
    values = iter([0, 2])
    state = probe(lambda: next(values), title="Breaker", states=BREAKER)
    assert isinstance(state, HintedProbe)
    assert [state(), state()] == [0, 2]
    assert state.hints() == {
        "title": "Breaker",
        "unit": None,
        "states": [(0.0, "closed"), (1.0, "half-open"), (2.0, "open")],  # ordered by value
    }


def test_a_plain_callable_has_empty_hints() -> None:
    assert hints_of(lambda: 1.0) == {"title": None, "unit": None, "states": None}


def test_hints_given_again_override_only_what_they_name() -> None:
    depth = probe(lambda: 3, title="Queue", unit="messages")
    again = probe(depth, title="Orders queued")
    assert again.fn is depth.fn  # not a probe of a probe
    assert again.hints() == {"title": "Orders queued", "unit": "messages", "states": None}


def test_a_metric_probe_keeps_working_with_hints(exposition: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text=exposition))
    with httpx.Client(transport=transport) as client:
        outbox = probe(http_metric("http://svc/metrics", "outbox_depth", client=client), unit="ev")
        assert outbox() == 17.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fn": 3}, TypeError, "a probe must be callable, got 3"),
        ({"title": ""}, ValueError, "title must be a non-empty string or None, got ''"),
        ({"unit": 5}, ValueError, "unit must be a non-empty string or None, got 5"),
        ({"states": {}}, ValueError, "states must map values to labels"),
        ({"states": [0, 1]}, ValueError, "states must map values to labels"),
        ({"states": {"open": 2}}, ValueError, "state value 'open' is not a number"),
        ({"states": {True: "on"}}, ValueError, "state value True is not a number"),
        ({"states": {-1: "down"}}, ValueError, "state value -1 must be finite and >= 0"),
        ({"states": {math.nan: "?"}}, ValueError, "state value nan must be finite"),
        ({"states": {0: ""}}, ValueError, "state 0 needs a non-empty label, got ''"),
    ],
)
def test_probe_refuses_bad_hints(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    args: dict[str, object] = {"fn": lambda: 0.0, **kwargs}
    with pytest.raises(error, match=match):
        probe(**args)  # type: ignore[arg-type]


def test_the_sampler_keeps_every_probes_hints_with_its_samples() -> None:
    sampler = Sampler(
        {"state": probe(lambda: 1, states=BREAKER), "plain": lambda: 4.0}, clock=FakeClock()
    )
    sampler.sample_once()
    data = json.loads(json.dumps(sampler.to_dict()))
    assert data["series"] == {"state": [[0.0, 1.0]], "plain": [[0.0, 4.0]]}
    assert data["hints"] == {
        "state": {
            "title": None,
            "unit": None,
            "states": [[0.0, "closed"], [1.0, "half-open"], [2.0, "open"]],
        },
        "plain": {"title": None, "unit": None, "states": None},
    }


# -- Sampler ----------------------------------------------------------------------------------


def test_sampler_runs_its_bounded_schedule_on_a_fake_clock() -> None:
    clock = FakeClock(50.0)
    depth = iter(range(100))
    with Sampler({"depth": lambda: next(depth)}, interval=0.5, duration=5, clock=clock) as s:
        assert s._thread is not None
        s._thread.join(5)  # fake time: the whole 5 s schedule runs at once
    series = s.series("depth")
    assert [t for t, _ in series] == [pytest.approx(50.0 + k * 0.5) for k in range(11)]
    assert [v for _, v in series] == [float(k) for k in range(11)]
    assert not s.running


def test_probe_failures_are_gaps_not_crashes() -> None:
    clock = FakeClock(0.0)
    calls = 0

    def flaky() -> float:
        nonlocal calls
        calls += 1
        if calls in (2, 3):
            raise ConnectionRefusedError("metrics endpoint down")
        return 1.0

    def bad_value() -> float:
        return math.nan

    sampler = Sampler({"flaky": flaky, "bad": bad_value}, interval=1, duration=4, clock=clock)
    sampler.start()
    sampler.stop()
    assert [t for t, _ in sampler.series("flaky")] == [0.0, 3.0, 4.0]
    gaps = sampler.gaps("flaky")
    assert [g.t for g in gaps] == [1.0, 2.0]
    assert "ConnectionRefusedError" in gaps[0].error
    assert isinstance(gaps[0], Gap)
    assert sampler.series("bad") == []
    assert len(sampler.gaps("bad")) == 5 and "not a finite number" in sampler.gaps("bad")[0].error


def test_stop_ends_sampling_even_from_inside_a_probe() -> None:
    clock = FakeClock(0.0)
    calls = 0

    def probe() -> float:
        nonlocal calls
        calls += 1
        if calls == 3:
            sampler.stop()
        return float(calls)

    sampler = Sampler({"p": probe}, interval=1, duration=100, clock=clock)
    sampler.start()
    assert sampler._thread is not None
    sampler._thread.join(5)
    assert calls == 3
    sampler.stop()
    sampler.stop()  # idempotent
    assert len(sampler.series("p")) == 3


def test_slow_probe_skips_missed_ticks_instead_of_bursting() -> None:
    clock = FakeClock(0.0)

    def slow() -> float:
        clock.jump(clock.now() + 2.5)  # this probe took 2.5 s
        return 1.0

    sampler = Sampler({"slow": slow}, interval=1, duration=10, clock=clock)
    sampler.start()
    sampler.stop()
    times = [t for t, _ in sampler.series("slow")]
    # Taken at 0, 3, 6, 9 (after each 2.5 s call): never two ticks back to back.
    assert times == [0.0, 3.0, 6.0, 9.0]


def test_sample_once_without_a_thread_and_to_dict() -> None:
    clock = FakeClock(10.0)
    sampler = Sampler({"a": lambda: 1, "b": lambda: 2.5}, clock=clock)
    sampler.sample_once()
    clock.jump(11.0)
    sampler.sample_once()
    data = json.loads(json.dumps(sampler.to_dict(t0=10.0)))
    assert data["series"] == {"a": [[0.0, 1.0], [1.0, 1.0]], "b": [[0.0, 2.5], [1.0, 2.5]]}
    assert data["gaps"] == {"a": [], "b": []}
    with pytest.raises(KeyError, match=r"'c'.*probes: \['a', 'b'\]"):
        sampler.series("c")


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ({}, {}, ValueError, "at least one probe"),
        ({"x": 3}, {}, TypeError, "probe 'x' must be callable, got 3"),
        ({"x": float}, {"interval": 0}, ValueError, "interval.*got 0"),
        ({"x": float}, {"duration": -1}, ValueError, "duration.*got -1"),
        ({"x": float}, {"duration": 10**6}, ValueError, "duration.*got 1000000"),
    ],
)
def test_sampler_rejects_bad_arguments(
    args: dict[str, object], kwargs: dict[str, float], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Sampler(args, **kwargs)  # type: ignore[arg-type]


def test_sampler_starts_once() -> None:
    sampler = Sampler({"x": float}, duration=1, clock=FakeClock())
    sampler.start()
    with pytest.raises(RuntimeError, match="already started"):
        sampler.start()
    sampler.stop()
