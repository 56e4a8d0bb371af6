"""Recording the session events of the bus into the store, where sessions run (the agent host, a CLI).

The subscriber runs on the session's thread, so it only appends to a queue: a writer thread turns the
queue into rows and writes them in one transaction every ``BATCH_S`` (at once when a session ends). A
locked or full database then costs the session nothing (the writer logs one warning and carries on).

Text and thinking arrive in many small pieces: a run of pieces of one kind is one event (its text
joined), so a replay reads whole paragraphs; while the run grows it is written again every ``RUN_S``
under the same seq, so a live dashboard sees the text grow.

Bounded: a session keeps at most ``MAX_EVENTS_PER_SESSION`` events (seqs below it); past that one
``Truncated`` event (seq ``MAX_EVENTS_PER_SESSION``, ``{"dropped": n}``, rewritten as n grows) stands for
the rest, except ``SessionEnded``, always written (after it). Strings longer than ``MAX_STRING``
characters are cut; a ``ChangeProposed`` text may be up to ``MAX_CHANGE_TEXT`` (else null, with
``"too_large": true``). Events older than the retention period are deleted when the recorder starts
(in its thread). ``close`` writes everything left: a CLI exits right after its session (an ``atexit``
hook closes a recorder nobody closed).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from agentls.agent.events import SessionEnded, SessionEvent
from agentls.providers.base import TextDelta, ThinkingDelta
from agentls.store.events import EventRow, EventStore

log = logging.getLogger(__name__)

MAX_EVENTS_PER_SESSION = 10_000
#: Characters of any string in an event's data (more is cut, with a marker).
MAX_STRING = 64 * 1024
#: Characters of a ``ChangeProposed`` before/after text (more: not stored, ``too_large``).
MAX_CHANGE_TEXT = 2 * 1024 * 1024
#: Seconds between batches; and between writes of a growing text run.
BATCH_S = 0.2
RUN_S = 0.5
#: Times a batch that failed to write is tried again with the next ones before it is dropped.
RETRIES = 3


def cut(value: Any) -> Any:
    """``value`` with every string longer than ``MAX_STRING`` cut (in dicts and lists too)."""
    if isinstance(value, str):
        if len(value) <= MAX_STRING:
            return value
        return value[:MAX_STRING] + f"… [{len(value) - MAX_STRING:,} more characters]"
    if isinstance(value, dict):
        return {key: cut(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [cut(item) for item in value]
    return value


def bounded(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event's data as stored: strings cut; a change's texts kept whole up to ``MAX_CHANGE_TEXT``."""
    if kind != "ChangeProposed":
        return {key: cut(item) for key, item in data.items()}
    out = {key: cut(item) for key, item in data.items() if key not in ("before", "after")}
    for key in ("before", "after"):
        text = data.get(key)
        if isinstance(text, str) and len(text) > MAX_CHANGE_TEXT:
            out[key], out["too_large"] = None, True
        else:
            out[key] = text
    return out


@dataclass
class _Run:
    """A run of text (or thinking) pieces: one event, under one seq."""

    seq: int
    kind: str
    time: float
    pieces: list[str]
    written: float  # monotonic time of its last write (or its start)
    dirty: bool = True


@dataclass
class _Session:
    next_seq: int
    run: _Run | None = None
    dropped: int = 0
    dropped_time: float = 0.0
    dropped_dirty: bool = False
    #: Its ``SessionEnded`` was taken: forgotten once its rows are written (a later event reads its last seq).
    ended: bool = False


class _SeqUnknown(Exception):
    """The store could not say where a session's stored events end."""


