"""A chaos experiment's run: steady state, fault, recovery, under open-loop load, with probes.

plan = Plan(baseline=3, fault=4, recovery=3)
depth = probe(lambda: broker.queue_depth("orders"), title="Orders queued", unit="messages")
run = run_phases(plan, loads={"reactions": (target, 30)}, fault=lambda: edge.latency(300),
                 probes={"orders_queued": depth})
assert_cascade(run.phase("reactions", "baseline"), run.phase("reactions", "fault"), 300)

A load's rate may be a profile: `(target, chaos.burst(30, 150, at=0, duration=3))` offers
150/s for the first 3 s of the fault phase (offsets count from its start), 30/s otherwise.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chaos.experiment._load import LoadGenerator, LoadResults, PhaseResult, Target
from chaos.experiment._probes import Probe, ProbeData, Sampler
from chaos.experiment._profiles import RateProfile, peak_rate

__all__ = ["PHASES", "Experiment", "Fault", "Plan", "Run", "run_phases"]

Fault = Callable[[], contextlib.AbstractContextManager[Any]]
"""What `run_phases` applies for the fault phase: `lambda: proxy.latency(300)`."""

PHASES = ("warmup", "baseline", "settle", "fault", "recovery")
HANDOVER = "handover"
"""Between baseline and fault, not judged: baseline requests still in flight finish before
the fault is applied (a toxic reaches live connections at once, so it would slow them)."""


@dataclass(frozen=True)
class Plan:
    """Seconds spent in each phase, and the generators' per-request timeout.

    `settle` seconds at the start of the fault are a phase of their own ("settle"), for
    hypotheses about the steady state under the fault (e.g. once a breaker has opened).
    """

    baseline: float = 3.0
    fault: float = 4.0
    recovery: float = 3.0
    request_timeout: float = 5.0
    settle: float = 0.0
    warmup: float = 1.0
    """Load before the baseline, not judged: connections open, caches fill."""
    max_rollback: float = 60.0
    """How long applying and removing the fault may take (a broker restart: 6-12 s) on top of
    the phases. Every phase lasts as planned after the step before it returns; the load runs on
    for up to this long, so a slow rollback never eats the recovery phase."""

    def __post_init__(self) -> None:
        for name in ("baseline", "fault", "recovery", "request_timeout", "max_rollback"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"Plan.{name} must be > 0 seconds, got {value!r}")
        for name in ("settle", "warmup"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"Plan.{name} must be >= 0 seconds, got {value!r}")

    @property
    def total(self) -> float:
        """Seconds of load planned, fault changes not counted."""
        return self.warmup + self.baseline + self.settle + self.fault + self.recovery

    def planned(self, phase: str) -> float:
        """Seconds planned for `phase` (one of PHASES)."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; phases: {', '.join(PHASES)}")
        return float(getattr(self, phase))


@dataclass
class Run:
    """What an experiment measured: load results per target, probe series, phase times."""

    loads: dict[str, LoadResults]
    probes: ProbeData | None
    marks: dict[str, float] = field(default_factory=dict)
    """Wall-clock (unix) start of each phase, and "end"."""
    probes_started_wall: float | None = None
    shortfalls: list[str] = field(default_factory=list)
    """Phases that ran shorter than planned, and why: their verdicts say nothing."""

    def phase(self, load: str, phase: str) -> PhaseResult:
        return self.loads[load].phase(phase)

    def samples(self, probe: str) -> list[float]:
        """The values probe `probe` returned, in order (gaps left out)."""
        if self.probes is None or probe not in self.probes["series"]:
            known = sorted(self.probes["series"]) if self.probes else []
            raise KeyError(f"no probe named {probe!r} in this run; probes: {known}")
        return [value for _, value in self.probes["series"][probe]]

    def figures(self) -> dict[str, float | int | None]:
        """Key figures per load and phase (`reactions.fault.p99_ms`, ...), for reports."""
        out: dict[str, float | int | None] = {}
        for load, results in self.loads.items():
            for name, phase in results.phases.items():
                if name in ("warmup", HANDOVER):
                    continue
                key = f"{load}.{name}"
                hist = phase.latency
                out[f"{key}.sent"] = phase.sent
                out[f"{key}.error_rate"] = round(phase.error_rate, 4)
                out[f"{key}.p50_ms"] = round(hist.percentile(50), 1) if hist.count else None
                out[f"{key}.p99_ms"] = round(hist.percentile(99), 1) if hist.count else None
        return out


