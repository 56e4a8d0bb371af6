"""An agent session, run in this process: the session loop, its tools and checkpoints, the repair rounds
for syntax errors it introduced. ``workflows.task.run_task`` sends sessions here (in the agent host, or
in a front end without one)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from agentls.agent.events import AgentEvent, ChangeProposed, CheckpointTaken, FilesWritten, Notice, SessionEnded
from agentls.agent.memory import load_memory
from agentls.agent.outputs import collect
from agentls.agent.overlay import Overlay
from agentls.agent.prompts import system_prompt
from agentls.agent.results import SessionResult
from agentls.agent.server_tools import CODE_EXECUTION_NOTE
from agentls.agent.session import AgentSession
from agentls.agent.tools.base import Tool, ToolContext
from agentls.agent.tools.registry import ToolRegistry, default_registry
from agentls.agent.tools.remember import RememberTool
from agentls.agent.workspace import Workspace
from agentls.errors import AgentlsError
from agentls.mcp.sources import has_workspace_servers
from agentls.plans.roles import load_role
from agentls.runtime import Runtime
from agentls.store.plans import owner_token
from agentls.syntax.validate import SyntaxIssue
from agentls.workflows.task import TaskOutcome, TaskSpec
from agentls.workflows.validation import introduced, prepare_bases, repair_prompt


class _Checkpointer:
    """The session's checkpoint hook for tools, over the runtime's one checkpoint history."""

    def __init__(self, runtime: Runtime, session_id: str, emit: Callable[[AgentEvent], None]) -> None:
        self.runtime, self.session_id, self.emit = runtime, session_id, emit

    def __call__(self, paths: Sequence[str] | None, trigger: str) -> object:
        summary = "after a command the agent ran" if trigger == "command" else "before writing the agent's edits"
        taken = self.runtime.checkpoints_now().checkpoint(None if paths is None else list(paths), trigger=trigger,
                                                          session_id=self.session_id, summary=summary)
        if taken is not None:
            self.emit(CheckpointTaken(taken.id, tuple(taken.files), trigger))
        return taken


async def run_with_repair(session: AgentSession, overlay: Overlay, first_message: str, rounds: int,
                          bases: Mapping[str, str] | None = None, images: Sequence[tuple[str, str]] = (),
                          ) -> tuple[SessionResult, dict[str, list[SyntaxIssue]]]:
    """Run the session; while its change introduces syntax errors, send them back (``rounds`` times).
    ``bases`` (path -> text the session starts from) are parsed while the model works, so that the
    changes to them are validated incrementally."""
    preparing = asyncio.create_task(asyncio.to_thread(prepare_bases, bases)) if bases else None
    try:
        result = await session.run(first_message, images)
    finally:
        if preparing is not None:
            await asyncio.gather(preparing, return_exceptions=True)  # a grammar failure only costs speed
    found: dict[str, list[SyntaxIssue]] = {}
    for round_ in range(rounds + 1):
        if not result.ok:
            break
        found = await asyncio.to_thread(introduced, overlay.changes())
        if not found or round_ == rounds:
            break
        texts = {path: overlay.read(path) for path in found}
        result = await session.follow_up(repair_prompt(found, texts))
    return result, found


async def _mcp_tools(runtime: Runtime, session_id: str, emit: Callable[[AgentEvent], None]) -> list[Tool]:
    """The tools of the workspace's MCP servers (starting them if needed); what kept any out is a notice."""
    tools, notices = await runtime.mcp().tools(
        lambda question: runtime.ask(replace(question, session_id=session_id)), session_id)
    for notice in notices:
        emit(Notice(notice))
    return list(tools)


async def run_session(runtime: Runtime, spec: TaskSpec, on_event: Callable[[AgentEvent], None] | None = None, *,
                      tools: ToolRegistry | None = None) -> TaskOutcome:
    """The session itself, in this process. ``tools`` replaces the tool set (the architect's)."""
    settings, store = runtime.settings, runtime.store()
    session_id = spec.session_id or uuid.uuid4().hex[:12]

    def emit(event: AgentEvent) -> None:
        """Everything the session does goes on the runtime's bus, and to the caller's ``on_event``."""
        runtime.events.publish(session_id, event)
        if on_event is not None:
            on_event(event)

    overlay = Overlay(Workspace(runtime.root, settings.tools.deny, settings.tools.max_file_bytes),
                      on_commit=lambda paths: emit(FilesWritten(tuple(paths))))
    workspace = overlay.workspace
    for path, text in spec.buffers.items():
        try:
            overlay.seed(path, text)
        except AgentlsError:  # an open .env or .git/COMMIT_EDITMSG: the agent never sees it, the edit goes on
            continue
    files = list(spec.files_in_play)
    checkpointer = _Checkpointer(runtime, session_id, emit) if settings.checkpoints.enabled else None
    context = ToolContext(workspace=workspace, overlay=overlay, settings=settings.tools,
                          session_id=session_id, audit=runtime.audit(), checkpoint=checkpointer,
                          read_only=spec.read_only, commit_before_commands=spec.commit_before_commands,
                          ask=lambda question: runtime.ask(replace(question, session_id=session_id)))
    if runtime.read_through is not None:
        reader = runtime.read_through
        context.read_through = lambda rel: reader(session_id, rel)
    memory = load_memory(workspace.root, files)
    remember = None
    extra: list[Tool] = []
    if tools is None and (settings.mcp.servers or has_workspace_servers(workspace.root)):
        extra = await _mcp_tools(runtime, session_id, emit)
    if spec.role is not None:
        role = load_role(spec.role)
        system = role.system(workspace.root, memory)
        tools = tools or ToolRegistry([*role.registry(settings.tools), *extra])
    else:
        system = system_prompt(workspace.root, memory)
        if tools is None:
            remember = RememberTool() if spec.kind in ("task", "run") else None
            tools = ToolRegistry([*default_registry(settings.tools), *([remember] if remember else []), *extra])
    if "code_execution" in settings.tools.server:
        system += CODE_EXECUTION_NOTE
    provider = runtime.provider()
    session = AgentSession(
        session_id=session_id, provider=provider, context=context, settings=settings, tools=tools, system=system,
        store=store, on_event=emit,
    )
    store.start_session(session_id, str(workspace.root), spec.kind, spec.instruction, settings.model.name,
                        frontend=runtime.frontend, owner=owner_token())
    status, summary, error = "cancelled", "", ""
    try:
        in_play = {path: spec.buffers[path] for path in files if path in spec.buffers}
        result, issues = await run_with_repair(session, overlay, spec.first_message or spec.instruction,
                                               settings.agent.repair_rounds, in_play, spec.images)
        status, summary, error = result.status, result.summary, result.error
        outputs = await collect(provider, result.produced, overlay, settings.tools.max_file_bytes) \
            if result.ok else []
        for change in overlay.changes():
            emit(ChangeProposed(change.path, change.before, change.after))
        return TaskOutcome(session_id, result, overlay, issues, list(remember.notes) if remember else [], outputs)
    finally:
        store.end_session(session_id, status, summary or error)
        emit(SessionEnded(status, summary, error, session.turns, session.cost))
