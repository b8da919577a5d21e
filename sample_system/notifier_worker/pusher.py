"""The worker's synchronous call to the push provider."""

from collections.abc import Callable
from typing import Any

import httpx

from sample_system.common.ids import notification_id_for, recipient_for
from sample_system.common.protections import Protections
from sample_system.notifier_worker.settings import PROTECTIONS


class PushFailed(Exception):
    """The provider failed or was unreachable; worth retrying, and counted by the breaker."""


class PushRejected(Exception):
    """The provider refused the payload (4xx); retrying cannot help."""


class Pusher:
    """POST /push with via="async"; raises PushFailed or PushRejected.

    With the ``timeouts`` protection off the call has no timeout (the client's is ignored).
    ``on_call`` runs before each HTTP call: what the provider is sent, even when a proxy in
    between answers for it.
    """

    def __init__(
        self,
        client: httpx.Client,
        protections: Protections | None = None,
        on_call: Callable[[], object] | None = None,
    ) -> None:
        self._client = client
        self._protections = protections or Protections(PROTECTIONS)
        self._on_call = on_call

    def __call__(self, event: dict[str, Any]) -> None:
        reaction_id = event["reaction_id"]
        body = {
            "notification_id": notification_id_for(reaction_id),
            "reaction_id": reaction_id,
            "recipient": recipient_for(event["post_id"]),
            "via": "async",
        }
        timeout = httpx.USE_CLIENT_DEFAULT if self._protections["timeouts"] else None
        if self._on_call is not None:
            self._on_call()
        try:
            response = self._client.post("/push", json=body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise PushFailed(f"push of {reaction_id} failed: {exc!r}") from exc
        if 400 <= response.status_code < 500:
            raise PushRejected(f"provider refused {reaction_id}: {response.status_code}")
        if response.status_code != 200:
            raise PushFailed(f"provider answered {response.status_code} for {reaction_id}")
