"""What an agent session reports while it runs (rendered by the CLI and as LSP ``$/progress``)."""

from __future__ import annotations

from dataclasses import dataclass

from agentls.providers.base import Retrying, TextDelta, ToolUseStarted, Usage


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
class UsageUpdated:
    turn: Usage
    total: Usage
    cost_usd: float


@dataclass(frozen=True)
class Compacted:
    """Older turns were summarised to stay inside the context window (estimated tokens)."""

    before_tokens: int
    after_tokens: int


AgentEvent = (TurnStarted | TextDelta | ToolUseStarted | Retrying | ToolCalled | ToolFinished | UsageUpdated
              | Compacted)


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
