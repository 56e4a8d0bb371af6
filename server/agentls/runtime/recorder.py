"""Recording the session events of the bus into the store, where sessions run (the agent host, a CLI).

Text and thinking arrive in many small pieces: a run of pieces of one kind is stored as one event
(its text joined), written when something else happens or the session ends, so a replay reads whole
paragraphs and the store holds a row per step, not per token.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from agentls.agent.events import SessionEnded, SessionEvent
from agentls.providers.base import TextDelta, ThinkingDelta
from agentls.store.events import EventStore

log = logging.getLogger(__name__)


class EventRecorder:
    """A bus subscriber that writes each session's events to the store (coalescing text pieces)."""

    def __init__(self, events: EventStore) -> None:
        self.events = events
        self._seq: dict[str, int] = {}
        self._pending: dict[str, tuple[str, float, list[str]]] = {}  # session -> (kind, time, pieces)

    def __call__(self, item: SessionEvent) -> None:
        event = item.event
        if isinstance(event, TextDelta | ThinkingDelta):
            kind = item.kind
            pending = self._pending.get(item.session_id)
            if pending is not None and pending[0] != kind:
                self._flush(item.session_id)
                pending = None
            if pending is None:
                self._pending[item.session_id] = (kind, item.time, [event.text])
            else:
                pending[2].append(event.text)
            return
        self._flush(item.session_id)
        self._write(item.session_id, item.time, item.kind, dataclasses.asdict(event))
        if isinstance(event, SessionEnded):
            self._seq.pop(item.session_id, None)

    def _flush(self, session_id: str) -> None:
        pending = self._pending.pop(session_id, None)
        if pending is not None:
            kind, time, pieces = pending
            self._write(session_id, time, kind, {"text": "".join(pieces)})

    def _write(self, session_id: str, time: float, kind: str, data: dict[str, Any]) -> None:
        seq = self._seq.get(session_id, 0)
        self._seq[session_id] = seq + 1
        try:
            self.events.append(session_id, seq, time, kind, data)
        except Exception:  # a full disk must not end the session
            log.warning("could not record a %s event of session %s", kind, session_id, exc_info=True)
