"""One ``session/prompt`` in ask, edit or auto mode: run an agentls session, then write what the user allows.

The session's edits collect in its overlay, validated (tree-sitter, repair rounds) before anyone sees them;
each changed file is then an ``edit`` tool call with its diff. In *edit* mode the client is asked per file
(allow once, allow for the session, reject); in *auto* mode the changes are written at once; in *ask* mode
the session could not write anything. What is allowed is checkpointed first, then written through the
client (``fs/write_text_file``, so open buffers and the editor's undo follow) when it offers that, else by
the workspace layer all or nothing. A file that changed since the agent read it is not written.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from acp import RequestError, helpers
from acp.schema import AllowedOutcome, PermissionOption, ToolCallLocation, ToolCallUpdate

from agentls.acp.updates import change_id, diff_content
from agentls.errors import AgentlsError

if TYPE_CHECKING:
    from agentls.acp.session import AcpSession, Exchange
    from agentls.agent.overlay import FileChange
    from agentls.workflows.task import TaskOutcome

log = logging.getLogger(__name__)

ALLOW, ALWAYS, REJECT = "allow", "always", "reject"
OPTIONS = [PermissionOption(option_id=ALLOW, name="Allow", kind="allow_once"),
           PermissionOption(option_id=ALWAYS, name="Allow for this session", kind="allow_always"),
           PermissionOption(option_id=REJECT, name="Reject", kind="reject_once")]


@dataclass
class Client:
    """What the agent may ask of the client: its connection and what it said it can do."""

    conn: Any
    reads: bool = False
    writes: bool = False


async def ask_to_write(client: Client, session: AcpSession, change: FileChange) -> str:
    """The user's answer for one file: ALLOW, ALWAYS or REJECT (a cancelled request rejects)."""
    path = str(session.root / change.path)
    verb = "Create" if change.before is None else "Delete" if change.after is None else "Edit"
    call = ToolCallUpdate(tool_call_id=change_id(change.path), title=f"{verb} {change.path}", status="pending",
                          kind="delete" if change.after is None else "edit",
                          content=[diff_content(session.root, change.path, change.before, change.after)],
                          locations=[ToolCallLocation(path=path)])
    response = await client.conn.request_permission(session_id=session.id, tool_call=call, options=OPTIONS)
    outcome = response.outcome
    return outcome.option_id if isinstance(outcome, AllowedOutcome) else REJECT


async def _current(client: Client, session: AcpSession, change: FileChange) -> str | None:
    """The file's text now: the client's buffer when it offers reads, else the disk (None: absent)."""
    path = session.root / change.path
    if client.reads:
        try:
            return str((await client.conn.read_text_file(session_id=session.id, path=str(path))).content)
        except RequestError:
            return None if not path.exists() else await asyncio.to_thread(path.read_text, encoding="utf-8")
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except FileNotFoundError:
        return None


async def write_changes(client: Client, session: AcpSession, changes: list[FileChange], exchange: Exchange,
                        summary: str) -> None:
    """Checkpoint, then write ``changes`` (through the client, or all or nothing on disk); report each."""
    from agentls.workflows.checkpointing import guard_write

    fresh = []
    for change in changes:
        if await _current(client, session, change) != change.before:
            _fail(session, change.path, "not written: the file changed since the agent read it")
            exchange.rejected.append(change.path)
        else:
            fresh.append(change)
    if not fresh:
        return
    try:
        taken = await guard_write(session.runtime, [c.path for c in fresh], trigger="edit",
                                  session_id=f"{session.id}-{session.turns}", summary=summary)
        through_client = client.writes and all(c.after is not None for c in fresh)
        if through_client:
            for change in fresh:
                await client.conn.write_text_file(session_id=session.id, path=str(session.root / change.path),
                                                  content=change.after)
        else:
            workspace = workspace_of(session)
            await asyncio.to_thread(workspace.write_all, [(c.path, c.before, c.after) for c in fresh])
    except (AgentlsError, OSError, RequestError) as exc:
        for change in fresh:
            _fail(session, change.path, f"not written: {exc}")
            exchange.rejected.append(change.path)
        return
    meta = {"checkpointId": taken.id} if taken is not None else None
    for change in fresh:
        note = f"written; checkpoint {taken.id} holds the file before (/rollback {taken.id})" if taken else "written"
        update = helpers.update_tool_call(change_id(change.path), status="completed",
                                          content=[helpers.tool_content(helpers.text_block(note))])
        update.field_meta = meta  # the checkpoint, for clients that offer their own rollback
        session.push(update)
        exchange.applied.append(change.path)
    undo = f" (checkpoint {taken.id}: /rollback {taken.id} undoes it)" if taken else ""
    session.push(helpers.update_agent_message_text(
        f"\n\nWritten: {', '.join(c.path for c in fresh)}{undo}."))


def workspace_of(session: AcpSession) -> Any:
    from agentls.agent.workspace import Workspace

    settings = session.runtime.settings
    return Workspace(session.root, settings.tools.deny, settings.tools.max_file_bytes)


def _fail(session: AcpSession, path: str, why: str) -> None:
    session.push(helpers.update_tool_call(change_id(path), status="failed",
                                          content=[helpers.tool_content(helpers.text_block(why))]))


async def resolve(client: Client, session: AcpSession, outcome: TaskOutcome, exchange: Exchange) -> None:
    """Ask about (edit mode) and write (edit, auto) what the session changed."""
    changes = outcome.overlay.changes() if outcome.result.ok else []
    allowed: list[FileChange] = []
    for change in changes:
        if session.mode == "auto" or session.always:
            allowed.append(change)
            continue
        answer = await ask_to_write(client, session, change)
        if answer == ALWAYS:
            session.always = True
        if answer in (ALLOW, ALWAYS):
            allowed.append(change)
        else:
            _fail(session, change.path, "rejected by the user; not written")
            exchange.rejected.append(change.path)
    if allowed:
        await write_changes(client, session, allowed, exchange, exchange.prompt[:200])
    for path, issues in outcome.issues.items():
        session.push(helpers.update_agent_message_text(
            f"\n\n> {path} still has {len(issues)} syntax error(s): {issues[0].message}\n"))
