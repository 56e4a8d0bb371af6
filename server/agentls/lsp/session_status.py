"""What a running session is doing, as one status a client can show where modes cannot overwrite it.

``SessionStatus`` folds the session's events into the ``agentls/sessionStatus`` payload (state, turn,
activity, thinking line, tokens, cost, end message); ``StatusSender`` sends it, at most ``MAX_PER_S``
times a second (a state change goes at once), never blocking: a send that is too early is scheduled on
the loop, and a retry's wait counts down once a second. Plain Python: no pygls here.
"""

from __future__ import annotations

import asyncio
import math
import posixpath
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agentls.agent.events import (
    AgentEvent,
    Compacted,
    ServerToolFinished,
    ThinkingLine,
    ToolCalled,
    TurnStarted,
    UsageUpdated,
    shorten,
)
from agentls.providers.base import Retrying, ThinkingDelta

State = Literal["running", "done", "failed", "cancelled"]
NOTIFICATION = "agentls/sessionStatus"
MAX_PER_S = 4.0
#: Why a model call is being retried, as people say it (``FailureKind`` -> phrase).
RETRY_REASONS = {
    "overloaded": "the API is overloaded",
    "rate_limit": "the API rate limit was reached",
    "server": "the API had a server error",
    "connection": "the API cannot be reached",
    "timeout": "the API did not answer in time",
    "broken_stream": "the API's answer was cut off",
}


def activity_of(event: ToolCalled) -> str:
    """A tool call as a status line: "reading core.py", "searching 'x'", "running pytest -q"."""
    params = event.input
    path = params.get("path")
    name = posixpath.basename(str(path).rstrip("/")) or str(path) if isinstance(path, str) and path else ""
    if event.kind == "read" and name:
        return f"reading {name}"
    if event.kind == "edit" and name:
        return f"{'creating' if params.get('command') == 'create' else 'editing'} {name}"
    if event.name == "search" and params.get("pattern"):
        return shorten(f"searching {str(params['pattern'])!r}", 60)
    if event.name == "list_files":
        return f"listing {path or 'files'}"
    if event.kind == "execute" and isinstance(params.get("command"), str):
        return shorten(f"running {params['command']}", 60)
    return shorten(event.summary, 60)


def changes_message(count: int, files: int) -> str:
    """The end line: "4 changes proposed in 2 files", or "no changes proposed"."""
    if count == 0:
        return "no changes proposed"
    return (f"{count} change{'' if count == 1 else 's'} proposed in {files} file{'' if files == 1 else 's'}")


@dataclass
class SessionStatus:
    """The ``agentls/sessionStatus`` payload of one session, kept up to date from its events."""

    session_id: str
    title: str
    state: State = "running"
    turn: int = 0
    activity: str = "starting"
    thinking: str = ""
    tokens: int = 0
    cost: float = 0.0
    message: str = ""
    changes: tuple[int, int] = (0, 0)
    #: A retry's wait ends at this monotonic time (the activity counts down to it).
    retry_until: float | None = None
    retry_reason: str = ""
    _line: ThinkingLine = field(default_factory=ThinkingLine)

    def wire(self) -> dict[str, Any]:
        return {"sessionId": self.session_id, "title": self.title, "state": self.state, "turn": self.turn,
                "activity": self.activity, "thinking": self.thinking, "tokens": self.tokens,
                "cost": round(self.cost, 6), "message": self.message,
                "changes": {"count": self.changes[0], "files": self.changes[1]}}

    def feed(self, event: AgentEvent) -> bool:
        """Take in an event; True when what a client shows changed."""
        before = (self.turn, self.activity, self.thinking, self.tokens, self.cost)
        if not isinstance(event, Retrying | UsageUpdated) and self.activity.startswith("retrying"):
            self.retry_until, self.activity = None, "thinking"  # the retried call is streaming
        if isinstance(event, TurnStarted):
            self.turn, self.activity = event.turn, "thinking"
            self._line.reset()
        elif isinstance(event, ThinkingDelta):
            if (line := self._line.feed(event.text)) is not None:
                self.thinking = line
        elif isinstance(event, ToolCalled):
            self.activity = activity_of(event)
        elif isinstance(event, ServerToolFinished):
            self.activity = shorten(event.summary, 60)
        elif isinstance(event, Compacted):
            self.activity = "summarising older turns"
        elif isinstance(event, UsageUpdated):
            total = event.total
            self.tokens = (total.input_tokens + total.cache_creation_input_tokens + total.cache_read_input_tokens
                           + total.output_tokens)
            self.cost = event.cost_usd
        elif isinstance(event, Retrying):
            self._line.reset()  # the failed attempt's half sentence is void
            self.retry_reason = RETRY_REASONS.get(event.kind) or shorten(event.reason, 60)
            self.retry_until = time.monotonic() + event.delay_s
            self.tick()
        return before != (self.turn, self.activity, self.thinking, self.tokens, self.cost)

    def tick(self) -> float | None:
        """Count a retry's wait down (sets the activity); the seconds until the shown number changes."""
        if self.retry_until is None:
            return None
        left = self.retry_until - time.monotonic()
        if left <= 0.05:
            self.retry_until = None
            self.activity = f"retrying now: {self.retry_reason}"
            return None
        shown = math.ceil(left)
        self.activity = f"retrying in {shown} s: {self.retry_reason}"
        return max(left - (shown - 1), 0.05)

    def end(self, state: State, message: str) -> None:
        self.state, self.message, self.retry_until = state, message, None
        if state != "failed":
            self.activity = ""


def count_changes(hunk_counts: Sequence[int]) -> tuple[int, int]:
    """(changes, files) from the hunks of each proposed file."""
    files = [n for n in hunk_counts if n > 0]
    return sum(files), len(files)


class StatusSender:
    """Sends ``status`` through ``send`` at most ``max_per_s`` times a second (a state change at once,
    the latest state always), and counts a retry's wait down, calling ``on_tick`` each second."""

    def __init__(self, status: SessionStatus, send: Callable[[dict[str, Any]], None] | None,
                 on_tick: Callable[[], None] = lambda: None, max_per_s: float = MAX_PER_S) -> None:
        self.status = status
        self._send, self._on_tick = send, on_tick
        self._interval = 1.0 / max_per_s
        self._last = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._ticker: asyncio.TimerHandle | None = None

    def update(self, now: bool = False) -> None:
        """Send the status soon (or ``now``): at most one send per interval, the latest state."""
        if self._send is None:
            return
        elapsed = time.monotonic() - self._last
        if now or elapsed >= self._interval:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval - elapsed, self._flush)

    def count_down(self) -> None:
        """A retry began its wait: update the activity each second until it ends or the session moves on."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        wait = self.status.tick()
        if wait is not None and self.status.state == "running":
            self._ticker = asyncio.get_running_loop().call_later(wait, self._tick)

    def close(self) -> None:
        """The session ended (its status says how): send it now, stop the timers."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.update(now=True)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._last = time.monotonic()
        if self._send is not None:
            self._send(self.status.wire())

    def _tick(self) -> None:
        self._ticker = None
        if self.status.state != "running" or self.status.retry_until is None:
            return
        self.count_down()
        self._on_tick()
        self.update()
