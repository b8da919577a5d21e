"""Fakes shared by the sample-system unit tests."""


class FakeClock:
    """A monotonic clock that moves only when told, or through its fake sleep."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def httpx_timeouts(seconds: float | None, pool: float | None = None) -> dict[str, float | None]:
    """The ``timeout`` extension httpx gives a request (``pool`` defaults to ``seconds``)."""
    return {
        "connect": seconds,
        "read": seconds,
        "write": seconds,
        "pool": seconds if pool is None else pool,
    }
