"""Processed message ids in SQLite, so a restarted worker still deduplicates."""

import sqlite3
import time


class ProcessedIds:
    """A persistent set of message ids that were pushed and acked (used by one thread)."""

    def __init__(self, path: str) -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS processed (message_id TEXT PRIMARY KEY, at REAL)"
            )
        except sqlite3.Error as exc:
            raise RuntimeError(
                f"cannot open the worker database at {path!r}: {exc}; check WORKER_DB_PATH"
            ) from exc

    def seen(self, message_id: str) -> bool:
        """Whether this id was processed before."""
        row = self._db.execute("SELECT 1 FROM processed WHERE message_id = ?", (message_id,))
        return row.fetchone() is not None

    def mark(self, message_id: str) -> None:
        """Record the id as processed."""
        self._db.execute("INSERT OR IGNORE INTO processed VALUES (?, ?)", (message_id, time.time()))

    def close(self) -> None:
        """Close the database."""
        self._db.close()
