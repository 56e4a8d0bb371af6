"""Session events in the store: one row per event, in order, as JSON (``agent.events.SessionEvent``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from agentls.secrets import redact
from agentls.store.db import Store


@dataclass(frozen=True)
class StoredEvent:
    session_id: str
    seq: int
    time: float
    kind: str
    data: dict[str, Any]


class EventStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def append(self, session_id: str, seq: int, time: float, kind: str, data: dict[str, Any]) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO session_events (session_id, seq, time, kind, data) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (session_id, seq, time, kind, redact(json.dumps(data, ensure_ascii=False, default=str))))

    def events(self, session_id: str) -> list[StoredEvent]:
        rows = self.store.fetch("SELECT session_id, seq, time, kind, data FROM session_events WHERE session_id = ? "
                                "ORDER BY seq", (session_id,))
        return [StoredEvent(row[0], row[1], row[2], row[3], json.loads(row[4])) for row in rows]
