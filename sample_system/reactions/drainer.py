"""The outbox drainer: republishes stored events in order once the broker is reachable again."""

import logging
import threading
from concurrent.futures import CancelledError

from sample_system.common.protections import Protections
from sample_system.reactions.publisher import PublishError, Publishing
from sample_system.reactions.settings import PROTECTIONS
from sample_system.reactions.store import Store

log = logging.getLogger(__name__)


class Drainer:
    """Publish the outbox head, delete it only once confirmed; back off exponentially on failure.

    Protections read: ``delete_after_confirm`` (off: the row is deleted before it is published,
    so a failed publish loses it) and ``timeouts`` (off: the wait for a confirm has no limit).
    """

    def __init__(
        self,
        store: Store,
        publisher: Publishing,
        *,
        protections: Protections | None = None,
        backoff_s: float = 0.2,
        backoff_max_s: float = 5.0,
        poll_s: float = 1.0,
        confirm_timeout_s: float = 10.0,
    ) -> None:
        if not 0 < backoff_s <= backoff_max_s:
            raise ValueError(
                f"need 0 < backoff_s <= backoff_max_s, got {backoff_s}, {backoff_max_s}"
            )
        self._store = store
        self._publisher = publisher
        self._protections = protections or Protections(PROTECTIONS)
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._poll_s = poll_s
        self._confirm_timeout_s = confirm_timeout_s
        self._next_backoff_s = backoff_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)

    def start(self) -> None:
        """Start the drainer thread."""
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the drainer thread; rows left in the outbox stay for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def wake(self) -> None:
        """Tell the drainer the outbox has a new row."""
        self._wake.set()

    def drain_once(self) -> float | None:
        """Try to publish the outbox head; return how long to wait before the next try.

        Returns 0 after a confirmed row (go on at once), the backoff after a failure, and
        None when the outbox is empty (wait for a wake-up or the poll period).
        """
        row = self._store.outbox_head()
        if row is None:
            return None
        deleted = not self._protections["delete_after_confirm"]
        if deleted:
            self._store.outbox_delete(row.seq)
        timeout_s = self._confirm_timeout_s if self._protections["timeouts"] else None
        try:
            future = self._publisher.submit(row.reaction_id, row.body, probe=True)
            future.result(timeout=timeout_s)
        except (PublishError, TimeoutError, CancelledError) as exc:
            if not isinstance(exc, PublishError):
                future.cancel()
            delay = self._next_backoff_s
            self._next_backoff_s = min(self._next_backoff_s * 2, self._backoff_max_s)
            log.info(
                "outbox drain of %s failed (%s)%s; next try in %.2fs",
                row.reaction_id,
                exc,
                ", its row already deleted: lost" if deleted else "",
                delay,
            )
            return delay
        if not deleted:
            self._store.outbox_delete(row.seq)
        self._next_backoff_s = self._backoff_s
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delay = self.drain_once()
            except Exception:
                log.exception("outbox drainer error; backing off")
                delay = self._backoff_max_s
            if delay is None:
                self._wake.wait(self._poll_s)
                self._wake.clear()
            elif delay > 0:
                # A wake-up must not cut a backoff short, or a stream of requests would busy-loop.
                self._stop.wait(delay)
