"""An agent session over the workspace, asked for from any front end: what it is given (``TaskSpec``),
what it hands back (``TaskOutcome``); ``workflows.run.run_task`` runs it where the runtime runs sessions.

The session's edits collect in an overlay, validated before anyone sees them; the caller decides what
happens to it: the headless CLI commits it to disk, the language server turns it into proposals.
Nothing here knows which one called. Inline edits, fixes and tasks differ only in their first message,
the buffers they start from and the files in play. This module is light on purpose (the language
server imports it; the session machinery, in ``task_session``, loads only where sessions run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentls.agent.outputs import Output
from agentls.agent.overlay import Overlay
from agentls.agent.results import SessionResult

if TYPE_CHECKING:
    from agentls.syntax.issues import SyntaxIssue


@dataclass
class TaskOutcome:
    session_id: str
    result: SessionResult
    overlay: Overlay
    #: Syntax errors the change still introduces after the repair rounds, per file.
    issues: dict[str, list[SyntaxIssue]] = field(default_factory=dict)
    #: Notes the agent proposed for the project's memory (saved only if the user accepts them).
    notes: list[str] = field(default_factory=list)
    #: Files code execution produced: proposed as new files in the overlay, or listed with why not.
    outputs: list[Output] = field(default_factory=list)


@dataclass(frozen=True)
class TaskSpec:
    """What one session is asked to do, and with what: plain data, so that it can travel to the agent host.

    ``buffers`` (path -> text) are the editor's open documents; ``role`` (a plan's coder, tester or
    architect) gives the session that role's system prompt and tools; ``read_only`` makes write tools
    refuse (plan mode); ``commit_before_commands`` lets ``run_command`` write the pending edits to disk
    first (callers that write them anyway; each such write is a ``FilesWritten`` event)."""

    instruction: str
    first_message: str | None = None
    kind: str = "task"
    files_in_play: tuple[str, ...] = ()
    buffers: Mapping[str, str] = field(default_factory=dict)
    session_id: str | None = None
    role: str | None = None
    read_only: bool = False
    commit_before_commands: bool = False
    #: Images the user attached to the request, (media type, base64 data): jpeg, png, gif or webp.
    images: tuple[tuple[str, str], ...] = ()
