"""An MCP server's tool as one of the agent's tools: its name, its schema, who may run it, its result.

Names are ``mcp__<server>__<tool>`` (characters the API refuses become ``_``; a name over 64 characters is
cut and given a short hash). Schemas are made acceptable to the Messages API (JSON Schema 2020-12, an
object at the top; a ``$schema`` of another draft is dropped); a schema still invalid leaves the tool out
with one log line, since one bad tool would fail every request. Tools the server annotates read-only run
freely; the others run when an ``mcp.allow`` pattern names them, when the user allowed them for this
session, or after asking (once, or for the session); nobody to ask means not run. In plan mode (read-only
sessions) only read-only tools run.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentls.agent.tools.base import ToolContext, ToolResult
from agentls.mcp.client import ImagePart, RemoteTool, TextPart
from agentls.questions import Option, Question

if TYPE_CHECKING:
    from agentls.mcp.client import Connection

log = logging.getLogger(__name__)

PREFIX = "mcp__"
MAX_NAME = 64
_REFUSED = re.compile(r"[^A-Za-z0-9_-]")
ALLOW_ONCE, ALLOW_SESSION, REJECT = "allow_once", "allow_session", "reject"


def tool_name(server: str, tool: str) -> str:
    """``mcp__<server>__<tool>``, as the API accepts names: ``^[a-zA-Z0-9_-]{1,64}$``."""
    name = f"{PREFIX}{_REFUSED.sub('_', server)}__{_REFUSED.sub('_', tool)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}_{digest}"


def allowed(name: str, server: str, patterns: Sequence[str]) -> bool:
    """Whether an ``mcp.allow`` pattern names the tool (``mcp__git`` alone: every tool of ``git``)."""
    whole = f"{PREFIX}{_REFUSED.sub('_', server)}"
    return any(pattern == whole or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def repaired_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The schema as the API takes it, or None when it cannot be (the tool is then left out)."""
    fixed = {key: value for key, value in schema.items() if key != "$schema"}
    fixed.setdefault("type", "object")
    if fixed.get("type") != "object":
        return None
    try:
        from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # comes with the mcp SDK
        from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

        Draft202012Validator.check_schema(fixed)
    except SchemaError:
        return None
    try:
        plain: dict[str, Any] = json.loads(json.dumps(fixed))
    except (TypeError, ValueError):
        return None
    return plain


def _arguments_line(arguments: Mapping[str, Any], limit: int = 160) -> str:
    text = json.dumps(dict(arguments), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class McpTool:
    """One tool of one server (the ``Tool`` protocol)."""

    def __init__(self, connection: Connection, remote: RemoteTool, schema: dict[str, Any],
                 allow: Sequence[str], max_chars: int) -> None:
        self.connection, self.remote = connection, remote
        self.server = connection.name
        self.name = tool_name(self.server, remote.name)
        self.read_only = remote.read_only
        self._schema, self._allow, self._max_chars = schema, tuple(allow), max_chars

    def definition(self) -> dict[str, Any]:
        description = self.remote.description.strip() or f"The {self.remote.name} tool"
        return {"name": self.name, "description": f"{description}\n\n(MCP server '{self.server}')"[:4_000],
                "input_schema": self._schema}

    async def _approved(self, input: Mapping[str, Any], ctx: ToolContext) -> str | None:
        """None when the call may run, else why not (for the model)."""
        if self.read_only or self.name in ctx.approved_tools or allowed(self.name, self.server, self._allow):
            return None
        if ctx.ask is None:
            return (f"Not run: {self.name} changes things and needs the user's approval, and nobody can be "
                    "asked here. Do without it.")
        question = Question(
            "mcp_tool", f"Allow the MCP tool `{self.remote.name}` of server '{self.server}' to run?",
            (Option(ALLOW_ONCE, "Allow once", "allow_once", "y"),
             Option(ALLOW_SESSION, "Allow for this session", "allow_always", "a"),
             Option(REJECT, "Reject", "reject_once", "n")),
            default=REJECT, detail=f"arguments: {_arguments_line(input)}",
            subject={"server": self.server, "tool": self.remote.name})
        answer = await ctx.ask(question)
        if answer == ALLOW_SESSION:
            ctx.approved_tools.add(self.name)
        if answer in (ALLOW_ONCE, ALLOW_SESSION):
            return None
        return f"Not run: the user declined {self.name}. Do not retry it; carry on without it or ask the user."

    async def run(self, input: Mapping[str, Any], ctx: ToolContext) -> ToolResult:
        if ctx.read_only and not self.read_only:
            return ToolResult(f"Not run: {self.name} may change things, and this session only reads.",
                              is_error=True)
        refused = await self._approved(input, ctx)
        if refused is not None:
            return ToolResult(refused, is_error=True)
        outcome = await self.connection.call(self.remote.name, dict(input))
        texts = [part.text for part in outcome.parts if isinstance(part, TextPart)]
        images = tuple((part.media_type, part.data) for part in outcome.parts if isinstance(part, ImagePart))
        text = "\n".join(texts)
        # Images count against the cap too (the session cuts the text to it, keeping head and tail).
        if sum(len(data) for _, data in images) > self._max_chars:
            text += f"\n[{len(images)} image(s) left out: over the tool-result size limit]"
            images = ()
        ctx.record("mcp_call", server=self.server, tool=self.remote.name, is_error=outcome.is_error,
                   result_chars=len(text), images=len(images))
        return ToolResult(text or ("(no output)" if not images else ""), is_error=outcome.is_error, images=images)
