"""The delivery ledger: every successful push, duplicates included."""

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """One recorded push; ``attempt`` counts deliveries of the same notification so far."""

    notification_id: str
    reaction_id: str
    recipient: str
    via: str
    at: float
    attempt: int


class Ledger:
    """An append-only record of deliveries (cleared only by an explicit reset)."""

    def __init__(self) -> None:
        self._deliveries: list[Delivery] = []
        self._per_notification: Counter[str] = Counter()

    def record(
        self, notification_id: str, reaction_id: str, recipient: str, via: str, at: float
    ) -> Delivery:
        """Append a delivery and return it with its attempt number."""
        self._per_notification[notification_id] += 1
        delivery = Delivery(
            notification_id,
            reaction_id,
            recipient,
            via,
            at,
            self._per_notification[notification_id],
        )
        self._deliveries.append(delivery)
        return delivery

    def count(self, notification_id: str) -> int:
        """Return how many deliveries of this notification were recorded (0: none)."""
        return self._per_notification[notification_id]

    def clear(self) -> None:
        """Forget every delivery."""
        self._deliveries.clear()
        self._per_notification.clear()

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``GET /ledger``.

        ``delivered_at`` maps a reaction id to the wall-clock times (time.time()) of its
        deliveries, in order: delivery lag = that time - the time the 202 was received.
        """
        counts = Counter(d.reaction_id for d in self._deliveries)
        delivered_at: dict[str, list[float]] = {}
        for d in self._deliveries:
            delivered_at.setdefault(d.reaction_id, []).append(d.at)
        return {
            "deliveries": [
                {
                    "reaction_id": d.reaction_id,
                    "notification_id": d.notification_id,
                    "recipient": d.recipient,
                    "via": d.via,
                    "at": d.at,
                    "attempt": d.attempt,
                }
                for d in self._deliveries
            ],
            "counts": dict(counts),
            "delivered_at": delivered_at,
        }
