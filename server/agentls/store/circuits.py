"""The model provider's circuit breakers, as the dashboard's health view shows them.

A breaker lives in the process that runs sessions (an editor's agent host, a CLI, an ACP agent), so no other
process can ask it. Every change is a ``CircuitChanged`` session event, stored like any other: the latest one
of each process that still runs is the state of that process's breaker. It is ``open`` for ``reset_s`` after
it opened, then ``half_open`` (the next turn is a trial); a process that ended took its breaker with it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

from agentls.store.db import Store
from agentls.store.overview import RECENT_S, RECENT_SESSIONS_SQL
from agentls.store.plans import owner_alive


@dataclass(frozen=True)
class Circuit:
    """One live process's breaker, as its latest ``CircuitChanged`` event left it."""

    owner: str
    frontend: str
    state: Literal["open", "half_open", "closed"]
    #: Consecutive failed turns and the last one's kind, when it opened.
    failures: int
    kind: str
    #: When it changed (epoch seconds), by which session, and when an open breaker lets a turn through.
    since: float
    session_id: str
    retry_at: float | None


def circuits(store: Store, now: float | None = None) -> list[Circuit]:
    """The breakers of live processes that changed in the last ``RECENT_S`` (a breaker that opened is half-open
    within seconds), the most recent change first (through ``RECENT_SESSIONS_SQL``, not a scan by kind)."""
    now = time.time() if now is None else now
    rows = store.fetch(
        "SELECT s.owner, s.frontend, e.session_id, e.time, e.data FROM session_events e "
        "JOIN sessions s ON s.id = e.session_id WHERE e.kind = 'CircuitChanged' AND e.time >= ? AND e.session_id "
        f"IN {RECENT_SESSIONS_SQL} ORDER BY e.time", (now - RECENT_S, now - RECENT_S))
    latest = {row[0]: row for row in rows if row[0]}
    found = []
    for owner, frontend, session_id, when, data_json in latest.values():
        if not owner_alive(owner):
            continue
        data = json.loads(data_json)
        opened = data.get("state") == "open"
        retry_at = when + float(data.get("reset_s") or 0.0) if opened else None
        state: Literal["open", "half_open", "closed"] = (
            "closed" if not opened else "open" if retry_at is not None and now < retry_at else "half_open")
        found.append(Circuit(owner, frontend or "", state, int(data.get("failures") or 0), str(data.get("kind") or ""),
                             when, session_id, retry_at))
    return sorted(found, key=lambda c: -c.since)
