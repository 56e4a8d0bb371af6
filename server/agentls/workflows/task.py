"""A task: an agent session over the workspace whose edits collect in an overlay.

The caller decides what happens to the overlay: the headless CLI commits it to disk, the language
server turns it into proposals. Nothing here knows which one called.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from agentls.agent.events import AgentEvent
from agentls.agent.memory import load_memory
from agentls.agent.overlay import Overlay
from agentls.agent.prompts import system_prompt
from agentls.agent.session import AgentSession, SessionResult
from agentls.agent.tools.base import ToolContext
from agentls.agent.tools.registry import default_registry
from agentls.agent.workspace import Workspace
from agentls.config import ModelSettings, Settings
from agentls.providers.base import Provider
from agentls.store.audit import AuditLog
from agentls.store.db import Store


def make_provider(settings: ModelSettings) -> Provider:
    """The configured provider (imports the SDK only now: it is slow to import)."""
    from agentls.providers.anthropic import AnthropicProvider

    return AnthropicProvider(settings)


@dataclass
class TaskOutcome:
    session_id: str
    result: SessionResult
    overlay: Overlay


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
    kind: str = "task",
) -> TaskOutcome:
    session_id = uuid.uuid4().hex[:12]
    workspace = Workspace(root, settings.tools.deny, settings.tools.max_file_bytes)
    overlay = Overlay(workspace)
    context = ToolContext(workspace=workspace, overlay=overlay, settings=settings.tools,
                          session_id=session_id, audit=audit)
    session = AgentSession(
        session_id=session_id, provider=provider, tools=default_registry(settings.tools), context=context,
        settings=settings, system=system_prompt(workspace.root, load_memory(workspace.root, files_in_play)),
        store=store, on_event=on_event,
    )
    if store is not None:
        store.start_session(session_id, str(workspace.root), kind, instruction, settings.model.name)
    status, summary = "cancelled", ""
    try:
        result = await session.run(instruction)
        status, summary = result.status, result.summary or result.error
        return TaskOutcome(session_id, result, overlay)
    finally:
        if store is not None:
            store.end_session(session_id, status, summary)
