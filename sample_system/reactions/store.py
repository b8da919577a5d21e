"""SQLite storage of reactions and of the outbox of events not yet confirmed by the broker."""

import sqlite3
import threading
import time
from dataclasses import dataclass

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reactions (
    reaction_id TEXT PRIMARY KEY, post_id TEXT NOT NULL, user_id TEXT NOT NULL,
    kind TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, reaction_id TEXT NOT NULL, body BLOB NOT NULL,
    created_at REAL NOT NULL);
"""


@dataclass(frozen=True)
class OutboxRow:
    """One event waiting for the broker."""

    seq: int
    reaction_id: str
    body: bytes


class Store:
    """Thread-safe access to one SQLite file shared by request handlers and the drainer thread."""

    def __init__(self, path: str) -> None:
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a process crash (what experiments inject), no fsync per write.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise RuntimeError(
                f"cannot open the reactions database at {path!r}: {exc}; check REACTIONS_DB_PATH"
            ) from exc
        self._lock = threading.Lock()

    def add_reaction(self, reaction_id: str, post_id: str, user_id: str, kind: str) -> bool:
        """Store a reaction; return False when this reaction_id was already stored."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO reactions VALUES (?, ?, ?, ?, ?)",
                (reaction_id, post_id, user_id, kind, time.time()),
            )
            return cursor.rowcount == 1

    def reaction_count(self) -> int:
        """Return how many reactions are stored."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM reactions").fetchone()[0])

    def outbox_add(self, reaction_id: str, body: bytes) -> None:
        """Append an event to the outbox."""
        with self._lock:
            self._db.execute(
                "INSERT INTO outbox (reaction_id, body, created_at) VALUES (?, ?, ?)",
                (reaction_id, body, time.time()),
            )

    def outbox_head(self) -> OutboxRow | None:
        """Return the oldest event in the outbox, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, reaction_id, body FROM outbox ORDER BY seq LIMIT 1"
            ).fetchone()
        return None if row is None else OutboxRow(row[0], row[1], bytes(row[2]))

    def outbox_delete(self, seq: int) -> None:
        """Remove an event the broker has confirmed."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def outbox_size(self) -> int:
        """Return how many events wait in the outbox."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
