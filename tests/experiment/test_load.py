"""chaos.experiment._load: schedule accuracy on a fake clock, no coordinated omission, phases."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from chaos.experiment._clock import FakeClock
from chaos.experiment._load import MAX_RATE, LoadGenerator, LoadResults
from chaos.experiment._profiles import RateProfile, burst, steps
from chaos.experiment._targets import (
    ERROR_KINDS,
    HttpTarget,
    RawHttpTarget,
    RequestFailed,
    classify,
    http_target,
    raw_http_target,
)

pytestmark = pytest.mark.timeout(30)

T0 = 1000.0


async def drive(gen: LoadGenerator, clock: FakeClock, until: float) -> LoadResults:
    """Run `gen` on this loop while advancing the fake clock to `until`."""
    task = asyncio.create_task(gen.run())
    await clock.advance_to(until)
    # Real-time bound only as a safety net: the run must already be over in virtual time.
    return await asyncio.wait_for(task, 5.0)


# -- schedule ---------------------------------------------------------------------------------


async def test_requests_start_exactly_on_schedule() -> None:
    clock = FakeClock(T0)
    starts: list[float] = []

    async def target() -> None:
        starts.append(clock.now())

    gen = LoadGenerator(target, rate=50, duration=2, clock=clock)
    res = await drive(gen, clock, T0 + 3)
    assert len(starts) == 100
    assert starts == [pytest.approx(T0 + i / 50, abs=1e-9) for i in range(100)]
    phase = res.phase("warmup")
    assert (phase.scheduled, phase.sent, phase.ok, phase.failed) == (100, 100, 100, 0)
    assert phase.duration_s == pytest.approx(2.0)
    assert phase.throughput == pytest.approx(50.0)
    assert phase.max_lag_s == 0.0
    assert res.duration_s == pytest.approx(2.0)


async def test_max_requests_caps_the_schedule() -> None:
    clock = FakeClock(T0)
    calls = 0

    async def target() -> None:
        nonlocal calls
        calls += 1

    gen = LoadGenerator(target, rate=100, duration=10, max_requests=7, clock=clock)
    await drive(gen, clock, T0 + 11)
    assert calls == 7


async def test_stall_is_carried_by_every_request_scheduled_during_it() -> None:
    """The system freezes from 0.5 s to 1.5 s; open loop keeps sending, latency counts the wait."""
    clock = FakeClock(T0)
    freeze_from, freeze_until, service = T0 + 0.5, T0 + 1.5, 0.010

    async def target() -> None:
        now = clock.now()
        start = freeze_until if freeze_from <= now < freeze_until else now
        await clock.sleep_until(start + service)

    gen = LoadGenerator(target, rate=50, duration=3, interval=0.1, clock=clock)
    res = await drive(gen, clock, T0 + 4)
    phase = res.phase("warmup")
    assert (phase.scheduled, phase.ok) == (150, 150)
    assert phase.latency.max == pytest.approx(1010.0, rel=1e-3)
    for bucket in res.series:
        start = T0 + bucket.start_s
        frozen = freeze_from <= start < freeze_until
        # The first request of a bucket is its slowest: it waited longest for the thaw.
        expected_ms = (freeze_until + service - start) * 1000 if frozen else service * 1000
        assert bucket.max_ms == pytest.approx(expected_ms, rel=1e-6), bucket
        assert bucket.scheduled == 5
    # 26 requests (scheduled 0.50 .. 1.00 s) waited >= 0.5 s; a closed loop would show one.
    slow = sum(1 for b in res.series if b.max_ms is not None and b.max_ms >= 500)
    assert slow == 6  # buckets 0.5..1.0 s


async def test_requests_queued_behind_a_slow_one_carry_the_queueing() -> None:
    """A serial server: one 1 s request delays every request scheduled behind it."""
    clock = FakeClock(T0)
    lock = asyncio.Lock()
    count = 0

    async def target() -> None:
        nonlocal count
        count += 1
        mine = count
        async with lock:
            await clock.sleep_until(clock.now() + (1.0 if mine == 26 else 0.005))

    gen = LoadGenerator(target, rate=50, duration=3, interval=3, clock=clock)
    res = await drive(gen, clock, T0 + 5)
    phase = res.phase("warmup")
    assert phase.ok == 150
    # Request 27 was scheduled 20 ms after the slow one and had to wait for it.
    assert phase.latency.max == pytest.approx(1000.0, rel=1e-2)
    assert phase.latency.percentile(80) > 300.0
    assert phase.latency.p50 < phase.latency.p90


async def test_generator_lag_counts_from_the_scheduled_time() -> None:
    """If the generator's own loop is blocked, the missed requests burst and carry the lag."""
    clock = FakeClock(T0)

    async def target() -> None:
        return None

    gen = LoadGenerator(target, rate=50, duration=2, interval=1, clock=clock)
    task = asyncio.create_task(gen.run())
    await clock.settle()  # request 0 went out at T0
    clock.jump(T0 + 0.5)  # the loop was stuck for half a second
    await clock.advance_to(T0 + 3)
    res = await asyncio.wait_for(task, 5.0)
    phase = res.phase("warmup")
    assert phase.ok == 100
    assert phase.max_lag_s == pytest.approx(0.48)
    assert phase.latency.max == pytest.approx(480.0, rel=1e-3)
    assert res.series[0].max_ms == pytest.approx(480.0)
    assert res.series[1].max_ms == 0.0


