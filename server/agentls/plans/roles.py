"""Roles: the same agent loop with a different system prompt and tool set, kept as data.

A role is a markdown template in ``agentls/agent/prompts/roles/<name>.md`` with a small header::

    ---
    tools: str_replace_based_edit_tool, search, list_files, submit_plan
    read_only: true
    ---
    You are agentls in plan mode ... `{workspace}` ... {memory}

``tools`` names the standard tools the role may use (``run_command`` only when it is enabled in
the settings) plus any extra tool the caller brings (``submit_plan``); ``read_only`` makes every
write tool refuse. Adding a role means adding a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from agentls.agent.memory import MemoryFile
from agentls.agent.tools.base import Tool
from agentls.agent.tools.registry import ToolRegistry, default_registry
from agentls.config import ToolsSettings
from agentls.errors import AgentlsError

ROLE_NAMES = ("architect", "coder", "tester")


@dataclass(frozen=True)
class Role:
    name: str
    template: str
    tools: tuple[str, ...]
    read_only: bool

    def system(self, workspace: Path, memory: list[MemoryFile]) -> str:
        """The system prompt: byte-identical for every step of a plan (so prompt caching reuses it)."""
        sections = "".join(
            f"\n<project-instructions path=\"{m.path}\">\n{m.text.strip()}\n</project-instructions>\n" for m in memory
        )
        if sections:
            sections = "\nThe project's own instructions for agents (follow them):\n" + sections
        return self.template.format(workspace=workspace, memory=sections).rstrip() + "\n"

    def registry(self, settings: ToolsSettings, extra: list[Tool] | None = None) -> ToolRegistry:
        """The role's tools: the standard ones it names (as configured), then ``extra``."""
        standard = [tool for tool in default_registry(settings) if tool.name in self.tools]
        return ToolRegistry([*standard, *[tool for tool in extra or [] if tool.name in self.tools]])


def parse_role(name: str, text: str) -> Role:
    """A role from its file's text (the ``---`` header, then the template)."""
    header: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end == -1:
            raise AgentlsError(f"role {name}: the header has no closing '---'")
        for line in text[4:end].splitlines():
            key, sep, value = line.partition(":")
            if sep:
                header[key.strip()] = value.strip()
        body = text[end + 5:]
    tools = tuple(t.strip() for t in header.get("tools", "").split(",") if t.strip())
    read_only = header.get("read_only", "false").lower() in ("true", "yes", "1")
    return Role(name, body, tools, read_only)


@cache
def load_role(name: str) -> Role:
    if name not in ROLE_NAMES:
        raise AgentlsError(f"unknown role {name!r} (roles: {', '.join(ROLE_NAMES)})")
    text = resources.files("agentls.agent").joinpath("prompts", "roles", f"{name}.md").read_text(encoding="utf-8")
    return parse_role(name, text)
