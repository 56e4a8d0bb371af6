"""``textDocument/codeAction``: answered at once, never with a model call.

Advertises the kinds agentls offers (quickfix, refactor.rewrite). The actions themselves are built
by the inline-edit workflow; until the ``agentls.edit`` command can run, none are offered, so a
user never sees an action that can only fail.
"""

from __future__ import annotations

from lsprotocol import types

from agentls.lsp.server import AgentLanguageServer

KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


def register(server: AgentLanguageServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=False),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction | types.Command]:
        return []