async def test_stop_while_lagging_still_sends_every_request_due_before_it() -> None:
    clock = FakeClock(T0)

    async def target() -> None:
        return None

    gen = LoadGenerator(target, rate=50, duration=10, clock=clock)
    task = asyncio.create_task(gen.run())
    await clock.settle()  # request 0 went out at T0
    clock.jump(T0 + 0.5)  # the loop was stuck; 25 more requests are overdue
    gen.request_stop()
    await clock.advance_to(T0 + 1)
    res = await asyncio.wait_for(task, 5.0)
    phase = res.phase("warmup")
    assert (phase.scheduled, phase.ok) == (26, 26)  # due at 0.00 .. 0.50 s
    assert res.duration_s == pytest.approx(0.5)


# -- phases -----------------------------------------------------------------------------------


async def test_each_request_counts_in_the_phase_it_was_scheduled_in() -> None:
    clock = FakeClock(T0)
    fault = False

    async def target() -> None:
        if fault:
            raise ConnectionRefusedError("nope")

    gen = LoadGenerator(target, rate=50, duration=3, clock=clock, phase="baseline")
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.99)
    gen.phase("fault")
    fault = True
    await clock.advance_to(T0 + 1.99)
    gen.phase("recovery")
    fault = False
    await clock.advance_to(T0 + 4)
    res = await asyncio.wait_for(task, 5.0)
    assert list(res.phases) == ["baseline", "fault", "recovery"]
    base, flt, rec = (res.phase(n) for n in ("baseline", "fault", "recovery"))
    assert (base.scheduled, base.ok, base.failed) == (50, 50, 0)
    assert (flt.scheduled, flt.ok, flt.errors["refused"]) == (50, 0, 50)
    assert flt.error_rate == 1.0
    assert (rec.scheduled, rec.ok) == (50, 50)
    assert base.duration_s == pytest.approx(0.99)
    assert flt.duration_s == pytest.approx(1.0)
    assert rec.duration_s == pytest.approx(3.0 - 1.99)
    assert (flt.started_s, flt.ended_s) == (pytest.approx(0.99), pytest.approx(1.99))
    assert res.phase_marks == [
        (0.0, "baseline"),
        (pytest.approx(0.99), "fault"),
        (pytest.approx(1.99), "recovery"),
    ]
    assert "ConnectionRefusedError" in flt.error_samples["refused"][0]
    with pytest.raises(KeyError, match="baseline"):
        res.phase("nope")


