"""chaos.experiment._profiles: rate profiles (steps, burst), their rates by offset, validation."""

from __future__ import annotations

import pytest

import chaos
from chaos.experiment._profiles import MAX_RATE, RateProfile, burst, peak_rate, steps


def test_steps_give_each_rate_from_its_offset_and_the_first_before_the_anchor() -> None:
    profile = steps((0, 15), (4.0, 75), (7.0, 15))
    assert profile == RateProfile(15.0, ((0.0, 15.0), (4.0, 75.0), (7.0, 15.0)), "fault")
    assert [profile.rate_at(t) for t in (None, 0, 3.99, 4.0, 6.99, 7.0, 1e6)] == [
        15,
        15,
        15,
        75,
        75,
        15,
        15,
    ]
    assert profile.peak == 75.0
    assert profile.describe() == "15/s; from fault +0 s: 15/s, +4 s: 75/s, +7 s: 15/s"


def test_burst_is_base_then_peak_for_its_duration() -> None:
    profile = burst(15, 75, at=0.5, duration=3, phase="surge")
    assert profile.points == ((0.5, 75.0), (3.5, 15.0))
    assert (profile.before, profile.phase, profile.peak) == (15.0, "surge", 75.0)
    assert [profile.rate_at(t) for t in (None, 0.0, 0.5, 3.49, 3.5)] == [15, 15, 75, 75, 15]
    assert burst(1, 2, at=0, duration=1).rate_at(0.0) == 2.0


def test_a_profile_without_steps_is_a_constant_rate() -> None:
    profile = RateProfile(12, phase=None)
    assert (profile.rate_at(None), profile.rate_at(99.0), profile.peak) == (12, 12, 12)
    assert profile.describe() == "12/s"
    assert peak_rate(profile) == 12.0
    assert peak_rate(7) == 7.0


def test_the_public_names() -> None:
    assert chaos.steps is steps
    assert chaos.burst is burst
    assert chaos.RateProfile is RateProfile


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: steps(), "at least one"),
        (lambda: steps((1, 10)), "first step must be at offset 0.*got 1"),
        (lambda: steps((0, 10), (2, 20), (1, 5)), "must increase: step 2 at 1 s.*after 2 s"),
        (lambda: steps((0, 10), (0, 20)), "must increase"),
        (lambda: steps((0, 0)), "step 0 rate must be > 0.*got 0"),
        (lambda: steps((0, 10), (1, MAX_RATE + 1)), "step 1 rate.*<= 5000.*got 5001"),
        (lambda: steps((0, 10), (float("nan"), 3)), "step 1 offset must be a finite.*nan"),
        (lambda: steps((0, 10), (-1, 3)), "must be >= 0"),
        (lambda: steps((0, 10), (1,)), "step 1 must be \\(offset_s, rate\\)"),
        (lambda: steps(10), "step 0 must be"),  # type: ignore[arg-type]
        (lambda: steps((0, True)), "got True"),  # type: ignore[arg-type]
        (lambda: steps((0, 10), phase=""), "phase must be a phase name or None"),
        (lambda: burst(10, 10, at=0, duration=1), "peak \\(10/s\\) must exceed its base"),
        (lambda: burst(0, 10, at=0, duration=1), "burst base must be > 0"),
        (lambda: burst(1, 10, at=-1, duration=1), "burst at must be >= 0"),
        (lambda: burst(1, 10, at=0, duration=0), "burst duration must be > 0.*got 0"),
        (lambda: burst(1, 10, at=0, duration=float("inf")), "duration must be finite"),
    ],
)
def test_bad_profiles_are_refused_with_the_value(make: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()  # type: ignore[operator]
