"""``textDocument/codeAction``: answered at once, never with a model call.

On a selection: "Edit with agent…", "Document with agent", "Add tests with agent"; on an empty range (the
cursor), "Edit with agent…" for its line; on diagnostics
in range (ours or any server's): "Fix with agent: <message>"; on a pending agent change: accept or
reject it, or every change in the file.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from agentls.lsp.convert import from_range, to_range
from agentls.lsp.server import AgentLanguageServer
from agentls.workflows.inline_edit import ADD_TESTS, DOCUMENT, fix_instruction

KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
REWRITE = types.CodeActionKind.RefactorRewrite
QUICKFIX = types.CodeActionKind.QuickFix


def _range(rng: types.Range) -> dict[str, Any]:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


def _action(title: str, kind: str, command: str, args: dict[str, Any],
            diagnostics: list[types.Diagnostic] | None = None, preferred: bool = False) -> types.CodeAction:
    return types.CodeAction(title=title, kind=kind, diagnostics=diagnostics, is_preferred=preferred or None,
                            command=types.Command(title=title, command=command, arguments=[args]))


def actions(server: AgentLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    doc = server.state.documents.get(uri)
    if doc is None or server.state.root is None:
        return []
    found: list[types.CodeAction] = []
    start, end = from_range(doc.lines, params.range, server.position_encoding)

    # Pending agent changes under the cursor come first: they are what the user is looking at.
    hunks = server.review.hunks_at(uri, start, end)
    for proposal, hunk in hunks:
        one = {"proposalId": proposal.id, "hunkIds": [hunk.id]}
        label = proposal.label(hunk.id)
        if proposal.states[hunk.id] == "conflict":  # the user typed over it: whose lines win
            found.append(_action(f"Take the agent's version ({label})", QUICKFIX, "agentls.accept",
                                 {**one, "force": True}))
            found.append(_action(f"Keep your lines ({label})", QUICKFIX, "agentls.reject", one))
            continue
        found.append(_action(f"Accept change ({label})", QUICKFIX, "agentls.accept", one, preferred=True))
        found.append(_action(f"Reject change ({label})", QUICKFIX, "agentls.reject", one))
    if hunks:
        for proposal in server.review.book.for_uri(uri)[:1]:
            found.append(_action("Accept all agent changes in file", QUICKFIX, "agentls.accept",
                                 {"proposalId": proposal.id}))
            found.append(_action("Reject all agent changes in file", QUICKFIX, "agentls.reject",
                                 {"proposalId": proposal.id}))

    base: dict[str, Any] = {"uri": uri, "range": _range(params.range), "version": doc.version}
    foreign = [d for d in params.context.diagnostics if d.code != "agentls.proposal"]
    for diagnostic in foreign[:3]:
        message = diagnostic.message.strip().splitlines()[0] if diagnostic.message.strip() else "problem"
        where = f"line {diagnostic.range.start.line + 1}"
        source = f" ({diagnostic.source})" if diagnostic.source else ""
        args: dict[str, Any] = {**base, "range": _range(diagnostic.range),
                "instruction": fix_instruction([f"{where}: {message}{source}"])}
        found.append(_action(f"Fix with agent: {message[:60]}", QUICKFIX, "agentls.edit", args, [diagnostic]))
    if len(foreign) > 1:
        lines = [f"line {d.range.start.line + 1}: {d.message.strip()}" for d in foreign]
        found.append(_action("Fix all with agent", QUICKFIX, "agentls.edit",
                             {**base, "instruction": fix_instruction(lines)}, foreign))

    if end > start:
        found.append(_action("Edit with agent…", REWRITE, "agentls.edit", base))
        found.append(_action("Document with agent", REWRITE, "agentls.edit", {**base, "instruction": DOCUMENT}))
        found.append(_action("Add tests with agent", REWRITE, "agentls.edit", {**base, "instruction": ADD_TESTS}))
    elif not hunks and doc.text.strip():
        # An empty range is the cursor (`:'<,'>lua vim.lsp.buf.code_action()` sends no selection): its line.
        line = min(params.range.start.line, doc.lines.line_count - 1)
        first = doc.lines.offset(line, 0, server.position_encoding)
        last = doc.lines.offset(line + 1, 0, server.position_encoding) if line + 1 < doc.lines.line_count \
            else len(doc.text)
        if last > first:
            rng = _range(to_range(doc.lines, first, last, server.position_encoding))
            found.append(_action("Edit with agent…", REWRITE, "agentls.edit", {**base, "range": rng}))
    only = params.context.only
    if only:
        found = [a for a in found if any((a.kind or "").startswith(k) for k in only)]
    return found


def register(server: AgentLanguageServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=False),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return actions(server, params)
