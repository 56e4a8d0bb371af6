"""What an agent session reports while it runs (rendered by the CLI and as LSP ``$/progress``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentls.providers.base import Retrying, TextDelta, ThinkingDelta, ToolUseStarted, Usage


@dataclass(frozen=True)
class TurnStarted:
    turn: int


@dataclass(frozen=True)
class ToolCalled:
    id: str
    name: str
    summary: str


@dataclass(frozen=True)
class ToolFinished:
    id: str
    name: str
    summary: str
    is_error: bool


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


AgentEvent = (TurnStarted | TextDelta | ThinkingDelta | ToolUseStarted | Retrying | ToolCalled | ToolFinished
              | ServerToolFinished | FilesWritten | UsageUpdated | Compacted)


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
