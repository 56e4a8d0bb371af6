"""Session events in the store: one row per event, in order, as JSON (``agent.events.SessionEvent``).

Rows are written by ``runtime.recorder`` (in batches, off the session's thread) and read by replay and
the dashboard (``store/overview.py``). A row may be written again under the same ``(session_id, seq)``
(a text run that grows): ``INSERT OR REPLACE`` gives it a new rowid, which the dashboard's polling sees.
"""

from __future__ import annotations

import json
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentls.secrets import redact
from agentls.store.db import Store

#: Rows deleted per transaction when pruning (a long delete must not hold the database).
PRUNE_CHUNK = 5_000


@dataclass(frozen=True)
class StoredEvent:
    session_id: str
    seq: int
    time: float
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class EventRow:
    """One event to write (``EventStore.write``)."""

    session_id: str
    seq: int
    time: float
    kind: str
    data: dict[str, Any]


def encode(data: dict[str, Any]) -> str:
    """The stored JSON of an event's data, redacted (``agentls.secrets``)."""
    return redact(json.dumps(data, ensure_ascii=False, default=str))


class EventStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def append(self, session_id: str, seq: int, time: float, kind: str, data: dict[str, Any]) -> None:
        self.write([EventRow(session_id, seq, time, kind, data)])

    def write(self, rows: Sequence[EventRow]) -> None:
        """Write ``rows`` in one transaction (a row with the seq of a stored one replaces it)."""
        if not rows:
            return
        values = [(r.session_id, r.seq, r.time, r.kind, encode(r.data)) for r in rows]
        with self.store.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO session_events (session_id, seq, time, kind, data) "
                           "VALUES (?, ?, ?, ?, ?)", values)

    def last_seq(self, session_id: str) -> int:
        """The highest seq stored for the session (-1: none), for a recorder that meets it again."""
        rows = self.store.fetch("SELECT MAX(seq) FROM session_events WHERE session_id = ?", (session_id,))
        value = rows[0][0] if rows else None
        return -1 if value is None else int(value)

    def events(self, session_id: str, after_seq: int = -1, limit: int | None = None) -> list[StoredEvent]:
        """The session's events with ``seq > after_seq``, in order (at most ``limit``)."""
        rows = self.store.fetch("SELECT session_id, seq, time, kind, data FROM session_events WHERE session_id = ? "
                                "AND seq > ? ORDER BY seq LIMIT ?",
                                (session_id, after_seq, -1 if limit is None else limit))
        return [StoredEvent(row[0], row[1], row[2], row[3], json.loads(row[4])) for row in rows]

    def prune(self, retention_days: float, now: float | None = None) -> int:
        """Delete the events older than ``retention_days`` (in chunks); returns how many went."""
        cutoff = (clock.time() if now is None else now) - retention_days * 86_400
        deleted = 0
        while True:
            with self.store.transaction() as db:
                count = db.execute("DELETE FROM session_events WHERE rowid IN (SELECT rowid FROM session_events "
                                   "WHERE time < ? LIMIT ?)", (cutoff, PRUNE_CHUNK)).rowcount
            deleted += count
            if count < PRUNE_CHUNK:
                return deleted