async def test_a_request_due_but_not_yet_sent_is_in_flight_in_its_phase() -> None:
    # The handover waits for the baseline's requests in flight before the fault goes on; one
    # due in the baseline that a late scheduler had not sent yet slipped through and met it.
    clock = FakeClock(T0)

    async def target() -> None:
        pass

    gen = LoadGenerator(target, rate=10, duration=1, clock=clock, phase="baseline")
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.05)
    assert gen.in_flight("baseline") == 0  # the next one is due at +0.1: not yet
    clock.jump(T0 + 0.15)  # the loop was busy past +0.1
    gen.phase("handover")
    assert gen.in_flight("baseline") == 1
    await clock.advance_to(T0 + 0.15)
    assert gen.in_flight("baseline") == 0
    await clock.advance_to(T0 + 2)
    res = await asyncio.wait_for(task, 5.0)
    assert res.phase("baseline").scheduled == 2


async def test_a_repeated_phase_name_accumulates() -> None:
    clock = FakeClock(T0)

    async def target() -> None:
        return None

    gen = LoadGenerator(target, rate=10, duration=3, clock=clock, phase="a")
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.95)
    gen.phase("b")
    await clock.advance_to(T0 + 1.95)
    gen.phase("a")
    await clock.advance_to(T0 + 4)
    res = await asyncio.wait_for(task, 5.0)
    assert res.phase("a").scheduled == 20
    assert res.phase("b").scheduled == 10
    assert res.phase("a").duration_s == pytest.approx(2.0)
    assert res.phase("a").windows == [(0.0, pytest.approx(0.95)), (pytest.approx(1.95), 3.0)]


# -- rate profiles ----------------------------------------------------------------------------


async def _record_starts(
    clock: FakeClock, gen_kwargs: dict[str, object]
) -> tuple[LoadGenerator, list[float]]:
    starts: list[float] = []

    async def target() -> None:
        starts.append(clock.now() - T0)

    return LoadGenerator(target, clock=clock, **gen_kwargs), starts  # type: ignore[arg-type]


async def test_steps_change_the_rate_from_the_anchor_phase() -> None:
    clock = FakeClock(T0)
    profile = steps((0, 10), (0.5, 50), (1.5, 10))
    gen, starts = await _record_starts(clock, {"rate": profile, "duration": 3, "phase": "baseline"})
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 1.0)
    gen.phase("fault")  # offsets count from here
    await clock.advance_to(T0 + 4)
    res = await asyncio.wait_for(task, 5.0)
    expected = (
        [i / 10 for i in range(15)]  # 10/s until fault + 0.5 s
        + [1.5 + i / 50 for i in range(50)]  # 50/s for a second
        + [2.5 + i / 10 for i in range(5)]  # 10/s again until the end (3 s)
    )
    assert starts == [pytest.approx(t, abs=1e-9) for t in expected]
    # The request due at 1.0 s went out before phase() was called: it is baseline's.
    assert res.phase("baseline").scheduled == 11
    fault = res.phase("fault")
    assert (fault.scheduled, fault.ok) == (59, 59)
    assert fault.max_lag_s == 0.0  # open loop: every request left on time
    assert [b.scheduled for b in res.series] == [10, 5 + 25, 25 + 5]
    assert res.rate == 10.0
    assert res.profile == profile
    assert res.duration_s == pytest.approx(3.0)


async def test_a_burst_starts_the_moment_its_phase_begins_not_at_the_next_slow_tick() -> None:
    """At 2/s the next request is due at 1.0 s; the burst begins at 0.75 s and must not wait."""
    clock = FakeClock(T0)
    gen, starts = await _record_starts(
        clock, {"rate": burst(2, 20, at=0, duration=1), "duration": 2.5, "phase": "baseline"}
    )
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.75)
    gen.phase("fault")
    await clock.advance_to(T0 + 3)
    res = await asyncio.wait_for(task, 5.0)
    # Cumulative count: 1.5 at 0.75 s (requests at 0 and 0.5 s), 20 more by 1.75 s, then 2/s.
    expected = [0.0, 0.5] + [0.775 + i / 20 for i in range(20)] + [2.0]
    assert starts == [pytest.approx(t, abs=1e-9) for t in expected]
    assert res.phase("fault").scheduled == 21
    assert res.phase("fault").max_lag_s == 0.0


