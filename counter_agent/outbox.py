"""The durable local outbox: every event is committed here before anything else happens.

SQLite in WAL mode with ``synchronous=FULL``: a committed event survives a power cut.
Events are sent in order of creation, marked delivered with the server's outcome, and
pruned some days after delivery.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common.events import EdgeEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    outcome TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered_at, seq);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class OutboxError(Exception):
    """The outbox could not store or read events (disk full, corrupt file, ...)."""


@dataclass(frozen=True)
class Pending:
    """An event waiting to be delivered."""

    seq: int
    id: str
    body: dict[str, Any]


class Outbox:
    """A SQLite file of events to send; safe to use from several threads."""

    def __init__(self, path: Path | str, max_bytes: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            if max_bytes is not None:
                # A cap keeps a runaway outbox from filling a small window PC's disk.
                page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
                self._db.execute(f"PRAGMA max_page_count={max(1, max_bytes // page_size)}")
        except sqlite3.Error as err:
            raise OutboxError(f"cannot open outbox {self.path}: {err}") from err

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            with self._lock:
                return self._db.execute(sql, params)
        except sqlite3.Error as err:
            raise OutboxError(f"outbox {self.path}: {err}") from err

    def put(self, event: EdgeEvent) -> None:
        """Commit one event durably (fsync'd before this returns); the same id twice is stored once."""
        body = event.model_dump_json()
        self._run(
            "INSERT OR IGNORE INTO outbox (id, kind, body, created_at) VALUES (?, ?, ?, ?)",
            (str(event.id), event.kind.value, body, datetime.now(UTC).isoformat()),
        )

    def pending(self, limit: int) -> list[Pending]:
        """The oldest undelivered events, at most ``limit``."""
        rows = self._run(
            "SELECT seq, id, body FROM outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [Pending(seq, event_id, json.loads(body)) for seq, event_id, body in rows]

    def mark_delivered(self, outcomes: dict[str, tuple[str, str | None]]) -> None:
        """Record the server's outcome (accepted, duplicate, rejected + reason) for delivered events."""
        now = datetime.now(UTC).isoformat()
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "UPDATE outbox SET delivered_at = ?, outcome = ?, reason = ? WHERE id = ?",
                    [(now, outcome, reason, event_id) for event_id, (outcome, reason) in outcomes.items()],
                )
                self._db.execute("COMMIT")
        except sqlite3.Error as err:
            raise OutboxError(f"outbox {self.path}: {err}") from err

    def note_attempt(self, ids: list[str]) -> None:
        """Count a failed delivery attempt."""
        self._run(
            f"UPDATE outbox SET attempts = attempts + 1 WHERE id IN ({','.join('?' * len(ids))})", tuple(ids)
        )

    def depth(self) -> int:
        """How many events wait for delivery."""
        return int(self._run("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0])

    def rejected(self, limit: int = 100) -> list[tuple[str, str, str | None]]:
        """Events the server refused, kept with the reason (id, kind, reason)."""
        rows = self._run(
            "SELECT id, kind, reason FROM outbox WHERE outcome = 'rejected' ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def prune(self, older_than: timedelta) -> int:
        """Delete events delivered (and accepted or duplicate) longer ago than ``older_than``."""
        cutoff = (datetime.now(UTC) - older_than).isoformat()
        cur = self._run(
            "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?"
            " AND outcome != 'rejected'",
            (cutoff,),
        )
        return cur.rowcount

    def get_value(self, key: str) -> str | None:
        """A cached value (e.g. the roster) kept across restarts."""
        row = self._run("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_value(self, key: str, value: str) -> None:
        """Cache a value across restarts."""
        self._run(
            "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
