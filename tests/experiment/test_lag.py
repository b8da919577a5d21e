"""Tests for chaos.experiment._lag and its verdict, on synthetic acceptances and deliveries."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pytest

from chaos._observe import observe
from chaos.experiment import (
    DeliveryLag,
    InsufficientData,
    NotRecovered,
    Run,
    Verdict,
    assert_lag_recovered,
    check_lag_recovered,
    delivery_lag,
)

T0 = 1_700_000_000.0
MARKS = {"baseline": 0.0, "fault": 3.0, "recovery": 7.0, "end": 10.0}


def _run(marks: dict[str, float] = MARKS) -> Run:
    return Run(loads={}, probes=None, marks={name: T0 + t for name, t in marks.items()})


def _lag(
    messages: Sequence[tuple[float, float | None]],
    marks: dict[str, float] = MARKS,
    interval: float = 1.0,
) -> DeliveryLag:
    """Messages as (accepted, seconds from t0; lag in seconds or None: never delivered)."""
    accepted = {f"m{i}": T0 + at for i, (at, _) in enumerate(messages)}
    delivered = {
        f"m{i}": [T0 + at + lag] for i, (at, lag) in enumerate(messages) if lag is not None
    }
    return delivery_lag(accepted, delivered, _run(marks), interval=interval)


def _steady(start: float, end: float, lag: float | None, rate: float = 10.0) -> list[tuple]:
    """Messages every 1/rate seconds in [start, end), all with the same lag."""
    count = round((end - start) * rate)
    return [(start + i / rate, lag) for i in range(count)]


# -- the measure ---------------------------------------------------------------------------------


def test_messages_are_grouped_by_the_phase_they_were_accepted_in() -> None:
    lag = _lag([(-0.5, 0.2), (1.0, 0.01), (2.9, 5.0), (3.0, 4.0), (6.9, 0.3), (7.0, 0.1)])
    assert list(lag.phases) == ["warmup", "baseline", "fault", "recovery"]
    counts = {name: (p.accepted, p.max_s) for name, p in lag.phases.items()}
    # 2.9 s is still baseline although its delivery (7.9 s) came in recovery.
    assert counts == {
        "warmup": (1, 0.2),
        "baseline": (2, 5.0),
        "fault": (2, 4.0),
        "recovery": (1, 0.1),
    }


def test_an_answer_after_the_end_counts_in_the_last_phase_and_settle_is_its_own() -> None:
    marks = {"baseline": 0.0, "settle": 3.0, "fault": 4.0, "recovery": 7.0, "end": 10.0}
    lag = _lag([(3.5, 1.0), (4.5, 2.0), (10.4, 0.1)], marks)
    assert list(lag.phases) == ["baseline", "settle", "fault", "recovery"]
    assert lag.phase("baseline").accepted == 0 and lag.phase("baseline").p50_s is None
    assert lag.phase("settle").max_s == 1.0 and lag.phase("fault").max_s == 2.0
    assert lag.phase("recovery").accepted == 1
    assert lag.merged("settle", "fault").max_s == 2.0
    assert lag.merged("settle", "fault").accepted == 2


def test_a_message_accepted_in_the_handover_is_neither_baseline_nor_fault() -> None:
    marks = {"baseline": 0.0, "handover": 3.0, "fault": 3.1, "recovery": 7.0, "end": 10.0}
    lag = _lag([(2.0, 0.01), (3.05, 0.5), (4.0, 2.0)], marks)
    assert list(lag.phases) == ["baseline", "handover", "fault", "recovery"]
    assert [lag.phase(n).max_s for n in ("baseline", "handover", "fault")] == [0.01, 0.5, 2.0]
    assert not any(key.startswith("delivery_lag.handover") for key in lag.figures())


def test_percentiles_are_nearest_rank_in_seconds() -> None:
    lag = _lag([(i / 100, (i + 1) / 100) for i in range(100)])
    base = lag.phase("baseline")
    assert (base.p50_s, base.p90_s, base.p99_s, base.max_s) == pytest.approx(
        (0.50, 0.90, 0.99, 1.00)
    )
    assert base.accepted == base.delivered == 100 and base.undelivered == 0


def test_undelivered_messages_are_counted_not_measured() -> None:
    lag = _lag([(3.5, None), (4.0, 2.0), (5.0, None)])
    fault = lag.phase("fault")
    assert (fault.accepted, fault.delivered, fault.undelivered) == (3, 1, 2)
    assert fault.p50_s == fault.max_s == 2.0


def test_the_first_delivery_counts_and_unaccepted_deliveries_are_ignored() -> None:
    accepted = {"a": T0 + 1.0}
    delivered = {"a": [T0 + 1.9, T0 + 1.4], "stranger": [T0 + 2.0], "b": []}
    lag = delivery_lag(accepted, delivered, _run())
    assert [(s.id, s.lag_s) for s in lag.samples] == [("a", pytest.approx(0.4))]
    assert sum(p.accepted for p in lag.phases.values()) == 1


def test_a_delivery_before_the_answer_is_a_negative_lag() -> None:
    lag = _lag([(1.0, -0.004)])
    assert lag.phase("baseline").max_s == pytest.approx(-0.004)


def test_series_per_interval_of_acceptance_from_t0() -> None:
    lag = _lag([(-0.5, 9.0), (0.1, 0.1), (0.2, 0.3), (0.9, 0.2), (3.5, None), (3.6, 2.5)])
    rows = [(b.t, b.accepted, b.delivered, b.p50_s, b.max_s) for b in lag.series]
    # The warm-up is left out of the series; an interval with no acceptance has no row.
    assert rows == [(0.0, 3, 3, 0.2, 0.3), (3.0, 2, 1, 2.5, 2.5)]
    halves = _lag([(0.1, 0.1), (0.6, 0.4)], interval=0.5)
    assert [(b.t, b.max_s) for b in halves.series] == [(0.0, 0.1), (0.5, 0.4)]


def test_an_interval_with_nothing_delivered_has_no_figures() -> None:
    [bucket] = _lag([(4.2, None)]).series
    assert (bucket.accepted, bucket.delivered, bucket.p50_s, bucket.max_s) == (1, 0, None, None)


def test_journal_form_and_figures() -> None:
    lag = _lag([(-0.2, 0.05), (1.0, 0.0123456), (4.0, 2.5), (8.0, None)])
    data = json.loads(json.dumps(lag.to_dict()))
    assert data["t0"] == T0 and data["interval_s"] == 1.0
    assert data["marks"] == MARKS
    assert data["phases"]["baseline"] == {
        "accepted": 1,
        "delivered": 1,
        "undelivered": 0,
        "p50_s": 0.012,
        "p90_s": 0.012,
        "p99_s": 0.012,
        "max_s": 0.012,
    }
    assert data["phases"]["recovery"]["undelivered"] == 1
    assert [b["t"] for b in data["series"]] == [1.0, 4.0, 8.0]
    figures = lag.figures()
    assert figures["delivery_lag.fault.p99_s"] == 2.5
    assert figures["delivery_lag.recovery.undelivered"] == 1
    assert figures["delivery_lag.recovery.max_s"] is None
    assert not any(key.startswith("delivery_lag.warmup") for key in figures)


def test_the_lag_is_published_to_the_recording_test() -> None:
    seen: list[object] = []
    with observe(seen.append):
        lag = _lag([(1.0, 0.1)])
    assert seen == [lag]


@pytest.mark.parametrize(
    ("accepted", "delivered", "interval", "match"),
    [
        ({"a": T0}, {}, 0.0, "interval must be > 0 seconds, got 0.0"),
        ({"a": T0}, {}, math.inf, "interval must be > 0"),
        ({"a": math.nan}, {}, 1.0, r"accepted_at\['a'\] must be a unix time, got nan"),
        ({"a": T0}, {"a": [T0, "late"]}, 1.0, r"delivered_at\['a'\] holds a time that is not"),
    ],
)
def test_bad_input_is_refused_with_the_value(
    accepted: dict[str, float], delivered: dict[str, list[float]], interval: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        delivery_lag(accepted, delivered, _run(), interval=interval)


def test_delivery_times_must_be_a_sequence() -> None:
    with pytest.raises(TypeError, match=r"delivered_at\['a'\] must be a sequence"):
        delivery_lag({"a": T0}, {"a": T0 + 1.0}, _run())  # type: ignore[dict-item]


def test_a_run_without_phase_marks_is_refused() -> None:
    with pytest.raises(ValueError, match="the run has no baseline mark"):
        delivery_lag({}, {}, Run(loads={}, probes=None))
    with pytest.raises(KeyError, match=r"no phase 'settle'.*phases: \['baseline'"):
        _lag([]).phase("settle")


# -- the verdict ---------------------------------------------------------------------------------


def _outage(back_at: float, peak: float = 4.0) -> list[tuple[float, float | None]]:
    """Baseline lag 20 ms; lag grows through the fault up to `peak`; in recovery it stays at
    1 s until `back_at` seconds after recovery began, then 20 ms again."""
    messages: list[tuple[float, float | None]] = _steady(0.0, 3.0, 0.02)
    messages += [(at, 0.1 + (peak - 0.1) * (at - 3.0) / 3.9) for at, _ in _steady(3.0, 7.0, 0)]
    messages += _steady(7.0, 7.0 + back_at, 1.0) + _steady(7.0 + back_at, 10.0, 0.02)
    return messages


def test_lag_recovered_states_the_peak_and_when_it_was_back() -> None:
    verdict = check_lag_recovered(_lag(_outage(back_at=1.8)), under_s=0.5, within_s=2.0)
    assert verdict.passed and not verdict.inconclusive
    assert verdict.reason == (
        "during the fault, delivery lag peaked at 4 s (p99 4 s, 40 messages); "
        "it was back under 0.5 s 1.8 s after recovery began (allowed 2 s)"
    )
    assert verdict.figures["back_under_after_s"] == pytest.approx(1.8)
    assert verdict.figures["fault_peak_s"] == pytest.approx(4.0)
    assert verdict.figures["baseline_p99_s"] == 0.02
    assert verdict.figures["recovery_accepted"] == 30


def test_long_lags_read_in_whole_seconds() -> None:
    verdict = check_lag_recovered(_lag(_outage(1.0, peak=17.64)), under_s=0.5, within_s=2.0)
    assert verdict.reason.startswith("during the fault, delivery lag peaked at 18 s (p99 18 s,")
    assert verdict.figures["fault_peak_s"] == 17.64


def test_lag_never_over_the_bound_in_recovery() -> None:
    verdict = check_lag_recovered(_lag(_outage(back_at=0.0)), under_s=0.5, within_s=1.0)
    assert verdict.passed
    assert verdict.reason.endswith("it was under 0.5 s from the start of recovery (allowed 1 s)")
    assert verdict.figures["back_under_after_s"] == 0.0


def test_lag_back_too_late_fails_naming_the_message() -> None:
    verdict = check_lag_recovered(_lag(_outage(back_at=2.5)), under_s=0.5, within_s=2.0)
    assert not verdict.passed and not verdict.inconclusive
    assert "it was back under 0.5 s only 2.5 s after recovery began (allowed 2 s)" in verdict.reason
    assert verdict.reason.endswith("a message accepted 2.4 s into recovery took 1 s")


def test_lag_still_high_or_a_message_lost_at_the_end_fails() -> None:
    high = check_lag_recovered(_lag(_outage(back_at=3.0)), under_s=0.5, within_s=2.0)
    assert not high.passed and high.figures["back_under_after_s"] is None
    assert "not back under 0.5 s by the end of the run" in high.reason
    assert high.reason.endswith("accepted 2.9 s into recovery, took 1 s")
    lost = check_lag_recovered(_lag([*_outage(0.0), (9.95, None)]), under_s=0.5, within_s=2.0)
    assert not lost.passed
    assert lost.reason.endswith("accepted 2.9 s into recovery, was never delivered")


def test_a_fault_with_too_few_messages_is_inconclusive_naming_the_phase() -> None:
    messages = [m for m in _outage(0.0) if not 3.0 <= m[0] < 6.5]  # 5 left in the fault
    verdict = check_lag_recovered(_lag(messages), under_s=0.5, within_s=1.0)
    assert verdict.inconclusive and not verdict.passed
    assert verdict.reason.startswith("phase 'fault' has 5 accepted messages, need >= 10")
    assert verdict.figures == {"fault_messages": 5, "min_samples": 10}


def test_too_little_recovery_after_the_bound_is_inconclusive_naming_the_phase() -> None:
    verdict = check_lag_recovered(_lag(_outage(back_at=0.4)), under_s=0.5, within_s=2.45)
    assert verdict.inconclusive and not verdict.passed
    assert verdict.reason.startswith(
        "phase 'recovery' has 5 messages accepted later than 2.45 s after it began, need >= 10"
    )
    assert verdict.figures["back_under_after_s"] == pytest.approx(0.4)
    # Enough once the bar is lowered: the same data then passes.
    assert check_lag_recovered(_lag(_outage(0.4)), under_s=0.5, within_s=2.45, min_samples=5).passed


def test_a_fault_in_which_nothing_was_delivered_says_so() -> None:
    messages = [(at, None if 3.0 <= at < 7.0 else lag) for at, lag in _outage(0.0)]
    verdict = check_lag_recovered(_lag(messages), under_s=0.5, within_s=1.0)
    assert verdict.passed  # the recovery is what is judged; the peak is reported
    assert verdict.reason.startswith("during the fault, none of the 40 messages accepted was")


def test_the_settle_phase_counts_as_fault() -> None:
    marks = {"baseline": 0.0, "settle": 3.0, "fault": 4.0, "recovery": 7.0, "end": 10.0}
    messages = [(3.5, 9.0), *_steady(4.0, 7.0, 0.2), *_steady(7.0, 10.0, 0.02)]
    verdict = check_lag_recovered(_lag(messages, marks), under_s=0.5, within_s=1.0)
    assert verdict.figures["fault_peak_s"] == 9.0 and verdict.figures["fault_accepted"] == 31


def test_assert_lag_recovered_raises_and_publishes() -> None:
    seen: list[object] = []
    with observe(seen.append):
        ok = assert_lag_recovered(_lag(_outage(1.0)), under_s=0.5, within_s=2.0)
        with pytest.raises(NotRecovered, match="lag_recovered: during the fault"):
            assert_lag_recovered(_lag(_outage(2.5)), under_s=0.5, within_s=2.0)
        with pytest.raises(InsufficientData, match="phase 'recovery'"):
            assert_lag_recovered(_lag(_outage(0.4)), under_s=0.5, within_s=2.45)
    verdicts = [v for v in seen if isinstance(v, Verdict)]
    assert ok.passed and [(v.passed, v.inconclusive) for v in verdicts] == [
        (True, False),
        (False, False),
        (False, True),
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"under_s": 0, "within_s": 1.0}, "under_s must be > 0 seconds, got 0"),
        ({"under_s": math.nan, "within_s": 1.0}, "under_s must be > 0 seconds, got nan"),
        ({"under_s": 0.5, "within_s": -1}, "within_s must be >= 0 seconds, got -1"),
        ({"under_s": 0.5, "within_s": 1.0, "min_samples": 0}, "min_samples must be an int >= 1"),
        ({"under_s": 0.5, "within_s": 1.0, "min_samples": 2.5}, "min_samples must be an int"),
    ],
)
def test_verdict_arguments_are_validated(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check_lag_recovered(_lag(_outage(0.0)), **kwargs)  # type: ignore[arg-type]


def test_a_lag_without_fault_or_recovery_is_refused() -> None:
    lag = _lag([(1.0, 0.1)], {"baseline": 0.0, "end": 3.0})
    with pytest.raises(ValueError, match="has no fault or recovery phase"):
        check_lag_recovered(lag, under_s=0.5, within_s=1.0)
