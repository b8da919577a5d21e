"""The worker's delivery records: one JSON line per delivery, in ORDERS_STORE."""

import json
import os
import threading
import time
from pathlib import Path

_lock = threading.Lock()


def record(order_id: str) -> None:
    """Append one delivery (a redelivered order is recorded again)."""
    line = json.dumps({"id": order_id, "at": time.time()}) + "\n"
    with _lock, open(os.environ.get("ORDERS_STORE", "deliveries.jsonl"), "a") as store:
        store.write(line)


def delivered(path: str | os.PathLike[str]) -> list[str]:
    """Every order id recorded in the store at `path`, once per delivery."""
    store = Path(path)
    if not store.exists():
        return []
    return [json.loads(line)["id"] for line in store.read_text().splitlines()]
