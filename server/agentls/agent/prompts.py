"""The system prompt: a template in the package plus the project's memory files.

Built once per session and byte-identical on every turn, so prompt caching can reuse it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from agentls.agent.memory import MemoryFile


def template(name: str) -> str:
    return resources.files("agentls.agent").joinpath("prompts", name).read_text(encoding="utf-8")


def system_prompt(workspace: Path, memory: list[MemoryFile], role: str = "system.md") -> str:
    sections = "".join(
        f"\n<project-instructions path=\"{m.path}\">\n{m.text.strip()}\n</project-instructions>\n"
        for m in memory
    )
    if sections:
        sections = "\nThe project's own instructions for agents (follow them):\n" + sections
    return template(role).format(workspace=workspace, memory=sections).rstrip() + "\n"
