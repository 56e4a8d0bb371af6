"""The slash commands an ACP client offers (``available_commands_update``): answered here, no model call.

``/usage`` (tokens and cost of this workspace's sessions), ``/checkpoints`` (the newest checkpoints),
``/rollback ID`` (restore one; a safety checkpoint is taken first, so it can be undone in turn), ``/plan``
(the current plan; ``/plan run`` carries it out).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from acp import helpers
from acp.schema import AvailableCommand, AvailableCommandInput, UnstructuredCommandInput

from agentls.errors import AgentlsError

if TYPE_CHECKING:
    from agentls.acp.session import AcpSession

COMMANDS = [
    AvailableCommand(name="checkpoints", description="List the newest checkpoints of this workspace"),
    AvailableCommand(name="rollback", description="Restore a checkpoint (undo the agent's changes since it)",
                     input=AvailableCommandInput(root=UnstructuredCommandInput(hint="checkpoint id"))),
    AvailableCommand(name="usage", description="Tokens and cost of recent sessions in this workspace"),
    AvailableCommand(name="plan", description="Show the plan (plan mode drafts one); /plan run carries it out",
                     input=AvailableCommandInput(root=UnstructuredCommandInput(hint="run"))),
]
NAMES = {command.name for command in COMMANDS}


def available() -> object:
    return helpers.update_available_commands(COMMANDS)


def is_command(text: str) -> bool:
    return text.startswith("/") and text[1:].split(" ", 1)[0] in NAMES


async def answer(session: AcpSession, text: str) -> str:
    """What a command says (one message); raises nothing the user should not see as text."""
    name, _, argument = text[1:].strip().partition(" ")
    argument = argument.strip()
    try:
        if name == "usage":
            return await _usage(session)
        if name == "checkpoints":
            return await _checkpoints(session)
        if name == "rollback":
            return await _rollback(session, argument)
        if name == "plan":
            from agentls.acp.plan import leaves

            if not session.plan:
                return "There is no plan yet: switch to plan mode and describe the change."
            return "\n".join([f"Plan for: {session.plan_instruction}", *(
                f"- [{s.status}] {s.id}. {s.title}" for s in leaves(session.plan))])
    except AgentlsError as exc:
        return f"/{name}: {exc}"
    return f"unknown command /{name}"


async def _usage(session: AcpSession) -> str:
    store = session.runtime.store()
    rows = await asyncio.to_thread(store.sessions, str(session.root), None, 20)
    if not rows:
        return "No sessions yet in this workspace."
    lines = [f"Recent sessions in {session.root}:"]
    tokens = cost = 0.0
    for row in rows:
        used = row.input_tokens + row.output_tokens + row.cache_write_tokens + row.cache_read_tokens
        tokens, cost = tokens + used, cost + row.cost_usd
        lines.append(f"- {row.instruction[:60]!r}: {used:,} tokens, ${row.cost_usd:.4f} ({row.status})")
    lines.append(f"Total: {int(tokens):,} tokens, ${cost:.4f}")
    return "\n".join(lines)


async def _checkpoints(session: AcpSession) -> str:
    checkpoints = await session.runtime.checkpoints()
    found = await asyncio.to_thread(checkpoints.list, 20)
    if not found:
        return "No checkpoints yet in this workspace."
    lines = ["Checkpoints, newest first (undo with /rollback ID):"]
    for c in found:
        when = time.strftime("%H:%M:%S", time.localtime(c.time))
        lines.append(f"- {c.id} {when} {c.trigger}: {c.summary[:80]} ({len(c.files)} file(s))")
    return "\n".join(lines)


async def _rollback(session: AcpSession, checkpoint_id: str) -> str:
    if not checkpoint_id:
        return "Say which checkpoint: /rollback ID (see /checkpoints)."
    checkpoints = await session.runtime.checkpoints()
    result = await asyncio.to_thread(checkpoints.restore, checkpoint_id)
    changed = result.restored + result.deleted + result.created
    return (f"Restored checkpoint {checkpoint_id}: {len(changed)} file(s) changed"
            f"{': ' + ', '.join(changed) if changed else ''}. Undo with /rollback {result.safety_checkpoint}.")
