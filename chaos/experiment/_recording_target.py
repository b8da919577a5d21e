"""A load target that gives every request an id and remembers what the system accepted.

The ids are what a ledger check matches against the system's own delivery records:

    target = recording_target("POST", f"{web}/orders", json=lambda rid: {"order_id": rid})
    run = experiment(plan, {"orders": (target, 20)}, fault=...)
    check_ledger(target.accepted, delivered_ids(), target.unknown).assert_ok()
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import httpx

from chaos.experiment._targets import HttpTarget, RequestFailed, check_status, classify

__all__ = ["RecordingTarget", "recording_target"]

Body = Callable[[str], Any]


class RecordingTarget(HttpTarget):
    """An `HttpTarget` whose every request carries a fresh id (in the body, a header, or both).

    `accepted`: ids the system answered 2xx to (it promised to act on them), with the wall-clock
    time of that answer in `accepted_at` (what delivery lag is measured from). `unknown`: ids
    whose fate the client cannot know: the request timed out or broke after it was sent, or the
    answer was one of `unknown_statuses` (a gateway timeout: the work may have been done).
    A refused connection never reached the system, so its id is neither.
    """

    def __init__(
        self,
        method: str,
        url: str,
        *,
        json: Body | None = None,
        id_header: str | None = None,
        id_prefix: str | None = None,
        unknown_statuses: Collection[int] = (504,),
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        if json is None and id_header is None:
            raise ValueError(
                "recording_target needs json=(lambda request_id: body) or id_header=..., or the "
                "system never sees the ids it is checked against"
            )
        if json is not None and not callable(json):
            raise TypeError(f"json must be a callable taking the request id, got {json!r}")
        super().__init__(None, method, url, headers=headers, timeout=timeout)
        self.body = json
        self.id_header = id_header
        self.unknown_statuses = frozenset(unknown_statuses)
        # Random, not id(self): CPython reuses a freed target's address, so the next test's
        # target repeated its ids, and a system that deduplicates dropped them as "lost".
        self.prefix = id_prefix or f"r{os.getpid()}-{secrets.token_hex(4)}"
        self.accepted: set[str] = set()
        self.accepted_at: dict[str, float] = {}
        self.unknown: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    async def __call__(self) -> None:
        """Send one request with a new id; record what became of it."""
        request_id = f"{self.prefix}-{next(self._ids)}"
        headers = dict(self.headers or {})
        if self.id_header is not None:
            headers[self.id_header] = request_id
        body = self.body(request_id) if self.body is not None else None
        client = self._own_client()
        try:
            response = await client.request(self.method, self.url, json=body, headers=headers)
        except asyncio.CancelledError:
            # Cut at the load's deadline (timeout from its scheduled start) or by stop(): it may
            # have been sent and acted on, so a delivery of it is no surprise.
            self._note(self.unknown, request_id)
            raise
        except httpx.HTTPError as exc:
            kind = classify(exc)
            if kind != "refused":
                self._note(self.unknown, request_id)
            raise RequestFailed(kind, f"{self.method} {self.url}: {exc!r}") from exc
        if response.is_success:
            with self._lock:
                self.accepted.add(request_id)
                self.accepted_at[request_id] = time.time()
            return
        if response.status_code in self.unknown_statuses:
            self._note(self.unknown, request_id)
        check_status(self.method, self.url, response.status_code)

    def _note(self, ids: set[str], request_id: str) -> None:
        with self._lock:
            ids.add(request_id)


recording_target = RecordingTarget
"""Build a `RecordingTarget` (see there): the lower-case name, like `http_target`."""