def run_phases(
    plan: Plan,
    loads: Mapping[str, tuple[Target, float | RateProfile]],
    fault: Fault,
    probes: Mapping[str, Probe] | None = None,
    probe_interval: float = 0.25,
    progress: Callable[[str], None] | None = None,
) -> Run:
    """Load every target at its rate through baseline, fault (inside `fault()`), recovery.

    A rate is requests per second or a `RateProfile` (`chaos.steps`, `chaos.burst`), whose
    offsets count from the start of its phase ("fault" unless it says otherwise).
    `progress(text)` is called about twice a second with the phase and the elapsed time.
    """
    show = progress or (lambda text: None)
    generators = {
        name: LoadGenerator(
            target,
            rate=rate,
            duration=plan.total + plan.max_rollback,
            timeout=plan.request_timeout,
            phase="warmup" if plan.warmup else "baseline",
            # Enough for the peak rate: a surge must meet the system, not the generator's limit.
            max_in_flight=max(16, int(peak_rate(rate) * plan.request_timeout) + 1),
        )
        for name, (target, rate) in loads.items()
    }
    sampler = (
        Sampler(probes, interval=probe_interval, duration=plan.total + plan.max_rollback)
        if probes
        else None
    )
    marks: dict[str, float] = {}
    probes_started_wall: float | None = None
    began = time.monotonic()

    def wait(phase: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            show(f"{phase} {time.monotonic() - began:5.1f} s / {plan.total:.0f} s")
            time.sleep(min(left, 0.5))

    def enter(phase: str) -> None:
        for gen in generators.values():
            gen.phase(phase)
        marks[phase] = time.time()

    with contextlib.ExitStack() as stack:
        stack.enter_context(_older_objects_frozen())
        if sampler is not None:
            probes_started_wall = time.time()
            stack.enter_context(sampler)
        for gen in generators.values():
            stack.enter_context(gen)
        if plan.warmup:
            wait("warmup", plan.warmup)
            enter("baseline")
        else:
            marks["baseline"] = time.time()  # the generators began in it
        wait("baseline", plan.baseline)
        # Baseline requests still in flight would meet the fault (a toxic applies to live
        # connections at once) and carry it into the baseline: they finish first, and what is
        # sent meanwhile is not judged. Seen before: baseline p99 537 ms under a 500 ms latency
        # fault, from requests sent in the baseline's last moments.
        enter(HANDOVER)
        deadline = time.monotonic() + plan.request_timeout
        while any(g.in_flight("baseline") for g in generators.values()):
            if time.monotonic() >= deadline:
                break  # they time out as baseline errors: seen, not hidden
            time.sleep(0.005)
        # The first faulty phase begins before the fault is applied: applying it takes time
        # (an API call), and a request sent meanwhile may meet it, so it must not count as
        # baseline. Removing it likewise counts as fault time, not recovery.
        enter("settle" if plan.settle else "fault")
        with fault():
            if plan.settle:
                wait("settle", plan.settle)
                enter("fault")
            wait("fault", plan.fault)
        enter("recovery")
        wait("recovery", plan.recovery)
        marks["end"] = time.time()
    show("")
    loaded = {name: gen.results() for name, gen in generators.items()}
    return Run(
        loads=loaded,
        probes=sampler.to_dict() if sampler is not None else None,
        marks=marks,
        probes_started_wall=probes_started_wall,
        shortfalls=_shortfalls(plan, loaded),
    )


@contextlib.contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Keep the garbage collector off what existed before the run while it runs.

    A full collection walks every object of the process; late in a session (earlier runs'
    results, the test framework) that stalled the load generator for 49-68 ms, and a baseline
    p99 of 10-15 ms showed one request at 109-137 ms. Collected once here, before any load,
    then frozen: collections during the run see only the run's own objects. Unfrozen after,
    unless the process had frozen objects itself (then it manages its collector: left alone).
    """
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# Scheduling granularity and thread hand-offs: a phase this much shorter still ran as planned.
_SHORTFALL_SLACK_S = 0.25


def _shortfalls(plan: Plan, loads: Mapping[str, LoadResults]) -> list[str]:
    """Every judged phase of every load that carried load for less time than planned."""
    found = []
    for name, results in loads.items():
        for phase, result in results.phases.items():
            if phase == "warmup" or phase not in PHASES:
                continue
            planned = plan.planned(phase)
            if result.duration_s < planned - _SHORTFALL_SLACK_S:
                found.append(
                    f"{phase} phase of load {name!r} carried load for {result.duration_s:.1f} s "
                    f"of {planned:g} s planned: applying and removing the fault took longer "
                    f"than Plan.max_rollback ({plan.max_rollback:g} s); raise it"
                )
    return found


class Experiment(Protocol):
    """The `experiment` fixture: `run_phases` with the test's progress line, recorded."""

    def __call__(
        self,
        plan: Plan,
        loads: Mapping[str, tuple[Target, float | RateProfile]],
        fault: Fault,
        probes: Mapping[str, Probe] | None = None,
        probe_interval: float = 0.25,
    ) -> Run: ...
