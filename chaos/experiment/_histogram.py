"""HDR latency histogram: record seconds, read percentiles in milliseconds."""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["LatencyHistogram"]

_LOWEST_US = 1
_HIGHEST_US = 600_000_000  # 10 minutes
_SIGNIFICANT_DIGITS = 3
_REPORTED_PERCENTILES = (50.0, 90.0, 99.0, 99.9)


class LatencyHistogram:
    """Latencies at microsecond resolution from 1 µs to 10 min, 3 significant digits.

    Values above 10 minutes are recorded as 10 minutes and counted in `clamped`, never raised:
    a stalled request must still show up in the tail.
    """

    def __init__(self) -> None:
        self._hdr = HdrHistogram(_LOWEST_US, _HIGHEST_US, _SIGNIFICANT_DIGITS)
        self.clamped = 0

    def record(self, seconds: float) -> None:
        """Record one latency given in seconds."""
        if not seconds >= 0:  # also rejects NaN
            raise ValueError(
                f"latency must be >= 0 seconds, got {seconds!r}; "
                "a negative latency means the clock went backwards"
            )
        micros = round(seconds * 1_000_000)
        if micros > _HIGHEST_US:
            micros = _HIGHEST_US
            self.clamped += 1
        self._hdr.record_value(micros)

    @property
    def count(self) -> int:
        """Number of recorded values."""
        return int(self._hdr.get_total_count())

    def percentile(self, p: float) -> float:
        """Value at percentile `p` (0..100), in milliseconds."""
        if not 0.0 <= p <= 100.0:
            raise ValueError(f"percentile must be within 0..100, got {p!r}")
        self._require_values(f"p{p:g}")
        return float(self._hdr.get_value_at_percentile(p)) / 1000.0

    @property
    def p50(self) -> float:
        """Median in ms."""
        return self.percentile(50.0)

    @property
    def p90(self) -> float:
        """90th percentile in ms."""
        return self.percentile(90.0)

    @property
    def p99(self) -> float:
        """99th percentile in ms."""
        return self.percentile(99.0)

    @property
    def max(self) -> float:
        """Largest recorded value in ms (HDR-equivalent, within 0.1 %)."""
        self._require_values("max")
        return float(self._hdr.get_max_value()) / 1000.0

    @property
    def min(self) -> float:
        """Smallest recorded value in ms."""
        self._require_values("min")
        return float(self._hdr.get_min_value()) / 1000.0

    @property
    def mean(self) -> float:
        """Mean in ms."""
        self._require_values("mean")
        return float(self._hdr.get_mean_value()) / 1000.0

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        """Add every value of `other` into this histogram; returns self."""
        if not isinstance(other, LatencyHistogram):
            raise TypeError(f"can only merge a LatencyHistogram, got {type(other).__name__}")
        self._hdr.add(other._hdr)
        self.clamped += other.clamped
        return self

    def copy(self) -> LatencyHistogram:
        """An independent copy."""
        return LatencyHistogram().merge(self)

    def to_dict(self) -> dict[str, Any]:
        """Count and summary figures in ms, JSON-ready (figures are None when empty)."""
        out: dict[str, Any] = {"count": self.count, "clamped": self.clamped}
        empty = self.count == 0
        out["min_ms"] = None if empty else self.min
        out["mean_ms"] = None if empty else round(self.mean, 3)
        for p in _REPORTED_PERCENTILES:
            out[f"p{p:g}_ms"] = None if empty else self.percentile(p)
        out["max_ms"] = None if empty else self.max
        return out

    def _require_values(self, what: str) -> None:
        if self.count == 0:
            raise ValueError(f"cannot compute {what} of an empty histogram; check `count` first")

    def __repr__(self) -> str:
        if self.count == 0:
            return "LatencyHistogram(count=0)"
        return (
            f"LatencyHistogram(count={self.count}, p50={self.p50:.3f}ms, "
            f"p99={self.p99:.3f}ms, max={self.max:.3f}ms)"
        )
