"""``agentls.edit``, ``agentls.task``, ``agentls.cancel``, ``agentls.usage``, ``agentls.accept``,
``agentls.reject``, ``agentls.answer``: parse, delegate, answer.

Edit and task return ``{sessionId}`` at once; the session runs as an asyncio task (``lsp/agent.py``)
reporting ``$/progress``, and its result arrives as proposals.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agentls.errors import AgentlsError, InvalidRequest
from agentls.lsp.agent import SessionRequest
from agentls.lsp.convert import from_range
from agentls.lsp.server import AgentLanguageServer
from agentls.workflows.inline_edit import EditTarget, edit_prompt

if TYPE_CHECKING:
    from agentls.lsp.handlers.commands import Handler


def _headline(instruction: str) -> str:
    """The instruction's first line as a title: at most 60 characters, cut at a word ("…")."""
    from agentls.agent.events import shorten

    return shorten(instruction.strip().splitlines()[0], 60)


async def edit(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, str]:
    from agentls.lsp.params import EditParams, parse  # pydantic: kept off the start-up path

    params = parse(EditParams, "agentls.edit", raw)
    if not params.instruction.strip():
        raise InvalidRequest("agentls.edit needs an 'instruction' (what should the agent do with the selection?)")
    doc = ls.state.documents.get(params.uri)
    if doc is None:
        raise InvalidRequest(f"agentls.edit: {params.uri} is not open in the editor")
    if params.version is not None and params.version != doc.version:
        raise AgentlsError(f"the document changed since the selection was made (version {params.version}, "
                           f"now {doc.version}); select the code again")
    rel = ls.agent.relative(params.uri)
    from lsprotocol import types

    rng = types.Range(types.Position(params.range.start.line, params.range.start.character),
                      types.Position(params.range.end.line, params.range.end.character))
    start, end = from_range(doc.lines, rng, ls.position_encoding)
    target = EditTarget(path=rel, text=doc.text, start=start, end=end, instruction=params.instruction)
    title = f"agentls: {_headline(params.instruction)}"
    session_id = ls.agent.start(SessionRequest("edit", title, params.instruction, edit_prompt(target), [rel],
                                               edit=target))
    return {"sessionId": session_id}


async def task(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, str]:
    from agentls.lsp.params import TaskParams, parse  # pydantic: kept off the start-up path

    params = parse(TaskParams, "agentls.task", raw)
    if not params.instruction.strip():
        raise InvalidRequest("agentls.task needs an 'instruction' (what should the agent do?)")
    files = [ls.agent.relative(uri) for uri in params.uris]
    message = params.instruction
    if files:
        message += "\n\nFiles the user pointed at: " + ", ".join(f"`{f}`" for f in files)
    title = f"agentls task: {_headline(params.instruction)}"
    session_id = ls.agent.start(SessionRequest("task", title, params.instruction, message, files))
    return {"sessionId": session_id}


async def cancel(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, bool]:
    from agentls.lsp.params import CancelParams, parse  # pydantic: kept off the start-up path

    params = parse(CancelParams, "agentls.cancel", raw)
    return {"cancelled": ls.agent.cancel(params.session_id)}


async def usage(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    from agentls.lsp.params import UsageParams, parse  # pydantic: kept off the start-up path

    params = parse(UsageParams, "agentls.usage", raw)
    workspace = None if params.all_workspaces else str(ls.agent.root)
    store = await asyncio.to_thread(ls.runtime.store)  # opening and reading SQLite stays off the loop
    sessions = await asyncio.to_thread(store.sessions, workspace, limit=params.limit)
    rows = [{"sessionId": s.session_id, "kind": s.kind, "instruction": s.instruction, "model": s.model,
             "started": s.started, "ended": s.ended, "status": s.status, "turns": s.turns,
             "inputTokens": s.input_tokens, "outputTokens": s.output_tokens,
             "cacheWriteTokens": s.cache_write_tokens, "cacheReadTokens": s.cache_read_tokens,
             "costUsd": round(s.cost_usd, 6)} for s in sessions]
    return {"sessions": rows, "totalCostUsd": round(sum(s.cost_usd for s in sessions), 6)}


async def answer(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, bool]:
    from agentls.lsp.params import AnswerParams, parse  # pydantic: kept off the start-up path

    params = parse(AnswerParams, "agentls.answer", raw)
    return {"accepted": ls.questions.answer(params.question_id, params.option_id)}


async def accept(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, list[str]]:
    return await ls.review.accept(raw)


async def proposals(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, Any]:
    return ls.review.proposals(raw)


async def reject(ls: AgentLanguageServer, raw: dict[str, Any]) -> dict[str, list[str]]:
    return await ls.review.reject(raw)


HANDLERS: dict[str, Handler] = {
    "agentls.edit": edit,
    "agentls.task": task,
    "agentls.cancel": cancel,
    "agentls.usage": usage,
    "agentls.accept": accept,
    "agentls.reject": reject,
    "agentls.proposals": proposals,
    "agentls.answer": answer,
}
