"""What an agent session reports while it runs: one typed stream of events, and the bus that carries it.

The session publishes; front ends subscribe (``EventBus``) and translate: LSP ``$/progress`` and
notifications, the CLI's status line, the store (for the dashboard and replay), and next the ACP agent.
The kinds map one-to-one onto ACP's ``session/update`` kinds, so that agent is a translation:

    TextDelta -> agent_message_chunk      ThinkingDelta -> agent_thought_chunk
    ToolCalled -> tool_call               ToolFinished, ServerToolFinished -> tool_call_update
    ChangeProposed -> tool_call_update with diff content
    ChangeResolved -> tool_call_update (status), once the user reviewed the diff
    UsageUpdated, CheckpointTaken, Compacted, Retrying, CircuitChanged, QuestionAnswered, SessionEnded
        -> extensions (``_meta``)
    Notice -> agent_message_chunk (one line the user sees once)
    (questions themselves are not events: ``Runtime.ask`` puts them to the front end, ACP's
    ``session/request_permission``)

Every event is a frozen dataclass of plain values: it pickles (the agent host sends them to the
server) and serialises to JSON (``as_json``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from agentls.providers.base import CircuitChanged, Retrying, TextDelta, ThinkingDelta, ToolUseStarted, Usage

log = logging.getLogger(__name__)

#: ACP's tool kinds.
ToolKind = Literal["read", "edit", "delete", "move", "search", "execute", "think", "fetch", "other"]


@dataclass(frozen=True)
class TurnStarted:
    turn: int


@dataclass(frozen=True)
class ToolCalled:
    id: str
    name: str
    #: One line for people: "view src/app.py", "search 'TODO'".
    summary: str
    kind: ToolKind = "other"
    input: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Workspace-relative paths the call is about.
    locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolFinished:
    id: str
    name: str
    summary: str
    is_error: bool
    #: What the tool answered the model (cut to ``RESULT_CHARS``).
    content: str = ""


@dataclass(frozen=True)
class ChangeProposed:
    """A file the session changed (in its overlay): its text before and after (None: absent)."""

    path: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ChangeResolved:
    """The user resolved hunks of a proposed change (accepted, rejected, conflict, stale)."""

    path: str
    proposal_id: str
    #: (hunk id, its state now) for each hunk resolved.
    hunks: tuple[tuple[str, str], ...]
    #: No hunk of the proposal is pending any more.
    resolved: bool


@dataclass(frozen=True)
class CheckpointTaken:
    id: str
    paths: tuple[str, ...]
    trigger: str


@dataclass(frozen=True)
class SessionEnded:
    status: str
    summary: str
    error: str
    turns: int
    cost_usd: float


@dataclass(frozen=True)
class ServerToolFinished:
    """A tool the API ran inside the turn (web search, web fetch, code execution) returned."""

    id: str
    name: str
    summary: str
    is_error: bool


@dataclass(frozen=True)
class FilesWritten:
    """The session wrote its pending edits to disk mid-way (before a command it ran)."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class UsageUpdated:
    turn: Usage
    total: Usage
    cost_usd: float


@dataclass(frozen=True)
class Compacted:
    """Older turns were summarised to stay inside the context window (estimated tokens)."""

    before_tokens: int
    after_tokens: int


@dataclass(frozen=True)
class QuestionAnswered:
    """The user (or a front end's flag or default) answered a question (``agentls.questions``)."""

    topic: str
    text: str
    answer: str


@dataclass(frozen=True)
class Notice:
    """One line the user should see once, about the session's setting rather than its work (an MCP server
    that waits for trust or did not start)."""

    text: str


AgentEvent = (TurnStarted | TextDelta | ThinkingDelta | ToolUseStarted | Retrying | CircuitChanged | ToolCalled
              | ToolFinished | ServerToolFinished | FilesWritten | ChangeProposed | ChangeResolved | CheckpointTaken
              | UsageUpdated | Compacted | QuestionAnswered | Notice | SessionEnded)

