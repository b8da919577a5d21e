"""Rate profiles: an offered load that changes during a run (`steps`, `burst`).

A profile is piecewise constant. Its offsets count in seconds from the first time the load
enters the phase named `phase` ("fault" by default: `run_phases` enters it as it applies the
fault, or once `Plan.settle` is over), so a surge stays on the phase it belongs to even when an
earlier phase runs long. Before that phase begins the profile offers its `before` rate.
`phase=None` counts from the run's first request instead.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_RATE", "RateProfile", "burst", "peak_rate", "steps"]

MAX_RATE = 5_000.0
ANCHOR = "fault"


def _rate(what: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= MAX_RATE  # also rejects nan
    ):
        raise ValueError(
            f"{what} must be > 0 and <= {MAX_RATE:g} requests per second, got {value!r}"
        )
    return float(value)


def _offset(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number of seconds, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0 seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RateProfile:
    """Requests per second by time: `before`, then each (offset_s, rate) of `points` in turn.

    `points` are sorted by offset (strictly increasing, each >= 0); offsets count from the first
    start of phase `phase` (None: from the run's first request). No points: a constant rate.
    """

    before: float
    points: tuple[tuple[float, float], ...] = ()
    phase: str | None = ANCHOR

    def __post_init__(self) -> None:
        object.__setattr__(self, "before", _rate("RateProfile.before", self.before))
        if self.phase is not None and not (isinstance(self.phase, str) and self.phase.strip()):
            raise ValueError(
                f"phase must be a phase name or None (from the run's start), got {self.phase!r}"
            )
        checked: list[tuple[float, float]] = []
        for i, point in enumerate(self.points):
            if not (isinstance(point, tuple | list) and len(point) == 2):
                raise ValueError(f"step {i} must be (offset_s, rate), got {point!r}")
            offset = _offset(f"step {i} offset", point[0])
            rate = _rate(f"step {i} rate", point[1])
            if checked and offset <= checked[-1][0]:
                raise ValueError(
                    f"step offsets must increase: step {i} at {offset:g} s comes after "
                    f"{checked[-1][0]:g} s; sort the steps"
                )
            checked.append((offset, rate))
        object.__setattr__(self, "points", tuple(checked))

    @property
    def peak(self) -> float:
        """The highest rate it ever offers."""
        return max([self.before, *(rate for _, rate in self.points)])

    @property
    def offsets(self) -> tuple[float, ...]:
        """The offsets where the rate changes, in order."""
        return tuple(offset for offset, _ in self.points)

    def rate_at(self, offset: float | None) -> float:
        """The rate `offset` seconds after the anchor (None: the anchor has not come yet)."""
        if offset is None:
            return self.before
        index = bisect.bisect_right(self.offsets, offset) - 1
        return self.points[index][1] if index >= 0 else self.before

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the journal."""
        return {
            "phase": self.phase,
            "before": self.before,
            "steps": [[offset, rate] for offset, rate in self.points],
        }

    def describe(self) -> str:
        """One line, e.g. '15/s; from fault +0 s: 75/s, +3 s: 15/s'."""
        anchor = f"from {self.phase}" if self.phase is not None else "from the start"
        steps = ", ".join(f"+{offset:g} s: {rate:g}/s" for offset, rate in self.points)
        return f"{self.before:g}/s" + (f"; {anchor} {steps}" if steps else "")


def steps(*points: tuple[float, float], phase: str | None = ANCHOR) -> RateProfile:
    """A rate in steps: `steps((0, 15), (0.5, 75), (3.5, 15))` offers 15/s, 75/s from 0.5 s
    after phase `phase` begins, then 15/s again from 3.5 s.

    The first step must be at offset 0; its rate also holds before the phase begins.
    """
    if not points:
        raise ValueError("steps() needs at least one (offset_s, rate) step, e.g. steps((0, 15))")
    first = points[0]
    if not (isinstance(first, tuple | list) and len(first) == 2):
        raise ValueError(f"step 0 must be (offset_s, rate), got {first!r}")
    if first[0] != 0:
        raise ValueError(
            f"the first step must be at offset 0 (its rate holds before phase {phase!r} "
            f"too), got {first[0]!r}; to change the rate later, start with (0, base_rate)"
        )
    return RateProfile(before=_rate("step 0 rate", first[1]), points=tuple(points), phase=phase)


def burst(
    base: float, peak: float, at: float, duration: float, *, phase: str | None = ANCHOR
) -> RateProfile:
    """`base` requests per second, `peak` for `duration` seconds from `at` seconds after phase
    `phase` begins, then `base` again."""
    base_rate = _rate("burst base", base)
    peak_rate_ = _rate("burst peak", peak)
    if peak_rate_ <= base_rate:
        raise ValueError(
            f"burst peak ({peak!r}/s) must exceed its base ({base!r}/s); for a dip, use chaos.steps"
        )
    start = _offset("burst at", at)
    if isinstance(duration, bool) or not (isinstance(duration, int | float) and duration > 0):
        raise ValueError(f"burst duration must be > 0 seconds, got {duration!r}")
    if not math.isfinite(duration):
        raise ValueError(f"burst duration must be finite, got {duration!r}")
    return RateProfile(
        before=base_rate,
        points=((start, peak_rate_), (start + duration, base_rate)),
        phase=phase,
    )


def peak_rate(rate: float | RateProfile) -> float:
    """The highest rate of a number or a profile (sizes in-flight limits)."""
    return rate.peak if isinstance(rate, RateProfile) else float(rate)