async def test_a_profile_whose_phase_never_comes_offers_its_base_rate() -> None:
    clock = FakeClock(T0)
    gen, starts = await _record_starts(
        clock, {"rate": burst(5, 50, at=0, duration=1), "duration": 2, "phase": "baseline"}
    )
    res = await drive(gen, clock, T0 + 3)
    assert starts == [pytest.approx(i / 5, abs=1e-9) for i in range(10)]
    assert res.phase("baseline").scheduled == 10
    assert gen.total == 100  # bounded by the peak: the profile might have reached it


async def test_a_profile_anchored_to_the_first_phase_or_to_none_counts_from_the_start() -> None:
    for anchor, first_phase in (("warmup", "warmup"), (None, "baseline")):
        clock = FakeClock(T0)
        profile = steps((0, 10), (0.5, 20), phase=anchor)
        gen, starts = await _record_starts(
            clock, {"rate": profile, "duration": 1, "phase": first_phase}
        )
        await drive(gen, clock, T0 + 2)
        expected = [i / 10 for i in range(5)] + [0.5 + i / 20 for i in range(10)]
        assert starts == [pytest.approx(t, abs=1e-9) for t in expected], anchor


async def test_anchor_entered_twice_counts_from_its_first_start() -> None:
    clock = FakeClock(T0)
    gen, starts = await _record_starts(
        clock, {"rate": steps((0, 10), (1.0, 20)), "duration": 3, "phase": "fault"}
    )
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.55)
    gen.phase("recovery")
    await clock.advance_to(T0 + 0.75)
    gen.phase("fault")  # a second window of the anchor phase: the profile does not restart
    await clock.advance_to(T0 + 4)
    await asyncio.wait_for(task, 5.0)
    assert sum(1 for t in starts if t < 1.0) == 10
    assert sum(1 for t in starts if 1.0 <= t < 3.0) == 40


async def test_profile_results_are_json_ready() -> None:
    clock = FakeClock(T0)
    gen, _ = await _record_starts(
        clock, {"rate": burst(4, 8, at=0.5, duration=0.25), "duration": 1}
    )
    data = json.loads(json.dumps((await drive(gen, clock, T0 + 2)).to_dict()))
    assert data["rate"] == 4.0
    assert data["profile"] == {"phase": "fault", "before": 4.0, "steps": [[0.5, 8.0], [0.75, 4.0]]}
    fixed = LoadGenerator(_noop, rate=3, duration=1, clock=FakeClock(T0))
    assert json.loads(json.dumps(fixed.results().to_dict()))["profile"] is None


def test_the_request_bound_uses_the_peak_rate() -> None:
    profile = RateProfile(1, ((0, 5000),), phase=None)
    with pytest.raises(ValueError, match="peak rate \\* duration = 18000000 requests exceeds"):
        LoadGenerator(_noop, rate=profile, duration=3600)
    assert LoadGenerator(_noop, rate=steps((0, 10), (1, 40)), duration=2).total == 80


# -- overload, timeout, errors, stop ----------------------------------------------------------


async def test_overload_sheds_requests_and_counts_them_as_errors() -> None:
    clock = FakeClock(T0)
    release = asyncio.Event()

    async def target() -> None:
        await release.wait()

    gen = LoadGenerator(target, rate=50, duration=0.4, max_in_flight=5, clock=clock)
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.5)
    release.set()
    res = await asyncio.wait_for(task, 5.0)
    phase = res.phase("warmup")
    assert (phase.scheduled, phase.sent, phase.ok) == (20, 5, 5)
    assert phase.errors["overload"] == 15
    assert phase.error_rate == pytest.approx(0.75)
    assert phase.latency.count == 5
    assert phase.latency_all.count == 5  # shed requests have no latency
    assert "max_in_flight" in phase.error_samples["overload"][0]


async def test_timeout_on_the_generators_clock() -> None:
    clock = FakeClock(T0)
    cancelled = 0

    async def target() -> None:
        nonlocal cancelled
        try:
            await clock.sleep_until(T0 + 10_000)
        except asyncio.CancelledError:
            cancelled += 1
            raise

    gen = LoadGenerator(target, rate=10, duration=1, timeout=0.25, clock=clock)
    res = await drive(gen, clock, T0 + 2)
    phase = res.phase("warmup")
    assert phase.errors == {"timeout": 10}
    assert cancelled == 10
    assert phase.latency.count == 0
    assert phase.latency_all.p50 == pytest.approx(250.0, rel=1e-3)


