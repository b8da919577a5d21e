"""Run-time failure modes of the push provider and their validation."""

from dataclasses import asdict, dataclass, replace
from typing import Any

from sample_system.common.web import BadRequest

MAX_DELAY_MS = 600_000
MAX_CONCURRENCY = 10_000
FIELDS = ("error_rate", "delay_ms", "status", "concurrency")


@dataclass(frozen=True)
class Faults:
    """What the provider does wrong right now: error fraction, added delay, error status, and
    how many pushes it serves at once (0: no limit; the others wait their turn, like a third
    party that throttles an account)."""

    error_rate: float = 0.0
    delay_ms: int = 0
    status: int = 503
    concurrency: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``GET /admin/faults``."""
        return asdict(self)

    def updated(self, body: dict[str, Any]) -> "Faults":
        """Return a copy with the fields present in ``body`` replaced, or raise BadRequest."""
        unknown = set(body) - set(FIELDS)
        if unknown:
            raise BadRequest(
                f"unknown fault fields {sorted(unknown)}; allowed: {', '.join(FIELDS)}"
            )
        changes: dict[str, Any] = {}
        if "error_rate" in body:
            rate = body["error_rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise BadRequest(f"error_rate must be a number in 0.0..1.0, got {rate!r}")
            changes["error_rate"] = float(rate)
        if "delay_ms" in body:
            delay = body["delay_ms"]
            if isinstance(delay, bool) or not isinstance(delay, int):
                raise BadRequest(f"delay_ms must be an integer, got {delay!r}")
            if not 0 <= delay <= MAX_DELAY_MS:
                raise BadRequest(f"delay_ms must be in 0..{MAX_DELAY_MS}, got {delay}")
            changes["delay_ms"] = delay
        if "status" in body:
            status = body["status"]
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise BadRequest(f"status must be an HTTP error status 400..599, got {status!r}")
            changes["status"] = status
        if "concurrency" in body:
            limit = body["concurrency"]
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise BadRequest(f"concurrency must be an integer, got {limit!r}")
            if not 0 <= limit <= MAX_CONCURRENCY:
                raise BadRequest(
                    f"concurrency must be in 0..{MAX_CONCURRENCY} (0: no limit), got {limit}"
                )
            changes["concurrency"] = limit
        return replace(self, **changes)
