"""The language server, assembled: the composition root of the ``lsp`` front end.

``server.AgentLanguageServer`` holds what the handlers share and knows no handler; each module in
``handlers/`` registers its features on it here, so handlers may import the server (to type their
argument) without the server importing them back.
"""

from __future__ import annotations

from agentls.lsp import dashboard
from agentls.lsp.handlers import (
    agent_commands,
    checkpoint_commands,
    code_actions,
    commands,
    documents,
    lifecycle,
    plan_commands,
)
from agentls.lsp.server import AgentLanguageServer


def create_server() -> AgentLanguageServer:
    server = AgentLanguageServer()
    for module in (lifecycle, documents, code_actions):
        module.register(server)
    commands.register(server, {**agent_commands.HANDLERS, **checkpoint_commands.HANDLERS, **plan_commands.HANDLERS,
                               **dashboard.HANDLERS})
    return server