async def test_failures_are_classified_by_kind() -> None:
    clock = FakeClock(T0)
    raised = iter(
        [
            ConnectionRefusedError(),
            ConnectionResetError(),
            TimeoutError(),
            RequestFailed("5xx", "GET / -> 503"),
            RequestFailed("4xx", "GET / -> 404"),
            ValueError("boom"),
        ]
    )

    async def target() -> None:
        raise next(raised)

    gen = LoadGenerator(target, rate=10, duration=0.6, clock=clock)
    res = await drive(gen, clock, T0 + 1)
    errors = res.phase("warmup").errors
    assert errors == {"refused": 1, "reset": 1, "timeout": 1, "5xx": 1, "4xx": 1, "other": 1}


async def test_request_stop_ends_scheduling_and_abandons_stuck_requests() -> None:
    clock = FakeClock(T0)

    async def target() -> None:
        await clock.sleep_until(T0 + 10_000)

    gen = LoadGenerator(target, rate=10, duration=60, timeout=None, drain_timeout=1, clock=clock)
    task = asyncio.create_task(gen.run())
    await clock.advance_to(T0 + 0.45)
    gen.request_stop()
    await clock.advance_to(T0 + 2)
    res = await asyncio.wait_for(task, 5.0)
    phase = res.phase("warmup")
    assert phase.scheduled == 5
    assert phase.errors == {"abandoned": 5}
    assert phase.in_flight == 0
    assert res.duration_s == pytest.approx(0.45)
    with pytest.raises(RuntimeError, match="already ran"):
        await gen.run()


async def test_results_are_json_ready() -> None:
    clock = FakeClock(T0)

    async def target() -> None:
        await clock.sleep_until(clock.now() + 0.003)

    gen = LoadGenerator(target, rate=20, duration=1, clock=clock)
    res = await drive(gen, clock, T0 + 2)
    data = json.loads(json.dumps(res.to_dict()))
    assert data["phases"]["warmup"]["ok"] == 20
    assert data["phases"]["warmup"]["latency"]["p50_ms"] == pytest.approx(3.0, rel=1e-3)
    assert data["series"][0]["scheduled"] == 20


def test_results_before_start_are_empty() -> None:
    async def target() -> None:
        return None

    gen = LoadGenerator(target, rate=1, phase="baseline")
    assert gen.results().phase("baseline").scheduled == 0
    assert gen.stop().phase("baseline").scheduled == 0  # stop before start is harmless


def test_classify_walks_the_exception_chain() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError as inner:
            raise OSError("wrapped") from inner
    except OSError as outer:
        assert classify(outer) == "refused"
    assert classify(asyncio.IncompleteReadError(b"", 10)) == "reset"
    assert classify(httpx.ReadTimeout("slow")) == "timeout"
    assert classify(httpx.RemoteProtocolError("Server disconnected")) == "reset"
    assert classify(httpx.ConnectError("[Errno 111] Connection refused")) == "refused"
    assert classify(httpx.ConnectError("Name or service not known")) == "other"
    assert classify(KeyError("x")) == "other"
    assert set(ERROR_KINDS) >= {"timeout", "refused", "reset", "5xx", "4xx", "other", "overload"}
    with pytest.raises(ValueError, match="'bogus'"):
        RequestFailed("bogus", "x")


# -- validation -------------------------------------------------------------------------------


