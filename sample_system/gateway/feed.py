"""A small deterministic feed computed locally: the endpoint that never touches notifications."""

import hashlib
from typing import Any

FEED_SIZE = 10


def build_feed(user_id: str) -> list[dict[str, Any]]:
    """Return the same ten posts for the same user, with no I/O."""
    items = []
    for rank in range(FEED_SIZE):
        digest = hashlib.sha256(f"{user_id}:{rank}".encode()).hexdigest()
        items.append(
            {
                "post_id": f"post-{digest[:12]}",
                "author": f"user-{int(digest[12:16], 16) % 1000}",
                "score": int(digest[16:20], 16) % 500,
                "rank": rank,
            }
        )
    return items
