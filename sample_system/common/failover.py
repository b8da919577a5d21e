"""Connect to any of several brokers (the nodes of a cluster), starting after the last one used.

A connection that ends most likely ends because its node died: trying that node first again
would wait out its timeout before every reconnect, so each new connection begins with the next
node in the list and goes round it once.
"""

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

T = TypeVar("T")


class BrokersUnreachable(ConnectionError):
    """No broker in the list accepted a connection."""


def _where(url: str) -> str:
    """host:port of an AMQP URL, never its credentials (logs and errors)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5672}"


class Failover:
    """The broker URLs in the order to try them; ``connect`` goes round them once."""

    def __init__(self, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("need at least one broker URL, got none")
        self.urls = tuple(urls)
        self._last: int | None = None  # index of the URL the last connection used

    @property
    def current(self) -> str | None:
        """The URL of the last connection opened, None before the first."""
        return None if self._last is None else self.urls[self._last]

    def order(self) -> list[str]:
        """The URLs to try next: the one after the last used first (the first URL at start)."""
        start = 0 if self._last is None else (self._last + 1) % len(self.urls)
        return [self.urls[(start + i) % len(self.urls)] for i in range(len(self.urls))]

    def connect(self, open_one: Callable[[str], T]) -> T:
        """Open a connection with the first URL of ``order()`` that works; raise if none does."""
        if len(self.urls) == 1:
            # One broker, as before clusters: its own error, unwrapped.
            connection = open_one(self.urls[0])
            self._last = 0
            return connection
        failures: list[str] = []
        for url in self.order():
            try:
                connection = open_one(url)
            except Exception as exc:
                failures.append(f"{_where(url)}: {exc!r}")
                continue
            if failures:
                log.info("failed over to %s (%s)", _where(url), "; ".join(failures))
            self._last = self.urls.index(url)
            return connection
        # The next attempt begins after the first URL tried, not at it again.
        self._last = self.urls.index(self.order()[0])
        raise BrokersUnreachable(
            f"no broker of {len(self.urls)} accepted a connection: {'; '.join(failures)}; "
            "check that the nodes (or their proxies) are up"
        )