class EventRecorder:
    """A bus subscriber that writes each session's events to the store, off the session's thread."""

    def __init__(self, events: EventStore, *, retention_days: float | None = None, batch_s: float = BATCH_S,
                 run_s: float = RUN_S, max_events: int = MAX_EVENTS_PER_SESSION) -> None:
        self.events = events
        self.retention_days = retention_days
        self.batch_s, self.run_s, self.max_events = batch_s, run_s, max_events
        self._queue: deque[SessionEvent] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._sessions: dict[str, _Session] = {}  # only the writer thread touches these
        self._retry: dict[tuple[str, int], EventRow] = {}
        self._failures = 0
        self._thread = threading.Thread(target=self._loop, name="agentls-recorder", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def __call__(self, item: SessionEvent) -> None:
        """On the session's thread: queue it (a deque append is atomic), nothing else."""
        self._queue.append(item)
        if isinstance(item.event, SessionEnded):
            self._wake.set()

    def close(self) -> None:
        """Write everything queued (text runs included) and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._stopping = True
        self._wake.set()
        self._thread.join()

    # -- the writer thread --------------------------------------------------------------------------------
    def _loop(self) -> None:
        if self.retention_days is not None:
            try:
                pruned = self.events.prune(self.retention_days)
                if pruned:
                    log.info("deleted %d session events older than %s days", pruned, self.retention_days)
            except Exception:
                log.warning("could not delete old session events", exc_info=True)
        while True:
            self._wake.wait(self.batch_s)
            self._wake.clear()
            final = self._stopping
            try:
                self._write(self._batch(final))
            except Exception:  # a bug here must not stop the recording of later events
                log.exception("the session event recorder failed on a batch")
            if final:
                return

    def _batch(self, final: bool) -> dict[tuple[str, int], EventRow]:
        rows: dict[tuple[str, int], EventRow] = {}
        while self._queue:
            item = self._queue.popleft()
            try:
                self._take(item, rows)
            except _SeqUnknown:
                if final:  # no later batch: without its stored seq, a row would overwrite a stored one
                    log.warning("could not record an event of session %s: the store could not be read",
                                item.session_id)
                    continue
                self._queue.appendleft(item)  # it waits for the next batch, and the events after it too
                break
        now = time.monotonic()
        for session_id, state in list(self._sessions.items()):
            run = state.run
            if run is not None and run.dirty and (final or now - run.written >= self.run_s):
                self._put_run(session_id, run, rows)
                run.written, run.dirty = now, False
            if state.dropped_dirty:
                self._put_truncated(session_id, state, rows)
        return rows

    def _state(self, session_id: str) -> _Session:
        state = self._sessions.get(session_id)
        if state is None:
            # A session met again (an event after its end, e.g. a review): go on after its stored rows.
            try:
                last = self.events.last_seq(session_id)
            except Exception as exc:  # guessing would overwrite the stored events (INSERT OR REPLACE)
                raise _SeqUnknown(session_id) from exc
            state = self._sessions[session_id] = _Session(next_seq=last + 1)
            if last >= self.max_events:
                try:
                    stored = self.events.events(session_id, after_seq=self.max_events - 1, limit=1)
                    state.dropped = int(stored[0].data.get("dropped", 0)) if stored else 0
                except Exception:
                    pass
        return state

    def _take(self, item: SessionEvent, rows: dict[tuple[str, int], EventRow]) -> None:
        state = self._state(item.session_id)
        event = item.event
        if isinstance(event, TextDelta | ThinkingDelta):
            run = state.run
            if run is not None and run.kind != item.kind:
                self._end_run(item.session_id, state, rows)
                run = None
            if run is not None:
                run.pieces.append(event.text)
                run.dirty = True
            elif (seq := self._allocate(state, item, always=False)) is not None:
                state.run = _Run(seq, item.kind, item.time, [event.text], time.monotonic())
            return
        self._end_run(item.session_id, state, rows)
        ended = isinstance(event, SessionEnded)
        seq = self._allocate(state, item, always=ended)
        if seq is not None:
            rows[(item.session_id, seq)] = EventRow(item.session_id, seq, item.time, item.kind,
                                                    bounded(item.kind, dataclasses.asdict(event)))
        state.ended = state.ended or ended

    def _allocate(self, state: _Session, item: SessionEvent, *, always: bool) -> int | None:
        """The next seq, or None past the cap (counted in the ``Truncated`` event)."""
        if state.next_seq < self.max_events:
            seq = state.next_seq
        elif always:
            seq = max(state.next_seq, self.max_events + 1)  # after the Truncated event's seq
        else:
            state.dropped += 1
            state.dropped_time, state.dropped_dirty = item.time, True
            return None
        state.next_seq = seq + 1
        return seq

    def _end_run(self, session_id: str, state: _Session, rows: dict[tuple[str, int], EventRow]) -> None:
        if state.run is not None:
            if state.run.dirty:
                self._put_run(session_id, state.run, rows)
            state.run = None

    @staticmethod
    def _put_run(session_id: str, run: _Run, rows: dict[tuple[str, int], EventRow]) -> None:
        rows[(session_id, run.seq)] = EventRow(session_id, run.seq, run.time, run.kind,
                                               {"text": cut("".join(run.pieces))})

    def _put_truncated(self, session_id: str, state: _Session, rows: dict[tuple[str, int], EventRow]) -> None:
        rows[(session_id, self.max_events)] = EventRow(session_id, self.max_events, state.dropped_time, "Truncated",
                                                       {"dropped": state.dropped})
        state.dropped_dirty = False

    def _write(self, rows: dict[tuple[str, int], EventRow]) -> None:
        if self._retry:
            rows = {**self._retry, **rows}
        if rows:
            self._write_rows(rows)
        if not self._retry:
            for session_id in [key for key, state in self._sessions.items() if state.ended and state.run is None]:
                del self._sessions[session_id]

    def _write_rows(self, rows: dict[tuple[str, int], EventRow]) -> None:
        try:
            self.events.write(list(rows.values()))
        except Exception:  # a full disk or a locked database must not end (or slow) a session
            self._failures += 1
            if self._failures == 1:
                log.warning("could not record %d session events (tried again with the next ones)", len(rows),
                            exc_info=True)
            self._retry = rows if self._failures <= RETRIES else {}
            return
        if self._failures:
            log.info("recording session events again (after %d failed batches)", self._failures)
        self._failures, self._retry = 0, {}