async def _noop() -> None:
    return None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rate": 0}, "rate must be > 0.*got 0"),
        ({"rate": -5}, "got -5"),
        ({"rate": MAX_RATE * 2}, "got 10000"),
        ({"rate": float("nan")}, "got nan"),
        ({"rate": 10, "duration": 0}, "duration must be > 0.*got 0"),
        ({"rate": 10, "max_in_flight": 0}, "max_in_flight.*got 0"),
        ({"rate": 10, "max_requests": 0}, "max_requests.*got 0"),
        ({"rate": 10, "timeout": -1}, "timeout.*got -1"),
        ({"rate": 10, "drain_timeout": -1}, "drain_timeout.*got -1"),
        ({"rate": 10, "interval": 0}, "interval.*got 0"),
        ({"rate": 10, "phase": ""}, "phase name.*''"),
        ({"rate": 5000, "duration": 3600}, "18000000 requests exceeds"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LoadGenerator(_noop, **kwargs)  # type: ignore[arg-type]


def test_constructor_rejects_a_non_callable_target() -> None:
    with pytest.raises(TypeError, match="async callable"):
        LoadGenerator("http://x", rate=1)  # type: ignore[arg-type]


def test_request_count_rounding() -> None:
    assert LoadGenerator(_noop, rate=0.1, duration=30).total == 3
    assert LoadGenerator(_noop, rate=50, duration=2).total == 100
    assert LoadGenerator(_noop, rate=1000, duration=60, max_requests=10).total == 10


# -- http_target ------------------------------------------------------------------------------


def _mock_client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler)


@pytest.mark.parametrize(
    ("respond", "kind"),
    [
        (lambda r: httpx.Response(503), "5xx"),
        (lambda r: httpx.Response(404), "4xx"),
        (lambda r: (_ for _ in ()).throw(httpx.ConnectError("Connection refused")), "refused"),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow")), "timeout"),
        (lambda r: (_ for _ in ()).throw(httpx.RemoteProtocolError("closed")), "reset"),
    ],
)
async def test_http_target_maps_failures(respond: object, kind: str) -> None:
    async with _mock_client(httpx.MockTransport(respond)) as client:  # type: ignore[arg-type]
        target = http_target(client, "post", "http://svc/reactions", json={"a": 1})
        with pytest.raises(RequestFailed) as info:
            await target()
    assert info.value.kind == kind
    assert "POST http://svc/reactions" in str(info.value)


async def test_http_target_success_sends_method_url_and_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201 if request.method == "POST" else 302)

    async with _mock_client(httpx.MockTransport(handler)) as client:
        await http_target(client, "POST", "http://svc/r", json={"post": 7})()
        await http_target(client, "GET", "http://svc/feed", headers={"x-k": "v"})()
    assert [r.method for r in seen] == ["POST", "GET"]
    assert json.loads(seen[0].content) == {"post": 7}
    assert seen[1].headers["x-k"] == "v"


async def test_http_target_in_a_run_and_owned_client_lifecycle() -> None:
    clock = FakeClock(T0)
    statuses = iter([200, 200, 500, 200])
    transport = httpx.MockTransport(lambda r: httpx.Response(next(statuses)))
    async with httpx.AsyncClient(transport=transport) as client:
        gen = LoadGenerator(
            http_target(client, "GET", "http://svc/"), rate=4, duration=1, clock=clock
        )
        res = await drive(gen, clock, T0 + 2)
        assert not client.is_closed  # a caller's client is the caller's to close
    phase = res.phase("warmup")
    assert (phase.ok, phase.errors["5xx"]) == (3, 1)

    owned = HttpTarget(None, "GET", "http://127.0.0.1:9/")
    inner = owned._own_client()
    await owned.aclose()
    assert inner.is_closed
    with pytest.raises(ValueError, match="timeout"):
        HttpTarget(None, "GET", "http://x/", timeout=0)
    with pytest.raises(TypeError, match="AsyncClient"):
        HttpTarget(object(), "GET", "http://x/")  # type: ignore[arg-type]


# -- one real-socket smoke test ---------------------------------------------------------------


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return None


