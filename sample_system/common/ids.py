"""Deterministic identifiers shared by the sync and async notification paths."""

import uuid

_NAMESPACE = uuid.UUID("6f1c7c1e-3b1a-4d51-9a4e-6d2b8f0f5a10")


def notification_id_for(reaction_id: str) -> str:
    """Return the notification id of a reaction; both paths agree, so duplicates show."""
    return str(uuid.uuid5(_NAMESPACE, reaction_id))


def recipient_for(post_id: str) -> str:
    """Return who is notified of a reaction: the (synthetic) author of the post."""
    return f"author-of-{post_id}"
