"""Probes sampled over time, their display hints, and readers for Prometheus metrics."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

import httpx
from prometheus_client.parser import text_string_to_metric_families

from chaos.experiment._clock import Clock, MonotonicClock

__all__ = [
    "MAX_DURATION",
    "Gap",
    "HintedProbe",
    "MetricNotFound",
    "ProbeData",
    "ProbeError",
    "ProbeHints",
    "Sampler",
    "hints_of",
    "http_metric",
    "probe",
    "prometheus_value",
]

Probe = Callable[[], float]


class ProbeHints(TypedDict):
    """How a report shows a probe, JSON-ready; `states` is [[value, label], ...] by value."""

    title: str | None
    unit: str | None
    states: list[tuple[float, str]] | None


class ProbeData(TypedDict):
    """What a `Sampler` saw, JSON-ready: per probe, [t, value] samples, [t, error] gaps and
    display hints."""

    interval_s: float
    started: float | None
    series: dict[str, list[list[float]]]
    gaps: dict[str, list[list[float | str]]]
    hints: dict[str, ProbeHints]


@dataclass(frozen=True)
class HintedProbe:
    """A probe that carries how to show it; call it like the function it wraps."""

    fn: Probe
    title: str | None = None
    unit: str | None = None
    states: tuple[tuple[float, str], ...] | None = None

    def __call__(self) -> float:
        return self.fn()

    def hints(self) -> ProbeHints:
        states = [(value, label) for value, label in self.states] if self.states else None
        return {"title": self.title, "unit": self.unit, "states": states}


def probe(
    fn: Probe,
    *,
    title: str | None = None,
    unit: str | None = None,
    states: Mapping[float, str] | Mapping[int, str] | None = None,
) -> HintedProbe:
    """`fn` as a probe with display hints: a chart `title`, the `unit` of its values, and
    `states` naming discrete values (e.g. {0: "closed", 1: "half-open", 2: "open"}): the chart
    then labels its axis with them. Hints given to a `HintedProbe` override its own."""
    if not callable(fn):
        raise TypeError(f"a probe must be callable, got {fn!r}")
    for name, text in (("title", title), ("unit", unit)):
        if text is not None and not (isinstance(text, str) and text.strip()):
            raise ValueError(f"probe {name} must be a non-empty string or None, got {text!r}")
    ordered = _states(states) if states is not None else None
    if isinstance(fn, HintedProbe):
        return HintedProbe(
            fn.fn, title or fn.title, unit or fn.unit, ordered if ordered is not None else fn.states
        )
    return HintedProbe(fn, title, unit, ordered)


def _states(states: Mapping[float, str] | Mapping[int, str]) -> tuple[tuple[float, str], ...]:
    if not isinstance(states, Mapping) or not states:
        raise ValueError(f"states must map values to labels, e.g. {{0: 'off'}}; got {states!r}")
    for value, label in states.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"state value {value!r} is not a number; states: {dict(states)}")
        if not (math.isfinite(value) and value >= 0):  # the charts' value axis starts at 0
            raise ValueError(f"state value {value!r} must be finite and >= 0 (axis starts at 0)")
        if not (isinstance(label, str) and label.strip()):
            raise ValueError(f"state {value!r} needs a non-empty label, got {label!r}")
    return tuple(sorted((float(value), label) for value, label in states.items()))


def hints_of(fn: Probe) -> ProbeHints:
    """The display hints of a probe; all None for a plain callable."""
    if isinstance(fn, HintedProbe):
        return fn.hints()
    return {"title": None, "unit": None, "states": None}


MAX_DURATION = 3_600.0
_SHOWN_NAMES = 10


class ProbeError(RuntimeError):
    """A probe could not read its source (fetch or parse failed)."""


class MetricNotFound(ProbeError, LookupError):
    """No sample with that name and labels in the exposition."""


@dataclass(frozen=True)
class Gap:
    """A sample that could not be taken: when, and why."""

    t: float
    error: str


def prometheus_value(
    metrics_text: str, name: str, labels: Mapping[str, str] | None = None
) -> float:
    """The value of sample `name` whose labels include `labels`, from Prometheus text format.

    Several matching samples are summed (e.g. a counter over all label values not pinned).
    A counter may be named with or without its `_total` suffix.
    """
    wanted = dict(labels or {})
    try:
        samples = [
            s for family in text_string_to_metric_families(metrics_text) for s in family.samples
        ]
    except ValueError as exc:
        raise ProbeError(f"cannot parse Prometheus text exposition: {exc}") from exc
    for candidate in (name, f"{name}_total"):
        named = [s for s in samples if s.name == candidate]
        if named:
            break
    matching = [s for s in named if all(s.labels.get(k) == v for k, v in wanted.items())]
    if not matching:
        names = sorted({s.name for s in samples})
        shown = ", ".join(names[:_SHOWN_NAMES]) + (" ..." if len(names) > _SHOWN_NAMES else "")
        if named:
            label_sets = [dict(s.labels) for s in named[:_SHOWN_NAMES]]
            hint = f"{name!r} exists with labels {label_sets}"
        else:
            hint = f"samples present: {shown or 'none'}"
        raise MetricNotFound(f"no sample {name!r} with labels {wanted}; {hint}")
    return float(sum(s.value for s in matching))


def http_metric(
    url: str,
    name: str,
    labels: Mapping[str, str] | None = None,
    *,
    timeout: float = 2.0,
    client: httpx.Client | None = None,
) -> Probe:
    """A probe that fetches `url` (a /metrics endpoint) and returns one sample's value."""
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    pinned = dict(labels or {})

    def read() -> float:
        try:
            if client is not None:
                response = client.get(url, timeout=timeout)
            else:
                response = httpx.get(url, timeout=timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ProbeError(f"GET {url} for metric {name!r} failed: {exc!r}") from exc
        return prometheus_value(response.text, name, pinned)

    read.__name__ = f"http_metric[{name}]"
    return read


class Sampler:
    """Calls each named probe every `interval` seconds in a background thread, for `duration`.

    Display hints of probes made with `probe` are kept with the samples (`to_dict`).

    Ticks are on a fixed grid (start + k * interval); ticks missed while a slow probe ran are
    skipped rather than fired in a burst. A probe that raises, or returns something that is not
    a finite number, leaves a `Gap` in its series instead of stopping the sampler.
    """

    def __init__(
        self,
        probes: Mapping[str, Probe],
        *,
        interval: float = 1.0,
        duration: float = 600.0,
        clock: Clock | None = None,
    ) -> None:
        if not probes:
            raise ValueError("a Sampler needs at least one probe, got none")
        for probe_name, fn in probes.items():
            if not callable(fn):
                raise TypeError(f"probe {probe_name!r} must be callable, got {fn!r}")
        if not (isinstance(interval, int | float) and 0 < interval <= MAX_DURATION):
            raise ValueError(f"interval must be > 0 and <= {MAX_DURATION:g} s, got {interval!r}")
        if not (isinstance(duration, int | float) and 0 < duration <= MAX_DURATION):
            raise ValueError(f"duration must be > 0 and <= {MAX_DURATION:g} s, got {duration!r}")
        self.interval = float(interval)
        self.duration = float(duration)
        self._probes = dict(probes)
        self._clock: Clock = clock or MonotonicClock()
        self._series: dict[str, list[tuple[float, float]]] = {n: [] for n in self._probes}
        self._gaps: dict[str, list[Gap]] = {n: [] for n in self._probes}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started: float | None = None

    def start(self) -> Sampler:
        """Start sampling in a background thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("this Sampler was already started; create a new one")
        self.started = self._clock.now()
        self._thread = threading.Thread(target=self._run, name="chaos-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sampling and wait up to `timeout` for a running probe call; idempotent."""
        self._stop.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return  # called from a probe: the loop sees the flag when the probe returns
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(
                f"sampler thread still busy {timeout:g} s after stop; a probe is blocking "
                "(give it a timeout)"
            )

    @property
    def running(self) -> bool:
        """Whether the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.stop()

    def sample_once(self) -> None:
        """Take one sample of every probe now (also usable without the thread)."""
        for probe_name, fn in self._probes.items():
            t = self._clock.now()
            try:
                value = float(fn())
                if not math.isfinite(value):
                    raise ValueError(f"probe returned {value!r}, not a finite number")
            except Exception as exc:  # a probe failure is data (a gap), not a crash
                with self._lock:
                    self._gaps[probe_name].append(Gap(t, repr(exc)))
                continue
            with self._lock:
                self._series[probe_name].append((t, value))

    def series(self, name: str) -> list[tuple[float, float]]:
        """The (t, value) samples of probe `name` so far, t on the sampler's clock."""
        with self._lock:
            return list(self._series[self._known(name)])

    def gaps(self, name: str) -> list[Gap]:
        """The failed samples of probe `name` so far."""
        with self._lock:
            return list(self._gaps[self._known(name)])

    def to_dict(self, t0: float | None = None) -> ProbeData:
        """JSON-ready series with times relative to `t0` (default: the sampler's start)."""
        origin = t0 if t0 is not None else (self.started or 0.0)
        with self._lock:
            return {
                "interval_s": self.interval,
                "started": self.started,
                "series": {
                    n: [[round(t - origin, 6), v] for t, v in pts]
                    for n, pts in self._series.items()
                },
                "gaps": {
                    n: [[round(g.t - origin, 6), g.error] for g in gs]
                    for n, gs in self._gaps.items()
                },
                "hints": {n: hints_of(fn) for n, fn in self._probes.items()},
            }

    def _known(self, name: str) -> str:
        if name not in self._series:
            raise KeyError(f"no probe named {name!r}; probes: {sorted(self._series)}")
        return name

    def _run(self) -> None:
        start = self.started if self.started is not None else self._clock.now()
        end = start + self.duration
        k = 0
        while True:
            tick = start + k * self.interval
            if tick > end + 1e-9 or self._clock.wait_until(tick, self._stop):
                return
            self.sample_once()
            behind = math.floor((self._clock.now() - start) / self.interval + 1e-9)
            k = max(k + 1, behind + 1)