def test_smoke_background_thread_against_a_local_server() -> None:
    """Real sockets and real time: baseline against a live server, then the server goes away."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with LoadGenerator(
            http_target(None, "GET", url, timeout=2.0), rate=40, duration=10, phase="baseline"
        ) as gen:
            time.sleep(0.8)
            gen.phase("down")
            # Take the server down only once every baseline request has been sent (requests go
            # out in schedule order), so none of them can meet a closed port.
            deadline = time.monotonic() + 5.0
            while gen.results().phase("down").sent == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.shutdown()
            server.server_close()
            time.sleep(0.6)
        res = gen.results()
        again = gen.stop()  # idempotent: a second stop changes nothing
        assert again.phase("baseline").to_dict() == res.phase("baseline").to_dict()
    finally:
        server.shutdown()
        server.server_close()
        serving.join(5)
    base, down = res.phase("baseline"), res.phase("down")
    # Generous: a shared 2-core machine may run behind, but a live server answers most.
    assert base.ok >= 10, base.to_dict()
    assert base.ok >= 0.8 * base.settled, base.to_dict()
    assert down.failed >= 5, down.to_dict()
    assert down.errors["refused"] + down.errors["reset"] >= 0.8 * down.failed, down.to_dict()
    assert base.latency.p50 > 0
    assert res.duration_s < 5.0  # stop() ended the 10 s schedule early


# -- raw_http_target against an in-process asyncio server (real sockets, no sleeping) ---------


_SERVERS: list[_RawServer] = []


def server_state(target: RawHttpTarget) -> int:
    """Idle pooled connections of a raw target."""
    return len(target._idle)


class _RawServer:
    """A tiny HTTP/1.1 server whose behaviour is chosen by the request path."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.hung = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        _SERVERS.append(self)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                path = head.split(b" ")[1].split(b"?")[0]
                if path == b"/ok":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                elif path == b"/chunked":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
                    )
                elif path == b"/close":
                    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil eof")
                    await writer.drain()
                    writer.close()
                    return
                elif path == b"/503":
                    writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")
                elif path == b"/404":
                    writer.write(b"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n")
                elif path == b"/reset":
                    writer.transport.abort()
                    return
                elif path == b"/garbage":
                    writer.write(b"SMTP ready\r\n\r\n")
                elif path == b"/hang":
                    self.hung.set()
                    await reader.read()  # until the client goes away
                    return
                else:
                    writer.write(b"HTTP/1.1 501 Unknown test path\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/503", "5xx"), ("/404", "4xx"), ("/reset", "reset"), ("/garbage", "other")],
)
async def test_raw_target_maps_failures(path: str, kind: str) -> None:
    async with _RawServer() as base:
        target = raw_http_target("GET", base + path)
        with pytest.raises(RequestFailed) as info:
            await target()
        await target.aclose()
    assert info.value.kind == kind


async def test_raw_target_refused() -> None:
    async with _RawServer() as base:
        pass  # the server is gone: its port now refuses connections
    with pytest.raises(RequestFailed) as info:
        await raw_http_target("GET", base + "/ok")()
    assert info.value.kind == "refused"


async def test_raw_target_reuses_connections_and_reads_every_body_kind() -> None:
    async with _RawServer() as base:
        ok = raw_http_target("POST", base + "/ok?x=1", json={"post": 7}, headers={"X-K": "v"})
        for _ in range(5):
            await ok()
        assert server_state(ok) == 1
        chunked = raw_http_target("GET", base + "/chunked")
        await chunked()
        await chunked()
        closing = raw_http_target("GET", base + "/close")
        await closing()
        await closing()
        assert server_state(closing) == 0  # "Connection: close" is never pooled
        for t in (ok, chunked, closing):
            await t.aclose()
    first = _SERVERS[-1].requests[0]
    assert first.startswith(b"POST /ok?x=1 HTTP/1.1\r\n")
    assert b"Content-Type: application/json" in first and b"X-K: v" in first
    assert first.endswith(b'{"post": 7}')
    assert _SERVERS[-1].connections == 1 + 1 + 2


async def test_raw_target_cancelled_mid_request_drops_the_connection() -> None:
    async with _RawServer() as base:
        target = raw_http_target("GET", base + "/hang")
        task = asyncio.create_task(target())
        server = _SERVERS[-1]
        await asyncio.wait_for(server.hung.wait(), 5.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert server_state(target) == 0


def test_raw_target_rejects_non_http_urls() -> None:
    with pytest.raises(ValueError, match="'https://x/'"):
        raw_http_target("GET", "https://x/")
