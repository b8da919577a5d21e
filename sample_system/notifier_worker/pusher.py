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

    ``delivered`` asks the provider whether an event's notification was delivered already.
    With the ``timeouts`` protection off neither call has a timeout (the client's is ignored).
    ``on_call`` runs before each push: what the provider is sent, even when a proxy in between
    answers for it (a status read is not a push, so it is not counted).
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
        if self._on_call is not None:
            self._on_call()
        try:
            response = self._client.post("/push", json=body, timeout=self._timeout())
        except httpx.HTTPError as exc:
            raise PushFailed(f"push of {reaction_id} failed: {exc!r}") from exc
        if 400 <= response.status_code < 500:
            raise PushRejected(f"provider refused {reaction_id}: {response.status_code}")
        if response.status_code != 200:
            raise PushFailed(f"provider answered {response.status_code} for {reaction_id}")

    def delivered(self, event: dict[str, Any]) -> bool:
        """Whether the provider holds a delivery of the event's notification; raises PushFailed."""
        reaction_id = event["reaction_id"]
        path = f"/deliveries/{notification_id_for(reaction_id)}"
        try:
            response = self._client.get(path, timeout=self._timeout())
        except httpx.HTTPError as exc:
            raise PushFailed(f"delivery lookup of {reaction_id} failed: {exc!r}") from exc
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        # Not an answer about the delivery (a proxy's error, a 5xx): still in doubt, try again.
        raise PushFailed(
            f"delivery lookup of {reaction_id}: provider answered {response.status_code}"
        )

    def _timeout(self) -> Any:  # httpx.USE_CLIENT_DEFAULT (its type is private) or None
        return httpx.USE_CLIENT_DEFAULT if self._protections["timeouts"] else None
