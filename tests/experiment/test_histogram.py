"""Tests for chaos.experiment._histogram."""

from __future__ import annotations

import json

import pytest

from chaos.experiment._histogram import LatencyHistogram


def test_percentiles_in_milliseconds_within_hdr_precision() -> None:
    h = LatencyHistogram()
    for ms in range(1, 101):  # 1..100 ms
        h.record(ms / 1000.0)
    assert h.count == 100
    assert h.p50 == pytest.approx(50.0, rel=1e-3)
    assert h.p90 == pytest.approx(90.0, rel=1e-3)
    assert h.p99 == pytest.approx(99.0, rel=1e-3)
    assert h.max == pytest.approx(100.0, rel=1e-3)
    assert h.min == pytest.approx(1.0, rel=1e-3)
    assert h.mean == pytest.approx(50.5, rel=1e-3)


def test_microsecond_resolution() -> None:
    h = LatencyHistogram()
    h.record(0.000_007)
    assert h.p50 == pytest.approx(0.007)


def test_values_above_ten_minutes_are_clamped_and_counted() -> None:
    h = LatencyHistogram()
    h.record(0.010)
    h.record(3600.0)
    assert h.count == 2
    assert h.clamped == 1
    assert h.max == pytest.approx(600_000.0, rel=1e-3)


def test_zero_is_recorded_and_negative_or_nan_is_rejected() -> None:
    h = LatencyHistogram()
    h.record(0.0)
    assert h.count == 1
    with pytest.raises(ValueError, match=r"-0\.5"):
        h.record(-0.5)
    with pytest.raises(ValueError, match="nan"):
        h.record(float("nan"))


def test_empty_histogram_refuses_figures_but_serializes() -> None:
    h = LatencyHistogram()
    with pytest.raises(ValueError, match="empty"):
        _ = h.p99
    with pytest.raises(ValueError, match="empty"):
        _ = h.mean
    d = h.to_dict()
    assert d["count"] == 0
    assert d["p99_ms"] is None
    json.dumps(d)


def test_percentile_bounds_are_validated() -> None:
    h = LatencyHistogram()
    h.record(0.001)
    with pytest.raises(ValueError, match="101"):
        h.percentile(101)


def test_merge_adds_counts_and_clamps() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    for _ in range(10):
        a.record(0.001)
    for _ in range(10):
        b.record(1.0)
    b.record(10_000.0)
    assert a.merge(b) is a
    assert a.count == 21
    assert a.clamped == 1
    assert a.p50 == pytest.approx(1000.0, rel=1e-3)
    assert b.count == 11  # the source is unchanged
    with pytest.raises(TypeError, match="dict"):
        a.merge({})  # type: ignore[arg-type]


def test_copy_is_independent() -> None:
    a = LatencyHistogram()
    a.record(0.002)
    c = a.copy()
    c.record(0.004)
    assert (a.count, c.count) == (1, 2)


def test_to_dict_is_json_ready_with_ms_figures() -> None:
    h = LatencyHistogram()
    for ms in (5, 10, 20):
        h.record(ms / 1000.0)
    d = json.loads(json.dumps(h.to_dict()))
    assert d["count"] == 3
    assert d["p50_ms"] == pytest.approx(10.0, rel=1e-3)
    assert d["max_ms"] == pytest.approx(20.0, rel=1e-3)
    assert set(d) >= {"p90_ms", "p99_ms", "p99.9_ms", "mean_ms", "min_ms", "clamped"}
