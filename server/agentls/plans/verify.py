"""A step's verification: its command, run exactly as the agent's ``run_command`` runs commands.

Same policy, same sandbox: only when ``tools.run_command.enabled``, only command lines matching
``tools.run_command.allow``, without a shell, under bubblewrap (no network, only the workspace
writable). When command running is off, or the command is not allowed, the step is "not
verified" and the reason is recorded; it is not a failure.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agentls.agent.overlay import Overlay
from agentls.agent.tools.base import ToolContext
from agentls.agent.tools.run_command import RunCommandTool
from agentls.agent.workspace import Workspace
from agentls.config import ToolsSettings
from agentls.store.audit import AuditLog

VerifyStatus = Literal["passed", "failed", "not_verified"]
#: coverage.py / pytest-cov's "TOTAL ... 87%" line.
_COVERAGE = re.compile(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$", re.MULTILINE)
#: go test -cover, c8/nyc/jest's "All files | 87.5 |".
_COVERAGE_OTHER = re.compile(r"(?:coverage:\s+(\d+(?:\.\d+)?)% of statements|^All files\s*\|\s*(\d+(?:\.\d+)?))",
                             re.MULTILINE)


@dataclass(frozen=True)
class Verification:
    status: VerifyStatus
    output: str
    exit_code: int | None = None
    coverage: float | None = None


def coverage_of(output: str) -> float | None:
    """The total coverage a test run printed, when it printed one."""
    found = _COVERAGE.findall(output)
    if found:
        return float(found[-1])
    other = _COVERAGE_OTHER.findall(output)
    if other:
        value = other[-1][0] or other[-1][1]
        return float(value)
    return None


async def verify(command: str, root: Path, settings: ToolsSettings, *, cancel: threading.Event | None = None,
                 audit: AuditLog | None = None, session_id: str = "") -> Verification:
    """Run ``command`` in the sandbox; passed = exit code 0."""
    if not settings.run_command.enabled:
        return Verification("not_verified", "not verified: command running is off "
                                            "(tools.run_command.enabled = false)")
    workspace = Workspace(root, settings.deny, settings.max_file_bytes)
    context = ToolContext(workspace=workspace, overlay=Overlay(workspace), settings=settings, session_id=session_id,
                          audit=audit, cancel=cancel or threading.Event())
    result = await RunCommandTool(settings.run_command.allow).run({"command": command}, context)
    ran = result.ran
    if ran is None:  # refused (not allowed, no sandbox, ...): the reason is the text
        return Verification("not_verified", f"not verified: {result.content}")
    if ran.outcome != "exited":
        return Verification("failed", result.content)
    code = ran.exit_code
    return Verification("passed" if code == 0 else "failed", result.content, code, coverage_of(ran.output))
