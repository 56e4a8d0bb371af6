"""The API's own tools (``tools.server``): web search, web fetch and code execution.

Anthropic runs them inside the turn; their calls and results arrive as blocks of the assistant turn
(``server_tool_use`` and ``*_tool_result``), which the transcript keeps verbatim (``OpaqueBlock``).
Here: their definitions (the current versions, called directly by the model rather than from code),
what a result says in one line for progress and the session summary, what they cost beyond tokens,
and the files code execution wrote to its output directory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentls.agent.events import ServerToolFinished
from agentls.providers.base import AssistantBlock, Block, OpaqueBlock, Usage

#: $10 per 1,000 searches (Pricing: "Web search"); web fetch costs only its tokens.
WEB_SEARCH_USD = 10.0 / 1_000

DEFINITIONS: dict[str, dict[str, Any]] = {
    "web_search": {"type": "web_search_20260318", "name": "web_search", "max_uses": 5,
                   "allowed_callers": ["direct"]},
    "web_fetch": {"type": "web_fetch_20260318", "name": "web_fetch", "max_uses": 10,
                  "allowed_callers": ["direct"]},
    "code_execution": {"type": "code_execution_20260521", "name": "code_execution"},
}


#: Added to the system prompt when code execution is on: how a file reaches the user.
CODE_EXECUTION_NOTE = (
    "\n\nCode execution runs in Anthropic's sandbox, not in the user's workspace: it cannot see the user's "
    "files unless you pass their content, and its files reach the user only if you save them in $OUTPUT_DIR. "
    "Each such file is offered to the user as a new file in the workspace. Only text files can be offered: "
    "write tables as CSV and charts as SVG."
)


def definitions(enabled: Iterable[str]) -> list[dict[str, Any]]:
    """The tool definitions for the enabled server tools, in a fixed order (the prompt prefix)."""
    wanted = set(enabled)
    return [dict(definition) for name, definition in DEFINITIONS.items() if name in wanted]


def cost_usd(usage: Usage) -> float:
    """What the server tools of a turn cost beyond its tokens (code execution time is billed by the
    container hour outside the usage the API reports, and is free alongside the web tools)."""
    return usage.web_search_requests * WEB_SEARCH_USD


@dataclass(frozen=True)
class ProducedFile:
    """A file code execution left in its output directory (downloadable with the Files API)."""

    file_id: str
    tool_use_id: str


def _calls(blocks: Sequence[AssistantBlock]) -> dict[str, Mapping[str, Any]]:
    return {str(b.data.get("id")): b.data for b in blocks if isinstance(b, OpaqueBlock) and b.type == "server_tool_use"}


def _describe(call: Mapping[str, Any] | None, result: Mapping[str, Any]) -> tuple[str, bool]:
    """One line for a server tool's result, and whether it failed."""
    args = call.get("input", {}) if call else {}
    content = result.get("content")
    error = isinstance(content, Mapping) and str(content.get("type", "")).endswith("_error")
    code = content.get("error_code") if isinstance(content, Mapping) else None
    kind = str(result.get("type"))
    if kind == "web_search_tool_result":
        what = f"web search {args.get('query', '')!r}"
        found = f"{len(content)} result(s)" if isinstance(content, list) else f"failed ({code})"
        return f"{what}: {found}", error
    if kind == "web_fetch_tool_result":
        return f"fetched {args.get('url', 'a page')}" + (f": failed ({code})" if error else ""), error
    if kind in ("bash_code_execution_tool_result", "code_execution_tool_result"):
        command = args.get("command") or args.get("code") or ""
        exit_code = content.get("return_code") if isinstance(content, Mapping) else None
        shown = command if len(command) <= 60 else command[:59] + "…"
        status = f"failed ({code})" if error else f"exit {exit_code}"
        return f"ran `{shown}` in the sandbox: {status}", error or bool(exit_code)
    if kind == "text_editor_code_execution_tool_result":
        return f"{args.get('command', 'edit')} {args.get('path', '')} in the sandbox".strip(), error
    return kind.removesuffix("_tool_result").replace("_", " "), error


def finished(blocks: Sequence[AssistantBlock], turn: Sequence[AssistantBlock] = ()) -> Iterator[ServerToolFinished]:
    """A ``ServerToolFinished`` event for every server tool result in ``blocks``; their calls are looked up
    in ``turn`` too (a paused turn's call gets its result in the continuation)."""
    calls = {**_calls(turn), **_calls(blocks)}
    for block in blocks:
        if isinstance(block, OpaqueBlock) and block.type.endswith("_tool_result"):
            call = calls.get(str(block.data.get("tool_use_id")))
            summary, failed = _describe(call, block.data)
            name = str(call.get("name")) if call else block.type.removesuffix("_tool_result")
            yield ServerToolFinished(str(block.data.get("tool_use_id")), name, summary, failed)


def produced_files(blocks: Iterable[Block]) -> list[ProducedFile]:
    """The files code execution produced in these blocks (``bash_code_execution_output`` entries)."""
    files: list[ProducedFile] = []
    for block in blocks:
        if not (isinstance(block, OpaqueBlock) and block.type.endswith("code_execution_tool_result")):
            continue
        content = block.data.get("content")
        outputs = content.get("content") if isinstance(content, Mapping) else None
        for output in outputs if isinstance(outputs, list) else []:
            if isinstance(output, Mapping) and output.get("file_id"):
                files.append(ProducedFile(str(output["file_id"]), str(block.data.get("tool_use_id"))))
    return files