#: Tool results in events are cut to this many characters (the model gets them whole).
RESULT_CHARS = 4_000


def tool_kind(name: str, params: dict[str, Any]) -> ToolKind:
    command = params.get("command")
    if name == "str_replace_based_edit_tool":
        return "read" if command == "view" else "edit"
    if name in ("search", "list_files", "web_search"):
        return "search"
    if name in ("run_command", "code_execution", "bash_code_execution"):
        return "execute"
    if name == "web_fetch":
        return "fetch"
    if name == "remember":
        return "think"
    return "other"


def tool_called(id: str, name: str, params: dict[str, Any]) -> ToolCalled:
    """The ``ToolCalled`` event for a call: its one-line summary, ACP kind and the paths it names."""
    path = params.get("path")
    locations = (path,) if isinstance(path, str) and path else ()
    return ToolCalled(id, name, describe_call(name, params), tool_kind(name, params), dict(params), locations)


@dataclass(frozen=True)
class SessionEvent:
    """An event on the bus: which session, when, what."""

    session_id: str
    event: AgentEvent
    time: float = dataclasses.field(default_factory=time.time)

    @property
    def kind(self) -> str:
        return type(self.event).__name__

    def as_json(self) -> dict[str, Any]:
        return {"sessionId": self.session_id, "time": self.time, "kind": self.kind,
                "data": dataclasses.asdict(self.event)}


Subscriber = Callable[[SessionEvent], None]


class EventBus:
    """One stream of session events for a process. Subscribers are called in the publisher's thread, in
    order; one that raises is logged and does not stop the others."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, str | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber, session_id: str | None = None) -> Callable[[], None]:
        """Hear every event (or one session's); returns the call that unsubscribes."""
        entry = (subscriber, session_id)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def publish(self, session_id: str, event: AgentEvent) -> None:
        item = SessionEvent(session_id, event)
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber, only in subscribers:
            if only is None or only == session_id:
                try:
                    subscriber(item)
                except Exception:
                    log.exception("a subscriber failed on %s", item.kind)


def describe_call(name: str, params: dict[str, object]) -> str:
    """A short human description of a tool call: "view src/app.py", "search 'TODO'"."""
    command = params.get("command")
    target = params.get("path") or params.get("pattern") or params.get("glob") or ""
    if name == "str_replace_based_edit_tool" and isinstance(command, str):
        return f"{command} {target}".strip()
    if name == "search":
        return f"search {params.get('pattern')!r}"
    if name == "run_command":
        return f"run `{params.get('command')}`"
    if name.startswith("mcp__") and name.count("__") >= 2:  # an MCP server's tool: "git: git_status"
        server, tool = name[5:].split("__", 1)
        return f"{server}: {tool} {target}".strip()
    return f"{name} {target}".strip()


_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")


class ThinkingLine:
    """The model's thinking summary as one short line for a status display.

    Fed the ``ThinkingDelta`` pieces, it answers a new line only when a sentence or line is complete
    (so a front end updates a few times per turn, not on every piece): the latest complete sentence,
    cut at a word to ``width`` characters. ``reset`` at each turn.
    """

    def __init__(self, width: int = 96) -> None:
        self.width = width
        self._pending = ""

    def reset(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> str | None:
        self._pending += text
        parts = _SENTENCE_END.split(self._pending)
        if len(parts) < 2:
            return None
        complete = [part.strip() for part in parts[:-1] if part.strip()]
        self._pending = parts[-1]
        return shorten(complete[-1], self.width) if complete else None


def shorten(text: str, width: int) -> str:
    """``text`` on one line, cut at a word boundary to at most ``width`` characters (with "…")."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    if flat[width - 1] != " ":  # the cut is inside a word: go back to the word's start
        space = cut.rfind(" ")
        cut = cut[:space] if space > width // 2 else cut
    return cut.rstrip(" ,;:") + "…"
