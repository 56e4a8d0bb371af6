"""An agent session over the workspace whose edits collect in an overlay, validated before anyone sees them.

The caller decides what happens to the overlay: the headless CLI commits it to disk, the language
server turns it into proposals. Nothing here knows which one called. Inline edits, fixes and tasks
differ only in their first message, the buffers they start from and the files in play.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agentls.agent.events import AgentEvent
from agentls.agent.memory import load_memory
from agentls.agent.outputs import Output, collect
from agentls.agent.overlay import Overlay
from agentls.agent.prompts import system_prompt
from agentls.agent.server_tools import CODE_EXECUTION_NOTE
from agentls.agent.session import AgentSession, SessionResult
from agentls.agent.tools.base import ToolContext
from agentls.agent.tools.registry import ToolRegistry, default_registry
from agentls.agent.tools.remember import RememberTool
from agentls.agent.workspace import Workspace
from agentls.config import ModelSettings, Settings
from agentls.providers.base import Provider
from agentls.store.audit import AuditLog
from agentls.store.db import Store
from agentls.syntax.validate import SyntaxIssue
from agentls.workflows.checkpointing import open_checkpoints
from agentls.workflows.validation import introduced, repair_prompt

if TYPE_CHECKING:
    from agentls.checkpoints import Checkpoints


def make_provider(settings: ModelSettings) -> Provider:
    """The configured provider (imports the SDK only now: it is slow to import)."""
    from agentls.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings)


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


class _Checkpointer:
    """The session's checkpoint hook for tools: opens the history on first use only."""

    def __init__(self, root: Path, settings: Settings, store: Store | None, session_id: str) -> None:
        self.root, self.settings, self.store, self.session_id = root, settings, store, session_id
        self._checkpoints: Checkpoints | None = None

    def __call__(self, paths: Sequence[str] | None, trigger: str) -> object:
        if self._checkpoints is None:
            self._checkpoints = open_checkpoints(self.root, self.settings.checkpoints, self.store)
        summary = "after a command the agent ran" if trigger == "command" else "before writing the agent's edits"
        return self._checkpoints.checkpoint(None if paths is None else list(paths), trigger=trigger,
                                            session_id=self.session_id, summary=summary)

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()


async def run_with_repair(session: AgentSession, overlay: Overlay, first_message: str,
                          rounds: int) -> tuple[SessionResult, dict[str, list[SyntaxIssue]]]:
    """Run the session; while its change introduces syntax errors, send them back (``rounds`` times)."""
    result = await session.run(first_message)
    found: dict[str, list[SyntaxIssue]] = {}
    for round_ in range(rounds + 1):
        if not result.ok:
            break
        found = introduced(overlay.changes())
        if not found or round_ == rounds:
            break
        texts = {path: overlay.read(path) for path in found}
        result = await session.follow_up(repair_prompt(found, texts))
    return result, found


async def run_task(
    *,
    root: Path,
    instruction: str,
    settings: Settings,
    provider: Provider,
    store: Store | None = None,
    audit: AuditLog | None = None,
    on_event: Callable[[AgentEvent], None] | None = None,
    files_in_play: Iterable[str] = (),
    buffers: Mapping[str, str] | None = None,
    first_message: str | None = None,
    kind: str = "task",
    session_id: str | None = None,
    system: str | None = None,
    tools: ToolRegistry | None = None,
    read_only: bool = False,
    commit_before_commands: bool = False,
    overlay: Overlay | None = None,
) -> TaskOutcome:
    """Run an agent session; ``buffers`` (path -> text) are the editor's open documents.

    ``system`` and ``tools`` replace the default system prompt and tool set (a plan's roles);
    ``read_only`` makes write tools refuse (plan mode); ``commit_before_commands`` lets
    ``run_command`` write the pending edits to disk first (callers that write them anyway);
    ``overlay``: an empty overlay over ``root`` to collect the edits in (one that records commits, say)."""
    session_id = session_id or uuid.uuid4().hex[:12]
    if overlay is None:
        overlay = Overlay(Workspace(root, settings.tools.deny, settings.tools.max_file_bytes))
    workspace = overlay.workspace
    for path, text in (buffers or {}).items():
        overlay.seed(path, text)
    files = list(files_in_play)
    checkpointer = _Checkpointer(workspace.root, settings, store, session_id) \
        if settings.checkpoints.enabled else None
    context = ToolContext(workspace=workspace, overlay=overlay, settings=settings.tools,
                          session_id=session_id, audit=audit, checkpoint=checkpointer, read_only=read_only,
                          commit_before_commands=commit_before_commands)
    remember = RememberTool() if tools is None and kind in ("task", "run") else None
    if tools is None:
        tools = default_registry(settings.tools)
        if remember is not None:
            tools = ToolRegistry([*tools, remember])
    system = system or system_prompt(workspace.root, load_memory(workspace.root, files))
    if "code_execution" in settings.tools.server:
        system += CODE_EXECUTION_NOTE
    session = AgentSession(
        session_id=session_id, provider=provider, context=context, settings=settings, tools=tools, system=system,
        store=store, on_event=on_event,
    )
    if store is not None:
        store.start_session(session_id, str(workspace.root), kind, instruction, settings.model.name)
    status, summary = "cancelled", ""
    try:
        result, issues = await run_with_repair(session, overlay, first_message or instruction,
                                               settings.agent.repair_rounds)
        status, summary = result.status, result.summary or result.error
        outputs = await collect(provider, result.produced, overlay, settings.tools.max_file_bytes) \
            if result.ok else []
        return TaskOutcome(session_id, result, overlay, issues, list(remember.notes) if remember else [], outputs)
    finally:
        if checkpointer is not None:
            checkpointer.close()
        if store is not None:
            store.end_session(session_id, status, summary)
