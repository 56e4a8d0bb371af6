"""The tool registry: definitions for the request, and running one assistant turn's tool calls.

``definitions()`` is computed once and returned as fresh copies of byte-identical data on every
call: the ``tools`` list is the start of the prompt, and prompt caching needs it stable.

``run_calls`` runs the calls of one turn: consecutive read-only calls run concurrently; a call
that may write waits for every earlier call and runs alone, so later calls see its effect;
results come back in the model's order, one per call, never an exception (an unknown tool, a
crash or a cancel become error results).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from agentls.agent.tools.base import Tool, ToolContext, ToolResult
from agentls.agent.tools.list_files import ListFilesTool
from agentls.agent.tools.run_command import RunCommandTool
from agentls.agent.tools.search import SearchTool
from agentls.agent.tools.text_editor import TextEditorTool
from agentls.config import ToolsSettings

log = logging.getLogger(__name__)


class ToolCallLike(Protocol):
    """Anything with the three fields of a ``tool_use`` block."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def input(self) -> Mapping[str, Any]: ...


class ToolRegistry:
    """The tools offered to the model, by name, in a fixed order."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool
        self._definitions = json.dumps([tool.definition() for tool in self._tools.values()])

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def definitions(self) -> list[dict[str, Any]]:
        """The Messages API ``tools`` list (a fresh copy, identical content on every call)."""
        definitions: list[dict[str, Any]] = json.loads(self._definitions)
        return definitions

    def is_read_only(self, call: ToolCallLike) -> bool:
        tool = self._tools.get(call.name)
        if tool is None:
            return True
        per_call = getattr(tool, "is_read_only_call", None)
        if per_call is not None:
            return not isinstance(call.input, Mapping) or bool(per_call(call.input))  # bad input runs nothing
        return tool.read_only

    async def run_call(self, call: ToolCallLike, ctx: ToolContext) -> ToolResult:
        """One call, audited; never raises (except ``asyncio.CancelledError``)."""
        tool = self._tools.get(call.name)
        input = call.input if isinstance(call.input, Mapping) else {}
        if tool is None:
            result = ToolResult(
                f"Unknown tool {call.name!r}. Available tools: {', '.join(self._tools)}.", is_error=True
            )
        elif not isinstance(call.input, Mapping):
            result = ToolResult(f"The input of {call.name} must be a JSON object of its parameters, not "
                                f"{_json_kind(call.input)}.", is_error=True)
        elif ctx.cancel.is_set():
            result = ToolResult("Not run: the user cancelled.", is_error=True)
        else:
            try:
                result = await tool.run(input, ctx)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("tool %s failed on call %s", call.name, call.id)
                result = ToolResult(f"{call.name} failed with an internal error: {exc!r}", is_error=True)
        ctx.record("tool_call", tool=call.name, input=dict(input), is_error=result.is_error, call_id=call.id)
        return result

    async def run_calls(self, calls: Sequence[ToolCallLike], ctx: ToolContext) -> list[ToolResult]:
        """Results in the model's order; read-only runs overlap, writes run alone and in order."""
        results: list[ToolResult | None] = [None] * len(calls)
        pending: list[asyncio.Task[None]] = []

        async def one(index: int, call: ToolCallLike) -> None:
            results[index] = await self.run_call(call, ctx)

        try:
            for index, call in enumerate(calls):
                if self.is_read_only(call):
                    pending.append(asyncio.create_task(one(index, call)))
                else:
                    if pending:
                        await asyncio.gather(*pending)
                        pending.clear()
                    await one(index, call)
            if pending:
                await asyncio.gather(*pending)
        finally:
            for task in pending:
                task.cancel()
        return [result if result is not None else ToolResult("Not run.", is_error=True) for result in results]


def default_registry(
    settings: ToolsSettings | None = None, *, max_characters: int | None = None
) -> ToolRegistry:
    """The standard tools: the text editor, search, list_files, and run_command when enabled."""
    settings = settings or ToolsSettings()
    tools: list[Tool] = [TextEditorTool(max_characters), SearchTool(), ListFilesTool()]
    if settings.run_command.enabled:
        tools.append(RunCommandTool(settings.run_command.allow))
    return ToolRegistry(tools)


def _json_kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)
