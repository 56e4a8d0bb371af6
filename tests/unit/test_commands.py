"""The command registry: every listed command answers, even one whose handler has not landed."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from agentls.lsp.app import create_server
from agentls.lsp.handlers.commands import COMMANDS, REQUEST_FAILED, register
from agentls.lsp.server import AgentLanguageServer


def test_every_listed_command_has_a_real_handler() -> None:
    server = create_server()
    registered = server.protocol.fm.commands
    assert set(COMMANDS) <= set(registered)


async def test_a_listed_command_without_a_handler_says_it_is_not_available() -> None:
    server = AgentLanguageServer()
    register(server, handlers={})
    command = server.protocol.fm.commands["agentls.task"]
    with pytest.raises(JsonRpcException, match=r"agentls\.task is not available in agentls") as info:
        await command({"instruction": "x"})
    assert info.value.code == REQUEST_FAILED


async def test_arguments_must_be_one_object() -> None:
    server = AgentLanguageServer()
    register(server, handlers={})
    with pytest.raises(JsonRpcException, match="one JSON object argument") as info:
        await server.protocol.fm.commands["agentls.usage"]("a", "b")
    assert info.value.code == -32602
