"""Message ids in SQLite, pending or done, so a restarted worker still deduplicates."""

import sqlite3
import time
from typing import Literal

State = Literal["pending", "done"]


class ProcessedIds:
    """A persistent record of message ids: pending before their push, done after (one thread).

    Each write is committed in WAL mode with ``synchronous=NORMAL``: it survives a crash of the
    process (SIGKILL included), which is what the record guards against, but not a power loss
    or an OS crash, which may roll back the last commits.

    A database of the older schema (``processed(message_id, at)``, written only after a push)
    is migrated in place: a ``state`` column is added, and its rows are done.
    """

    def __init__(self, path: str) -> None:
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A commit is in the WAL file when it returns, so a killed process loses none;
            # NORMAL only defers the fsync (what a power loss needs) to checkpoints.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS processed (message_id TEXT PRIMARY KEY, at REAL,"
                " state TEXT NOT NULL DEFAULT 'done')"
            )
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(processed)")}
            if "state" not in columns:
                # The old schema recorded an id only once pushed: its rows are done.
                self._db.execute(
                    "ALTER TABLE processed ADD COLUMN state TEXT NOT NULL DEFAULT 'done'"
                )
        except sqlite3.Error as exc:
            raise RuntimeError(
                f"cannot open the worker database at {path!r}: {exc}; check WORKER_DB_PATH"
            ) from exc

    def state(self, message_id: str) -> State | None:
        """Return "pending", "done", or None for an id never recorded."""
        row = self._db.execute(
            "SELECT state FROM processed WHERE message_id = ?", (message_id,)
        ).fetchone()
        return None if row is None else row[0]

    def begin(self, message_id: str) -> None:
        """Record the id as pending, before its push (a done id stays done)."""
        self._db.execute(
            "INSERT OR IGNORE INTO processed (message_id, at, state) VALUES (?, ?, 'pending')",
            (message_id, time.time()),
        )

    def mark(self, message_id: str) -> None:
        """Record the id as done, after its push."""
        self._db.execute(
            "INSERT INTO processed (message_id, at, state) VALUES (?, ?, 'done')"
            " ON CONFLICT (message_id) DO UPDATE SET state = 'done', at = excluded.at",
            (message_id, time.time()),
        )

    def close(self) -> None:
        """Close the database."""
        self._db.close()
